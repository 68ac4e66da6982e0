#pragma once
// The per-core store: memcached's item semantics over log-structured memory.
//
// One Store per core, owned and called by that core only (single-threaded, no
// I/O, no clock: every call is handed `now`, unix seconds). Items are appended
// to segments (segment_pool.h, layout in item.h) and found through a compact
// hash index (hash_index.h). When a new segment is needed and the memory limit
// is reached, the oldest segment is evicted whole (FIFO) and its live items
// are dropped; the same happens when the index is full. An overwrite whose new
// version fits in the old item's space is written in place, so update-heavy
// loads do not fill memory with dead versions; otherwise the new version is
// appended and the old one becomes dead bytes until its segment is evicted.
//
// Time: exptime and flush times are absolute unix seconds (the server converts
// memcached's relative/absolute exptime first); exptime 0 = never, and an item
// is expired once now >= exptime. An expired item reads as missing.
//
// Evictions happen before the operation that needs the room: if making room
// evicts the very item an append, replace, cas or incr was about to change,
// the operation sees it missing (NOT_STORED / NOT_FOUND), exactly as if the
// eviction had come first.
//
// Lifetime of what a read hands back: an ItemView points into a segment. It
// stays valid until the next call that stores an item (set, add, replace,
// append, prepend, cas, incr, decr; those may overwrite bytes or evict
// segments). get, gat, touch, remove, flush_all, reclaim_expired and stats
// never overwrite item bytes nor free segments before the next store call, so
// a multi-get may gather several views and copy them out together.
// Conversely, no argument of a store call may point into this store's memory.

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "components/kv/store/hash_index.h"
#include "components/kv/store/item.h"
#include "components/kv/store/segment_pool.h"
#include "components/kv/store/stats.h"
#include "runtime/result.h"

namespace doppel::kv {

inline constexpr std::uint32_t kItemBytesMaxDefault = 1u << 20;
inline constexpr std::uint32_t kItemBytesLimit = 16u << 20;  // the value length field's width
// The index is sized for items down to this many bytes of memory each.
inline constexpr std::uint64_t kIndexSizingItemBytes = 64;

struct StoreOptions {
  // This core's share of memcached's -m. It bounds the segments only; the
  // index (about 8 bytes an item) comes on top, bounded by index_entries_max.
  std::uint64_t memory_bytes_max = 64ull << 20;
  std::uint32_t segment_bytes = kSegmentBytesDefault;  // a power of two; small in tests
  // The largest item, header + key + value (memcached's -I); <= segment_bytes.
  std::uint32_t item_bytes_max = kItemBytesMaxDefault;
  // 0: memory_bytes_max / kIndexSizingItemBytes.
  std::uint64_t index_entries_max = 0;
  std::uint64_t hash_seed = 0;
};

// invalid_argument naming the option and the limit it breaks.
Status check_options(const StoreOptions& options);

enum class StoreMode : std::uint8_t { set, add, replace, append, prepend, cas };
enum class StoreOutcome : std::uint8_t { stored, not_stored, exists, not_found, too_large };
enum class DeleteOutcome : std::uint8_t { deleted, not_found, exists };
enum class TouchOutcome : std::uint8_t { touched, not_found };
// exists: a meta arithmetic's CAS unique did not match; not_stored: its vivify stored nothing.
enum class ArithOutcome : std::uint8_t { ok, not_found, non_numeric, exists, not_stored };

std::string_view outcome_name(StoreOutcome outcome);

struct ArithResult {
  ArithOutcome outcome = ArithOutcome::not_found;
  std::uint64_t value = 0;    // the new value when ok
  std::uint64_t cas = 0;      // its CAS unique when ok
  std::uint32_t exptime = 0;  // its expiry when ok; 0 = never
};

// See the lifetime rule above.
struct ItemView {
  std::string_view value;
  std::uint32_t client_flags = 0;
  std::uint64_t cas = 0;
};

// --- the meta commands' extras (memcached 1.6 protocol.txt, "Meta Commands"; store_meta.cc).
// Absolute unix seconds for every exptime, as everywhere in the store.

// A condition on a store (ms C and I). add ignores it.
struct StoreCondition {
  std::optional<std::uint64_t> compare_cas;  // store only over an item of this CAS unique
  // With compare_cas: a unique below the item's still stores, and the new version is marked
  // stale, keeps the old expiry and whether a win token was sent (memcached's do_store_item).
  bool invalidate = false;
};

// What a meta get does besides reading (mg's u, T, N and R flags).
struct MetaGetOptions {
  bool mark_fetched = true;                     // not with "u"
  std::optional<std::int64_t> touch_exptime;    // T: as touch (a past one removes the item)
  std::optional<std::int64_t> vivify_exptime;   // N: on a miss, store an empty item, won
  std::optional<std::int64_t> recache_below_s;  // R: a shorter remaining TTL wins the token
};

// An item as a meta get sees it. The view follows ItemView's lifetime rule.
struct MetaItemView {
  ItemView item;
  std::uint32_t exptime = 0;     // after the touch; 0 = never
  std::uint32_t item_bytes = 0;  // the item's footprint in its segment
  bool fetched_before = false;   // h: read before this request
  bool stale = false;            // X
  bool token_was_sent = false;   // Z: a win token went out before this request
  bool won = false;              // W: this request won the recache token
  bool created = false;          // N made the item
};

struct MetaDeleteOptions {
  std::optional<std::uint64_t> compare_cas;  // C
  // I: instead of removing, mark stale with a new CAS unique (the win token may go out again).
  bool invalidate = false;
  std::optional<std::int64_t> touch_exptime;  // T: with invalidate only
};

struct ArithOptions {
  bool increment = true;
  std::uint64_t delta = 1;
  std::optional<std::uint64_t> compare_cas;    // C
  std::optional<std::int64_t> vivify_exptime;  // N: on a miss, store `initial` instead
  std::uint64_t initial = 0;                   // J
  std::optional<std::int64_t> touch_exptime;   // T: on success
};

struct SegmentEviction {
  std::uint32_t segment = 0;             // its slot in the pool
  std::uint64_t items_evicted = 0;       // unexpired live items dropped
  std::uint64_t items_expired = 0;       // expired live items dropped
  std::uint64_t live_bytes_evicted = 0;  // key + value bytes of both
  std::uint64_t dead_bytes_reclaimed = 0;
};

// Told of evictions as they happen (the server records a KvSegmentEvicted
// trace event; tests keep a model in step), and of the memory the store
// takes from the system and gives back, at the two places it does (a fresh
// segment; flush_all returning them all), so that a simulation can measure
// a node's memory without asking the server. The key view lives for the
// call only. A listener must not call back into the store.
class EvictionListener {
 public:
  virtual ~EvictionListener() = default;
  virtual void item_evicted(std::string_view key) = 0;
  virtual void segment_evicted(const SegmentEviction& eviction) { (void)eviction; }
  virtual void segment_allocated(std::uint32_t bytes) { (void)bytes; }
  virtual void segments_released(std::uint64_t bytes) { (void)bytes; }
};

class Store {
 public:
  // The options must pass check_options (asserted).
  explicit Store(const StoreOptions& options);
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // --- reads. A key longer than kKeyBytesMax is simply not there. A hit marks the item
  // fetched (meta get's "h").
  std::optional<ItemView> get(std::string_view key, std::int64_t now);
  TouchOutcome touch(std::string_view key, std::int64_t exptime, std::int64_t now);
  // get + touch: the view is of the item before an exptime in the past removes it.
  std::optional<ItemView> gat(std::string_view key, std::int64_t exptime, std::int64_t now);

