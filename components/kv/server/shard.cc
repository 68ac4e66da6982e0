#include "components/kv/server/shard.h"

#include <cctype>

#include "components/kv/protocol/response.h"

namespace doppel::kv {
namespace {

// BUGGIFY sites of a core's store (runtime/buggify.h). Both keep memcached's
// contract: an evicted or expired item is a miss, and the eviction is told to
// the listener like any other.
const BuggifySite kEvictEarly{"kv.store.evict_early",
                              "the oldest segment is evicted before a store, as if memory ran out"};
const BuggifySite kSweepExpired{"kv.store.sweep_expired",
                                "an expiry sweep (memcached's crawler) runs before a read"};
// A cas whose key another core owns: its unique is checked on the owner, after the hop.
const SometimesSite kForwardedCas{"kv.forward.cas", "a forwarded request is a cas"};

constexpr std::uint32_t kSweepSlotsMax = 256;
constexpr std::int64_t kRelativeExptimeMax = 60 * 60 * 24 * 30;  // memcached: 30 days

}  // namespace

// memcached's exptime: 0 never; up to 30 days relative; beyond, unix time;
// negative, already expired. `now` is one core's clock, and the owner core
// compares the result with its own, which may lag (each core's clock only
// never steps back on its own): so "already expired" is a time in the past
// for every clock (memcached's realtime() answers 1 too), never now - 1.
std::int64_t absolute_expiry(std::int64_t exptime, std::int64_t now) {
  if (exptime == 0) return 0;
  if (exptime < 0) return 1;
  if (exptime <= kRelativeExptimeMax) return now + exptime;
  return exptime;
}

Shard::Shard(Runtime& rt, CoreId core, const KvSettings& config, std::uint64_t memory_bytes)
    : rt_(rt), core_(core), config_(config), store_([&] {
        StoreOptions o;
        o.memory_bytes_max = memory_bytes;
        o.segment_bytes = config.segment_bytes;
        o.item_bytes_max = config.item_bytes_max;
        o.hash_seed = core;
        return o;
      }()) {
  store_.set_eviction_listener(this);
}

std::int64_t Shard::now_seconds() {
  // The wall clock may step back (NTP, or the simulator's clock_skew); the
  // store's expiry and flush_all assume time does not, so we never let it.
  const std::int64_t wall =
      std::chrono::duration_cast<std::chrono::seconds>(rt_.wall_now().time_since_epoch()).count();
  last_now_ = std::max(last_now_, wall);
  return last_now_;
}

void Shard::item_evicted(std::string_view key) {
  if (config_.trace_evictions) {
    rt_.record(Event("KvItemEvicted", Severity::debug).detail("key", key).detail("core", core_));
  }
}

// Memory taken from and given back to the system: rare (a segment at a
// time, or all of them at a flush_all), so always recorded.
void Shard::segment_allocated(std::uint32_t bytes) {
  walk_due_ = true;
  rt_.record(
      Event("KvSegmentAllocated", Severity::debug).detail("core", core_).detail("bytes", bytes));
}

void Shard::segments_released(std::uint64_t bytes) {
  walk_due_ = true;
  rt_.record(
      Event("KvSegmentsReleased", Severity::debug).detail("core", core_).detail("bytes", bytes));
}

StoreStats Shard::store_stats() const {
  StoreStats s = store_.stats();
  s.items_evicted -= reset_at_.items_evicted;
  s.items_expired -= reset_at_.items_expired;
  s.items_flushed -= reset_at_.items_flushed;
  s.segments_evicted -= reset_at_.segments_evicted;
  s.overwrites_in_place -= reset_at_.overwrites_in_place;
  s.overwrites_moved -= reset_at_.overwrites_moved;
  return s;
}

std::string Shard::metadump() {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  store_.for_each_live(now_seconds(), [&](const Store::LiveItem& item) {
    out += "key=";
    for (const char ch : item.key) {
      const auto c = static_cast<unsigned char>(ch);
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out += ch;
      } else {
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
      }
    }
    out += " exp=" + (item.exptime == 0 ? std::string("-1") : std::to_string(item.exptime));
    out += " cas=" + std::to_string(item.cas) + " cls=" + std::to_string(core_ + 1);
    out += " size=" + std::to_string(item.key.size() + item.value_bytes) + "\r\n";
  });
  return out;
}

void Shard::reset_counters() {
  counters_ = ShardCounters{.curr_connections = counters_.curr_connections};
  reset_at_ = store_.stats();
}

void Shard::flush_all(std::int64_t at, std::int64_t now) {
  ++counters_.cmd_flush;
  store_.flush_all(at, now);
  walk_due_ = true;
  verify_store();
}

ShardReplies Shard::execute(const std::vector<Unit>& units, bool forwarded) {
  ShardReplies out;
  out.ends.reserve(units.size());
  if (forwarded) counters_.forwarded_in += units.size();
  for (const Unit& u : units) {
    if (forwarded) sometimes(rt_, kForwardedCas, u.request->verb == Verb::cas);
    execute_into(u, out.bytes);
    out.ends.push_back(static_cast<std::uint32_t>(out.bytes.size()));
  }
  return out;
}

