#include "components/kv/store/hash_index.h"

#include <algorithm>
#include <bit>

namespace doppel::kv {

HashIndex::HashIndex(std::uint64_t entries_max) : entries_max_(entries_max) {
  DOPPEL_ASSERT(entries_max >= 1);
  DOPPEL_ASSERT(entries_max <= kEntriesLimit);
  const std::uint64_t shards_needed =
      (entries_max + kShardEntriesPlanned - 1) / kShardEntriesPlanned;
  shard_bits_ = static_cast<std::uint32_t>(std::countr_zero(std::bit_ceil(shards_needed)));
  DOPPEL_ASSERT(shard_bits_ <= kShardBitsMax);
  shards_.resize(std::size_t{1} << shard_bits_);
}

bool HashIndex::reserve(std::uint64_t hash) {
  if (size_ >= entries_max_) return false;
  Shard& shard = shards_[shard_of(hash, shard_bits_)];
  while ((std::uint64_t{shard.count} + 1) * 20 > std::uint64_t{shard.slots} * kGrowLoadTwentieths) {
    if (shard.slots == kShardSlotsMax) {
      return (std::uint64_t{shard.count} + 1) * 20 <=
             std::uint64_t{shard.slots} * kFullLoadTwentieths;
    }
    grow(shard);
  }
  return true;
}

void HashIndex::insert(std::uint64_t hash, std::uint32_t location) {
  DOPPEL_ASSERT(size_ < entries_max_);
  Shard& shard = shards_[shard_of(hash, shard_bits_)];
  DOPPEL_ASSERT((std::uint64_t{shard.count} + 1) * 20 <=
                std::uint64_t{shard.slots} * kFullLoadTwentieths);
  place(shard, tag_of(hash), location);
  ++size_;
}

void HashIndex::place(Shard& shard, std::uint16_t tag, std::uint32_t location) {
  DOPPEL_ASSERT(tag != 0);
  DOPPEL_ASSERT(shard.count < shard.slots);
  std::uint32_t i = home_of(tag, shard.slots);
  while (shard.tags[i] != 0) i = next(i, shard.slots);
  shard.tags[i] = tag;
  shard.locations[i] = location;
  ++shard.count;
}

void HashIndex::grow(Shard& shard) {
  DOPPEL_ASSERT(shard.slots < kShardSlotsMax);
  std::uint32_t slots = std::max(kShardSlotsMin, (shard.slots + shard.slots / 4 + 7) & ~7u);
  slots = std::min(slots, kShardSlotsMax);
  Shard bigger;
  bigger.tags = std::make_unique<std::uint16_t[]>(slots);  // zeroed: all empty
  bigger.locations = std::make_unique_for_overwrite<std::uint32_t[]>(slots);
  bigger.slots = slots;
  for (std::uint32_t i = 0; i < shard.slots; ++i) {
    if (shard.tags[i] != 0) place(bigger, shard.tags[i], shard.locations[i]);
  }
  DOPPEL_ASSERT(bigger.count == shard.count);
  slots_total_ += slots - shard.slots;
  shard = std::move(bigger);
  ++layout_version_;
}

// Backward-shift deletion (Knuth's Algorithm R): entries after the hole that
// may live there move back, so no probe ever crosses a hole it should not.
void HashIndex::erase(IndexSlot at) {
  Shard& shard = shards_[at.shard];
  DOPPEL_ASSERT(at.slot < shard.slots);
  DOPPEL_ASSERT(shard.tags[at.slot] != 0);
  std::uint32_t hole = at.slot;
  std::uint32_t j = hole;
  for (std::uint32_t steps = 0; steps < shard.slots; ++steps) {
    j = next(j, shard.slots);
    const std::uint16_t tag = shard.tags[j];
    if (tag == 0) break;
    const std::uint32_t home = home_of(tag, shard.slots);
    // The entry at j stays when its home lies cyclically in (hole, j].
    const bool stays = hole < j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (stays) continue;
    shard.tags[hole] = tag;
    shard.locations[hole] = shard.locations[j];
    hole = j;
  }
  shard.tags[hole] = 0;
  --shard.count;
  --size_;
  ++layout_version_;
}

std::uint32_t HashIndex::location(IndexSlot at) const {
  const Shard& shard = shards_[at.shard];
  DOPPEL_ASSERT(at.slot < shard.slots);
  DOPPEL_ASSERT(shard.tags[at.slot] != 0);
  return shard.locations[at.slot];
}

void HashIndex::set_location(IndexSlot at, std::uint32_t location) {
  Shard& shard = shards_[at.shard];
  DOPPEL_ASSERT(at.slot < shard.slots);
  DOPPEL_ASSERT(shard.tags[at.slot] != 0);
  shard.locations[at.slot] = location;
}

std::optional<std::uint32_t> HashIndex::location_at(IndexSlot at) const {
  DOPPEL_ASSERT(at.shard < shards_.size());
  const Shard& shard = shards_[at.shard];
  DOPPEL_ASSERT(at.slot < shard.slots);
  if (shard.tags[at.slot] == 0) return std::nullopt;
  return shard.locations[at.slot];
}

void HashIndex::clear() {
  for (Shard& shard : shards_) shard = Shard{};
  size_ = 0;
  slots_total_ = 0;
  ++layout_version_;
}

std::uint64_t HashIndex::memory_bytes() const {
  return slots_total_ * (sizeof(std::uint16_t) + sizeof(std::uint32_t)) +
         shards_.size() * sizeof(Shard);
}

void HashIndex::check() const {
  std::uint64_t total = 0;
  std::uint64_t slots_total = 0;
  for (const Shard& shard : shards_) {
    std::uint32_t count = 0;
    for (std::uint32_t i = 0; i < shard.slots; ++i) {
      if (shard.tags[i] == 0) continue;
      ++count;
      // Linear probing's invariant: no empty slot between an entry's home and the entry.
      for (std::uint32_t k = home_of(shard.tags[i], shard.slots); k != i;
           k = next(k, shard.slots)) {
        DOPPEL_ASSERT(shard.tags[k] != 0);
      }
    }
    DOPPEL_ASSERT(count == shard.count);
    DOPPEL_ASSERT(shard.slots == 0 || count < shard.slots);
    total += count;
    slots_total += shard.slots;
  }
  DOPPEL_ASSERT(total == size_);
  DOPPEL_ASSERT(slots_total == slots_total_);
  DOPPEL_ASSERT(size_ <= entries_max_);
}

}  // namespace doppel::kv