  // --- stores. Every stored version gets a new CAS unique. too_large: the item
  // (header + key + value) would exceed item_bytes_max, or the key
  // kKeyBytesMax; a too-large set also removes the old value (as memcached).
  // append/prepend keep the item's flags and exptime (their own are ignored);
  // cas_unique is read by cas only. An exptime already past stores nothing
  // but still replaces (removes) the old version.
  StoreOutcome store(StoreMode mode, std::string_view key, std::string_view value,
                     std::uint32_t client_flags, std::int64_t exptime, std::uint64_t cas_unique,
                     std::int64_t now);
  // With a condition (ms): set, replace, append and prepend compare the CAS unique when one is
  // given: missing is not_found (append, prepend: not_stored), another unique exists (or, with
  // invalidate and a lower unique, stored stale). mode cas is set with compare_cas.
  StoreOutcome store(StoreMode mode, std::string_view key, std::string_view value,
                     std::uint32_t client_flags, std::int64_t exptime,
                     const StoreCondition& condition, std::int64_t now);
  // The CAS unique of the version the last store, incr or decr made (ms c).
  std::uint64_t last_cas() const { return cas_last_; }
  StoreOutcome set(std::string_view key, std::string_view value, std::uint32_t client_flags,
                   std::int64_t exptime, std::int64_t now) {
    return store(StoreMode::set, key, value, client_flags, exptime, 0, now);
  }
  StoreOutcome add(std::string_view key, std::string_view value, std::uint32_t client_flags,
                   std::int64_t exptime, std::int64_t now) {
    return store(StoreMode::add, key, value, client_flags, exptime, 0, now);
  }
  StoreOutcome replace(std::string_view key, std::string_view value, std::uint32_t client_flags,
                       std::int64_t exptime, std::int64_t now) {
    return store(StoreMode::replace, key, value, client_flags, exptime, 0, now);
  }
  StoreOutcome append(std::string_view key, std::string_view value, std::int64_t now) {
    return store(StoreMode::append, key, value, 0, 0, 0, now);
  }
  StoreOutcome prepend(std::string_view key, std::string_view value, std::int64_t now) {
    return store(StoreMode::prepend, key, value, 0, 0, 0, now);
  }
  StoreOutcome cas(std::string_view key, std::string_view value, std::uint32_t client_flags,
                   std::int64_t exptime, std::uint64_t cas_unique, std::int64_t now) {
    return store(StoreMode::cas, key, value, client_flags, exptime, cas_unique, now);
  }