void Shard::retrieve(const Unit& u, std::int64_t now, std::string& out) {
  const Request& r = *u.request;
  const std::string& key = r.keys[u.key_index];
  // (Before any view of an item is taken: the sweep may drop items.)
  if (buggify(rt_, kSweepExpired)) (void)store_.reclaim_expired(now, kSweepSlotsMax);
  ++counters_.cmd_get;
  std::optional<ItemView> item;
  if (r.verb == Verb::gat || r.verb == Verb::gats) {
    ++counters_.cmd_touch;
    item = store_.gat(key, u.expires_at, now);
    ++(item ? counters_.touch_hits : counters_.touch_misses);
  } else {
    item = store_.get(key, now);
  }
  ++(item ? counters_.get_hits : counters_.get_misses);
  if (item) {
    const bool with_cas = r.verb == Verb::gets || r.verb == Verb::gats;
    append_value(out, key, item->client_flags, item->value,
                 with_cas ? std::optional<std::uint64_t>(item->cas) : std::nullopt);
  }
}

void Shard::store(const Unit& u, std::int64_t now, std::string& out) {
  const Request& r = *u.request;
  const std::string& key = r.keys[0];
  ++counters_.cmd_set;
  StoreMode mode = StoreMode::set;
  switch (r.verb) {
    case Verb::add:
      mode = StoreMode::add;
      break;
    case Verb::replace:
      mode = StoreMode::replace;
      break;
    case Verb::append:
      mode = StoreMode::append;
      break;
    case Verb::prepend:
      mode = StoreMode::prepend;
      break;
    case Verb::cas:
      mode = StoreMode::cas;
      break;
    default:
      break;
  }
  if (buggify(rt_, kEvictEarly)) (void)store_.evict_oldest_segment(now);
  const StoreStats before =
      (config_.planted_bug == KvPlantedBug::lost_at_roll) ? store_.stats() : StoreStats{};
  const StoreOutcome outcome =
      store_.store(mode, key, r.data, r.flags, u.expires_at, r.cas_unique, now);
  const StoreStats after =
      (config_.planted_bug == KvPlantedBug::lost_at_roll) ? store_.stats() : StoreStats{};
  if ((config_.planted_bug == KvPlantedBug::lost_at_roll) && outcome == StoreOutcome::stored &&
      (after.segments_in_use > before.segments_in_use ||
       after.segments_evicted > before.segments_evicted)) {
    // Planted bug: the item that opened a new segment is dropped, but the
    // client is told it was stored.
    (void)store_.remove(key, now);
  }
  switch (outcome) {
    case StoreOutcome::stored:
      if (mode == StoreMode::cas) ++counters_.cas_hits;
      append_reply(out, Reply::stored);
      break;
    case StoreOutcome::not_stored:
      append_reply(out, Reply::not_stored);
      break;
    case StoreOutcome::exists:
      ++counters_.cas_badval;
      append_reply(out, Reply::exists);
      break;
    case StoreOutcome::not_found:
      ++counters_.cas_misses;
      append_reply(out, Reply::not_found);
      break;
    case StoreOutcome::too_large:
      append_server_error(out, "object too large for cache");
      break;
  }
}

void Shard::execute_into(const Unit& u, std::string& out) {
  run_one(u, out);
  verify_store();
}

void Shard::verify_store() {
  if (!rt_.expensive_checks()) return;
  if (!walk_due_ && ++ops_since_walk_ < kWalkEveryOps) return;
  walk_due_ = false;
  ops_since_walk_ = 0;
  store_.check_invariants();
}

void Shard::run_one(const Unit& u, std::string& out) {
  const Request& r = *u.request;
  const std::int64_t now = now_seconds();
  if (is_retrieval(r.verb)) return retrieve(u, now, out);
  if (is_storage(r.verb)) return store(u, now, out);
  switch (r.verb) {
    case Verb::mg:
      if (buggify(rt_, kSweepExpired)) (void)store_.reclaim_expired(now, kSweepSlotsMax);
      out += meta_get(r, now);
      return;
    case Verb::ms:
      if (buggify(rt_, kEvictEarly)) (void)store_.evict_oldest_segment(now);
      out += meta_set(u, now);
      return;
    case Verb::md:
      out += meta_delete(r, now);
      return;
    case Verb::ma:
      out += meta_arithmetic(r, now);
      return;
    case Verb::me:
      out += meta_debug(r, now);
      return;
    default:
      break;
  }
  const std::string& key = r.keys[0];
  switch (r.verb) {
    case Verb::delete_: {
      const bool hit = store_.remove(key, now) == DeleteOutcome::deleted;
      ++(hit ? counters_.delete_hits : counters_.delete_misses);
      append_reply(out, hit ? Reply::deleted : Reply::not_found);
      return;
    }
    case Verb::incr:
    case Verb::decr: {
      const bool incr = r.verb == Verb::incr;
      const ArithResult a = incr ? store_.incr(key, r.delta, now) : store_.decr(key, r.delta, now);
      if (a.outcome == ArithOutcome::ok) {
        ++(incr ? counters_.incr_hits : counters_.decr_hits);
        append_number(out, a.value);
      } else if (a.outcome == ArithOutcome::not_found) {
        ++(incr ? counters_.incr_misses : counters_.decr_misses);
        append_reply(out, Reply::not_found);
      } else {
        append_client_error(out, "cannot increment or decrement non-numeric value");
      }
      return;
    }
    case Verb::touch: {
      ++counters_.cmd_touch;
      const bool hit = store_.touch(key, u.expires_at, now) == TouchOutcome::touched;
      ++(hit ? counters_.touch_hits : counters_.touch_misses);
      append_reply(out, hit ? Reply::touched : Reply::not_found);
      return;
    }
    default:
      DOPPEL_ASSERT_MSG(false, "a unit for a command without a key");
  }
}

}  // namespace doppel::kv
