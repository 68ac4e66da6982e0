#include "components/kv/store/store.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <string>

#include "components/kv/store/decimal.h"
#include "components/kv/store/expiry.h"
#include "components/kv/store/key_hash.h"

namespace doppel::kv {
namespace {

// The smallest item_bytes_max: a longest key with a longest counter value fits.
constexpr std::uint32_t kItemBytesMaxMin = 512;

std::uint64_t index_entries_for(const StoreOptions& options) {
  if (options.index_entries_max != 0) return options.index_entries_max;
  return std::max<std::uint64_t>(1, options.memory_bytes_max / kIndexSizingItemBytes);
}

std::uint32_t segments_for(const StoreOptions& options) {
  return static_cast<std::uint32_t>(options.memory_bytes_max / options.segment_bytes);
}

const StoreOptions& checked(const StoreOptions& options) {
  const Status status = check_options(options);
  DOPPEL_ASSERT_MSG(status.ok(), "kv store options fail check_options");
  return options;
}

// memcpy, but an empty view may carry a null pointer.
void copy_bytes(std::byte* to, std::string_view from) {
  if (!from.empty()) std::memcpy(to, from.data(), from.size());
}

std::uint64_t key_value_bytes(const ItemHeader& header) {
  return std::uint64_t{header.key_bytes} + header.value_bytes;
}

}  // namespace

Status check_options(const StoreOptions& o) {
  const auto bad = [](const std::string& what) {
    return Status(make_error(Errc::invalid_argument, "kv store: " + what));
  };
  if (!std::has_single_bit(o.segment_bytes) || o.segment_bytes < kSegmentBytesMin ||
      o.segment_bytes > kSegmentBytesMax) {
    return bad("segment_bytes " + std::to_string(o.segment_bytes) +
               " is not a power of two in [1 KiB, 1 GiB]");
  }
  if (o.item_bytes_max < kItemBytesMaxMin || o.item_bytes_max > kItemBytesLimit) {
    return bad("item_bytes_max " + std::to_string(o.item_bytes_max) + " is not in [" +
               std::to_string(kItemBytesMaxMin) + ", " + std::to_string(kItemBytesLimit) + "]");
  }
  if (o.item_bytes_max > o.segment_bytes) {
    return bad("item_bytes_max " + std::to_string(o.item_bytes_max) + " exceeds segment_bytes " +
               std::to_string(o.segment_bytes) + " (an item must fit in one segment)");
  }
  if (o.memory_bytes_max < o.segment_bytes || o.memory_bytes_max > kPoolBytesLimit) {
    return bad("memory_bytes_max " + std::to_string(o.memory_bytes_max) +
               " is not in [segment_bytes, " + std::to_string(kPoolBytesLimit) + "]");
  }
  if (index_entries_for(o) > HashIndex::kEntriesLimit) {
    return bad("index_entries_max " + std::to_string(index_entries_for(o)) + " exceeds " +
               std::to_string(HashIndex::kEntriesLimit));
  }
  return {};
}

std::string_view outcome_name(StoreOutcome outcome) {
  switch (outcome) {
    case StoreOutcome::stored:
      return "STORED";
    case StoreOutcome::not_stored:
      return "NOT_STORED";
    case StoreOutcome::exists:
      return "EXISTS";
    case StoreOutcome::not_found:
      return "NOT_FOUND";
    case StoreOutcome::too_large:
      return "TOO_LARGE";
  }
  return "?";
}

Store::Store(const StoreOptions& options)
    : options_(checked(options)),
      pool_(options_.segment_bytes, segments_for(options_)),
      index_(index_entries_for(options_)) {
  options_.index_entries_max = index_entries_for(options_);
}

std::uint64_t Store::hash(std::string_view key) const {
  return hash_key(key, options_.hash_seed);
}

void Store::begin(std::int64_t now) {
  DOPPEL_ASSERT_MSG(!in_listener_, "an eviction listener called back into the store");
  if (flush_at_ && now >= *flush_at_) {
    flush_at_.reset();
    drop_everything();
  }
}

// --- reads

void Store::mark_fetched(Found& found) {
  if (found.ref.header.fetched) return;
  found.ref.header.fetched = true;
  set_item_marks(found.item, found.ref.header);
}

std::optional<Store::Found> Store::lookup(std::string_view key, std::uint64_t hash,
                                          std::int64_t now) {
  const auto slot = index_.find(
      hash, [&](std::uint32_t location) { return read_item(pool_.item(location)).key == key; });
  if (!slot) return std::nullopt;
  Found found;
  found.slot = *slot;
  found.location = index_.location(*slot);
  found.item = pool_.item(found.location);
  found.ref = read_item(found.item);
  DOPPEL_ASSERT(!found.ref.header.dead);
  if (expired(found.ref.header.exptime, now)) {
    unlink(found, true);
    return std::nullopt;
  }
  return found;
}

std::optional<ItemView> Store::get(std::string_view key, std::int64_t now) {
  begin(now);
  if (key.size() > kKeyBytesMax) return std::nullopt;
  auto found = lookup(key, hash(key), now);
  if (!found) return std::nullopt;
  mark_fetched(*found);
  return ItemView{found->ref.value, found->ref.header.client_flags, found->ref.header.cas};
}

std::optional<ItemView> Store::gat(std::string_view key, std::int64_t exptime, std::int64_t now) {
  begin(now);
  if (key.size() > kKeyBytesMax) return std::nullopt;
  auto found = lookup(key, hash(key), now);
  if (!found) return std::nullopt;
  mark_fetched(*found);
  const ItemView view{found->ref.value, found->ref.header.client_flags, found->ref.header.cas};
  // Unlinking leaves the bytes where they are: the view stays good (store.h).
  if (in_past(exptime, now)) {
    unlink(*found, true);
  } else {
    set_item_exptime(found->item, stored_exptime(exptime));
  }
  return view;
}

TouchOutcome Store::touch(std::string_view key, std::int64_t exptime, std::int64_t now) {
  return gat(key, exptime, now) ? TouchOutcome::touched : TouchOutcome::not_found;
}

DeleteOutcome Store::remove(std::string_view key, std::int64_t now) {
  begin(now);
  if (key.size() > kKeyBytesMax) return DeleteOutcome::not_found;
  const auto found = lookup(key, hash(key), now);
  if (!found) return DeleteOutcome::not_found;
  unlink(*found, false);
  return DeleteOutcome::deleted;
}

// --- stores

StoreOutcome Store::store(StoreMode mode, std::string_view key, std::string_view value,
                          std::uint32_t client_flags, std::int64_t exptime,
                          std::uint64_t cas_unique, std::int64_t now) {
  StoreCondition condition;
  if (mode == StoreMode::cas) condition.compare_cas = cas_unique;
  return store(mode, key, value, client_flags, exptime, condition, now);
}

StoreOutcome Store::store(StoreMode mode, std::string_view key, std::string_view value,
                          std::uint32_t client_flags, std::int64_t exptime,
                          const StoreCondition& condition, std::int64_t now) {
  DOPPEL_ASSERT(mode != StoreMode::cas || condition.compare_cas.has_value());
  begin(now);
  if (key.size() > kKeyBytesMax) return StoreOutcome::too_large;
  const std::uint64_t h = hash(key);
  std::optional<Found> found = lookup(key, h, now);
  // Making room may evict the old version, or grow the index under it; then
  // the decision is taken again on what is left. The second time there is
  // room already, so nothing moves.
  for (int attempt = 0;; ++attempt) {
    DOPPEL_ASSERT(attempt < 2);
    Write write;
    if (auto outcome =
            decide(mode, found, key, value, client_flags, exptime, condition, now, write)) {
      return *outcome;
    }
    const auto used = item_header_bytes(write.header.value_bytes, write.header.client_flags) +
                      write.header.key_bytes + write.header.value_bytes;
    const std::uint32_t footprint = item_footprint_bytes(used);
    if (found && footprint <= found->ref.capacity_bytes) {
      write.header.cas = next_cas();
      write_in_place(*found, key, write);
      return StoreOutcome::stored;
    }
    const std::uint64_t version = index_.layout_version();
    make_room(h, footprint, now);
    if (index_.layout_version() == version) {
      write.header.cas = next_cas();
      write_new(key, h, found, write);
      return StoreOutcome::stored;
    }
    found = lookup(key, h, now);
  }
}

std::optional<StoreOutcome> Store::check_condition(StoreMode mode,
                                                   const std::optional<Found>& found,
                                                   const StoreCondition& condition, bool& stale) {
  switch (mode) {
    case StoreMode::add:
      if (found) return StoreOutcome::not_stored;
      return std::nullopt;  // a CAS unique means nothing to add (memcached ignores it)
    case StoreMode::append:
    case StoreMode::prepend:
      if (!found) return StoreOutcome::not_stored;
      break;
    case StoreMode::replace:
      if (!found) {
        return condition.compare_cas ? StoreOutcome::not_found : StoreOutcome::not_stored;
      }
      break;
    case StoreMode::set:
    case StoreMode::cas:
      if (!condition.compare_cas) return std::nullopt;
      if (!found) return StoreOutcome::not_found;
      break;
  }
  const std::uint64_t item_cas = found->ref.header.cas;
  if (!condition.compare_cas || *condition.compare_cas == item_cas) return std::nullopt;
  const bool concat = mode == StoreMode::append || mode == StoreMode::prepend;
  if (condition.invalidate && !concat && *condition.compare_cas < item_cas) {
    stale = true;
    return std::nullopt;
  }
  return StoreOutcome::exists;
}

std::optional<StoreOutcome> Store::decide(StoreMode mode, const std::optional<Found>& found,
                                          std::string_view key, std::string_view value,
                                          std::uint32_t client_flags, std::int64_t exptime,
                                          const StoreCondition& condition, std::int64_t now,
                                          Write& write) {
  const bool concat = mode == StoreMode::append || mode == StoreMode::prepend;
  // Like memcached: a whole item too large is refused before anything else
  // (and a set drops the old value); a concatenation only once its total is known.
  if (!concat &&
      item_used_bytes(key.size(), value.size(), client_flags) > options_.item_bytes_max) {
    if (mode == StoreMode::set && !condition.compare_cas && found) unlink(*found, false);
    return StoreOutcome::too_large;
  }
  bool stale = false;
  if (auto refused = check_condition(mode, found, condition, stale)) return refused;
  write.header.key_bytes = static_cast<std::uint32_t>(key.size());
  if (concat) {
    const ItemHeader& old = found->ref.header;
    const std::uint64_t total = std::uint64_t{old.value_bytes} + value.size();
    if (item_used_bytes(key.size(), total, old.client_flags) > options_.item_bytes_max) {
      return StoreOutcome::too_large;
    }
    write.header.client_flags = old.client_flags;
    write.header.exptime = old.exptime;
    write.header.value_bytes = static_cast<std::uint32_t>(total);
    write.keep_old = true;
    (mode == StoreMode::append ? write.tail : write.head) = value;
    return std::nullopt;
  }
  if (stale) {
    // memcached: "This replaces the value, but should preserve TTL, and stale item marker bit +
    // token sent if exists."
    exptime = found->ref.header.exptime;
    write.header.stale = true;
    write.header.token_sent = found->ref.header.token_sent;
  }
  if (in_past(exptime, now)) {
    // Stored and expired at once: what remains is that the old version is gone.
    if (found) unlink(*found, true);
    next_cas();
    return StoreOutcome::stored;
  }
  write.header.client_flags = client_flags;
  write.header.exptime = stored_exptime(exptime);
  write.header.value_bytes = static_cast<std::uint32_t>(value.size());
  write.head = value;
  return std::nullopt;
}

// Room for one more index entry and `footprint_bytes` in the open segment,
// evicting the oldest segments as needed.
void Store::make_room(std::uint64_t hash, std::uint32_t footprint_bytes, std::int64_t now) {
  while (!index_.reserve(hash)) {
    DOPPEL_ASSERT_MSG(pool_.segments_in_use() > 0, "kv index full with nothing to evict");
    evict_oldest(now);
  }
  while (!pool_.has_room(footprint_bytes)) {
    if (pool_.can_open()) {
      pool_.open_fresh();
      if (listener_ != nullptr) {
        in_listener_ = true;
        listener_->segment_allocated(pool_.segment_bytes());
        in_listener_ = false;
      }
    } else {
      evict_oldest(now);
    }
  }
}

void Store::write_in_place(const Found& found, std::string_view key, const Write& write) {
  std::byte* item = found.item;
  const ItemRef& old = found.ref;
  DOPPEL_ASSERT(old.key == key);
  const std::uint32_t header_bytes =
      item_header_bytes(write.header.value_bytes, write.header.client_flags);
  std::byte* value = item + header_bytes + key.size();
  std::uint64_t at = write.head.size();
  // The old value first (the header may have grown over where it was), then the rest.
  if (write.keep_old) {
    if (!old.value.empty()) std::memmove(value + at, old.value.data(), old.value.size());
    at += old.value.size();
  }
  copy_bytes(value, write.head);
  copy_bytes(value + at, write.tail);
  DOPPEL_ASSERT(at + write.tail.size() == write.header.value_bytes);
  copy_bytes(item + header_bytes, key);
  write_item_header(item, write.header, old.capacity_bytes);
  stats_.live_bytes -= old.header.value_bytes;
  stats_.live_bytes += write.header.value_bytes;
  ++stats_.overwrites_in_place;
}

void Store::write_new(std::string_view key, std::uint64_t hash, const std::optional<Found>& found,
                      const Write& write) {
  const std::uint32_t header_bytes =
      item_header_bytes(write.header.value_bytes, write.header.client_flags);
  const std::uint32_t footprint =
      item_footprint_bytes(header_bytes + write.header.key_bytes + write.header.value_bytes);
  const std::uint32_t location = pool_.allocate(footprint);
  std::byte* item = pool_.item(location);
  copy_bytes(item + header_bytes, key);
  std::byte* value = item + header_bytes + key.size();
  copy_bytes(value, write.head);
  std::uint64_t at = write.head.size();
  if (write.keep_old) {
    copy_bytes(value + at, found->ref.value);
    at += found->ref.value.size();
  }
  copy_bytes(value + at, write.tail);
  DOPPEL_ASSERT(at + write.tail.size() == write.header.value_bytes);
  write_item_header(item, write.header, footprint);
  stats_.live_bytes += key_value_bytes(write.header);
  stats_.live_footprint_bytes += footprint;
  if (found) {
    DOPPEL_ASSERT(index_.location(found->slot) == found->location);
    mark_item_dead(found->item);
    stats_.live_bytes -= key_value_bytes(found->ref.header);
    stats_.live_footprint_bytes -= found->ref.capacity_bytes;
    stats_.dead_bytes += found->ref.capacity_bytes;
    index_.set_location(found->slot, location);
    ++stats_.overwrites_moved;
  } else {
    index_.insert(hash, location);
    ++stats_.items_live;
  }
}

void Store::unlink(const Found& found, bool expired_now) {
  index_.erase(found.slot);
  mark_item_dead(found.item);
  DOPPEL_ASSERT(stats_.items_live > 0);
  --stats_.items_live;
  stats_.live_bytes -= key_value_bytes(found.ref.header);
  stats_.live_footprint_bytes -= found.ref.capacity_bytes;
  stats_.dead_bytes += found.ref.capacity_bytes;
  if (expired_now) ++stats_.items_expired;
}

// --- eviction, flush, expiry

void Store::evict_oldest(std::int64_t now) {
  const std::uint32_t slot = pool_.oldest();
  const std::byte* data = pool_.data(slot);
  const std::uint32_t fill = pool_.fill_bytes(slot);
  SegmentEviction eviction;
  eviction.segment = slot;
  std::uint32_t offset = 0;
  while (offset < fill) {
    const ItemRef ref = read_item(data + offset);
    DOPPEL_ASSERT(offset + ref.capacity_bytes <= fill);
    if (ref.header.dead) {
      eviction.dead_bytes_reclaimed += ref.capacity_bytes;
    } else {
      const std::uint32_t location = pool_.location(slot, offset);
      const auto at = index_.find(hash(ref.key), [&](std::uint32_t l) { return l == location; });
      DOPPEL_ASSERT_MSG(at.has_value(), "a live item is missing from the kv index");
      index_.erase(*at);
      --stats_.items_live;
      stats_.live_bytes -= key_value_bytes(ref.header);
      stats_.live_footprint_bytes -= ref.capacity_bytes;
      eviction.live_bytes_evicted += key_value_bytes(ref.header);
      if (expired(ref.header.exptime, now)) {
        ++eviction.items_expired;
      } else {
        ++eviction.items_evicted;
        if (listener_ != nullptr) {
          in_listener_ = true;
          listener_->item_evicted(ref.key);
          in_listener_ = false;
        }
      }
    }
    offset += ref.capacity_bytes;
  }
  DOPPEL_ASSERT(offset == fill);
  DOPPEL_ASSERT(stats_.dead_bytes >= eviction.dead_bytes_reclaimed);
  stats_.dead_bytes -= eviction.dead_bytes_reclaimed;
  stats_.items_evicted += eviction.items_evicted;
  stats_.items_expired += eviction.items_expired;
  ++stats_.segments_evicted;
  pool_.recycle_oldest();
  if (listener_ != nullptr) {
    in_listener_ = true;
    listener_->segment_evicted(eviction);
    in_listener_ = false;
  }
}

bool Store::evict_oldest_segment(std::int64_t now) {
  begin(now);
  if (pool_.segments_in_use() == 0) return false;
  evict_oldest(now);
  return true;
}

void Store::flush_all(std::int64_t at, std::int64_t now) {
  begin(now);
  if (at <= now) {
    flush_at_.reset();
    drop_everything();
  } else {
    flush_at_ = at;
  }
}

// Every item present was stored before the flush time (time only moves
// forward for the caller), so all of them go, with all the memory.
void Store::drop_everything() {
  stats_.items_flushed += stats_.items_live;
  index_.clear();
  const std::uint64_t released = std::uint64_t{pool_.segments_in_use()} * pool_.segment_bytes();
  pool_.release_all();
  if (listener_ != nullptr && released > 0) {
    in_listener_ = true;
    listener_->segments_released(released);
    in_listener_ = false;
  }
  stats_.items_live = 0;
  stats_.live_bytes = 0;
  stats_.live_footprint_bytes = 0;
  stats_.dead_bytes = 0;
  sweep_cursor_ = IndexSlot{};
}

std::uint64_t Store::reclaim_expired(std::int64_t now, std::uint32_t slots_max) {
  begin(now);
  std::uint64_t reclaimed = 0;
  IndexSlot& cursor = sweep_cursor_;
  for (std::uint32_t step = 0; step < slots_max && index_.size() > 0; ++step) {
    if (cursor.shard >= index_.shard_count()) cursor = IndexSlot{};
    if (cursor.slot >= index_.shard_slots(cursor.shard)) {
      ++cursor.shard;
      cursor.slot = 0;
      continue;
    }
    if (const auto location = index_.location_at(cursor)) {
      std::byte* item = pool_.item(*location);
      const ItemRef ref = read_item(item);
      if (expired(ref.header.exptime, now)) {
        unlink(Found{cursor, *location, item, ref}, true);
        ++reclaimed;
        continue;  // a later entry may have shifted into this slot
      }
    }
    ++cursor.slot;
  }
  return reclaimed;
}

// --- observing

StoreStats Store::stats() const {
  StoreStats s = stats_;
  s.segments_in_use = pool_.segments_in_use();
  s.segments_max = pool_.segments_max();
  s.bytes_allocated = std::uint64_t{pool_.segments_in_use()} * pool_.segment_bytes();
  s.index_entries = index_.size();
  s.index_bytes = index_.memory_bytes();
  return s;
}

void Store::check_invariants() const {
  index_.check();
  std::uint64_t items = 0, live = 0, live_footprint = 0, dead = 0, filled = 0;
  pool_.for_each_in_use([&](std::uint32_t slot) {
    const std::byte* data = pool_.data(slot);
    const std::uint32_t fill = pool_.fill_bytes(slot);
    filled += fill;
    std::uint32_t offset = 0;
    while (offset < fill) {
      const ItemRef ref = read_item(data + offset);
      DOPPEL_ASSERT(ref.capacity_bytes > 0);
      DOPPEL_ASSERT(offset + ref.capacity_bytes <= fill);
      if (ref.header.dead) {
        dead += ref.capacity_bytes;
      } else {
        ++items;
        live += key_value_bytes(ref.header);
        live_footprint += ref.capacity_bytes;
        const std::uint32_t location = pool_.location(slot, offset);
        const auto at = index_.find(hash(ref.key), [&](std::uint32_t l) { return l == location; });
        DOPPEL_ASSERT_MSG(at.has_value(), "a live item is missing from the kv index");
      }
      offset += ref.capacity_bytes;
    }
    DOPPEL_ASSERT(offset == fill);
  });
  // Each live item is in the index at its own location, and the counts match:
  // the index and the live items are in one-to-one correspondence.
  DOPPEL_ASSERT(items == stats_.items_live);
  DOPPEL_ASSERT(items == index_.size());
  DOPPEL_ASSERT(live == stats_.live_bytes);
  DOPPEL_ASSERT(live_footprint == stats_.live_footprint_bytes);
  DOPPEL_ASSERT(dead == stats_.dead_bytes);
  DOPPEL_ASSERT(filled == live_footprint + dead);
  DOPPEL_ASSERT(pool_.segments_in_use() <= pool_.segments_max());
}

}  // namespace doppel::kv