  DeleteOutcome remove(std::string_view key, std::int64_t now);

  // The value must be a decimal unsigned 64-bit number (decimal.h). incr wraps
  // at 2^64, decr stops at 0; the result is stored as decimal text, with a new
  // CAS unique, keeping flags and exptime.
  ArithResult incr(std::string_view key, std::uint64_t delta, std::int64_t now);
  ArithResult decr(std::string_view key, std::uint64_t delta, std::int64_t now);
  // ma: incr or decr, with a CAS condition, a vivify on a miss (the initial value stored and
  // returned, no delta applied) and a new expiry on success. A new value clears the stale and
  // token marks, as any store.
  ArithResult arith(std::string_view key, const ArithOptions& options, std::int64_t now);

  // mg: the item, with what the options did to it (nullopt: a miss, nothing vivified).
  std::optional<MetaItemView> meta_get(std::string_view key, const MetaGetOptions& options,
                                       std::int64_t now);
  // me: the item's metadata, unchanged (not even marked fetched).
  std::optional<MetaItemView> peek(std::string_view key, std::int64_t now);
  // md: deleted (or invalidated), not_found, or exists (compare_cas did not match).
  DeleteOutcome meta_delete(std::string_view key, const MetaDeleteOptions& options,
                            std::int64_t now);

  // Every item stored before `at` is gone once now >= at (at <= now: at once).
  // A later flush_all replaces a pending one, as memcached's oldest_live.
  // When it takes effect, all items are dropped and all segments returned to
  // the system in that one call (O(index + segments)).
  void flush_all(std::int64_t at, std::int64_t now);

  // Evicts the oldest segment now, as when memory runs out (the listener hears
  // of it as of any eviction). False if no segment is in use.
  bool evict_oldest_segment(std::int64_t now);

  // Visits at most slots_max index slots from where the last call stopped and
  // drops the expired items found; returns how many. For a periodic task.
  std::uint64_t reclaim_expired(std::int64_t now, std::uint32_t slots_max);

  StoreStats stats() const;
  const StoreOptions& options() const { return options_; }
  void set_eviction_listener(EvictionListener* listener) { listener_ = listener; }

  // Walks every segment and the index; asserts the balances of stats.h. O(items).
  void check_invariants() const;

  // Every live, unexpired item, oldest segment first (lru_crawler metadump). The views live for
  // the call only; `visit` must not call back into the store. O(segment bytes in use).
  struct LiveItem {
    std::string_view key;
    std::uint32_t value_bytes = 0;
    std::uint32_t exptime = 0;  // unix seconds; 0 = never
    std::uint64_t cas = 0;
  };
  void for_each_live(std::int64_t now, const std::function<void(const LiveItem&)>& visit) const;

 private:
  struct Found {
    IndexSlot slot;
    std::uint32_t location = 0;
    std::byte* item = nullptr;
    ItemRef ref;
  };
  // A decided write: the new version's header and how its value is built,
  // head + (the old value if keep_old) + tail.
  struct Write {
    ItemHeader header;
    std::string_view head;
    bool keep_old = false;
    std::string_view tail;
  };

  void begin(std::int64_t now);
  std::optional<Found> lookup(std::string_view key, std::uint64_t hash, std::int64_t now);
  std::optional<StoreOutcome> decide(StoreMode mode, const std::optional<Found>& found,
                                     std::string_view key, std::string_view value,
                                     std::uint32_t client_flags, std::int64_t exptime,
                                     const StoreCondition& condition, std::int64_t now,
                                     Write& write);
  std::optional<StoreOutcome> check_condition(StoreMode mode, const std::optional<Found>& found,
                                              const StoreCondition& condition, bool& stale);
  MetaItemView meta_view(const Found& found) const;
  // A hit marks the item fetched, in place.
  static void mark_fetched(Found& found);
  void make_room(std::uint64_t hash, std::uint32_t footprint_bytes, std::int64_t now);
  void write_in_place(const Found& found, std::string_view key, const Write& write);
  void write_new(std::string_view key, std::uint64_t hash, const std::optional<Found>& found,
                 const Write& write);
  void unlink(const Found& found, bool expired);
  void evict_oldest(std::int64_t now);
  void drop_everything();
  std::uint64_t hash(std::string_view key) const;
  std::uint64_t next_cas() { return ++cas_last_; }

  StoreOptions options_;
  SegmentPool pool_;
  HashIndex index_;
  StoreStats stats_;
  std::uint64_t cas_last_ = 0;
  std::optional<std::int64_t> flush_at_;  // a pending delayed flush_all
  IndexSlot sweep_cursor_;
  EvictionListener* listener_ = nullptr;
  bool in_listener_ = false;
};

}  // namespace doppel::kv
