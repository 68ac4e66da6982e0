#pragma once
// The per-core hash index: key -> item location, 6 bytes an entry.
//
// 2^k shards, chosen by the top bits of the key's hash. Each shard is a
// linear-probing table (with wrap-around) kept as two arrays: 16-bit tags and
// 32-bit locations. The tag is 16 further bits of the hash and, being those
// bits, it also fixes the entry's home slot, (tag x slots) >> 16. So a shard
// grows, and deletes by backward shift (no tombstones), without reading a key;
// the keys live in the segments, and a lookup asks the caller whether the item
// at a location with a matching tag holds its key. Tag 0 marks an empty slot.
//
// Memory: shards grow one at a time by 5/4 when they pass 17/20 full, so the
// load stays between about 0.68 and 0.85 (7 to 9 bytes per entry) and a
// rebuild moves at most kShardSlotsMax entries (a short pause, never the whole
// index). At kShardSlotsMax a shard fills to 18/20 and then refuses; so does
// the whole index at entries_max. A refused reserve() means "evict first".

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "runtime/assert.h"

namespace doppel::kv {

struct IndexSlot {
  std::uint32_t shard = 0;
  std::uint32_t slot = 0;
};

class HashIndex {
 public:
  static constexpr std::uint32_t kShardSlotsMin = 16;
  static constexpr std::uint32_t kShardSlotsMax = 1u << 15;  // tags keep 1 bit below a slot
  static constexpr std::uint32_t kShardBitsMax = 16;
  static constexpr std::uint32_t kGrowLoadTwentieths = 17;
  static constexpr std::uint32_t kFullLoadTwentieths = 18;
  static constexpr std::uint64_t kShardEntriesPlanned =
      std::uint64_t{kShardSlotsMax} * kGrowLoadTwentieths / 20;
  static constexpr std::uint64_t kEntriesLimit = kShardEntriesPlanned << kShardBitsMax;

  // entries_max in [1, kEntriesLimit]; sets the shard count.
  explicit HashIndex(std::uint64_t entries_max);
  HashIndex(const HashIndex&) = delete;
  HashIndex& operator=(const HashIndex&) = delete;

  // The slot whose tag matches the hash's and for whose location
  // match(location) is true; match is called only on tag matches.
  template <class Match>
  std::optional<IndexSlot> find(std::uint64_t hash, Match&& match) const;

  // Makes room for one insert of this hash (growing its shard if needed);
  // false when the shard or the index is full. Erases keep the room.
  [[nodiscard]] bool reserve(std::uint64_t hash);
  // After a successful reserve(hash).
  void insert(std::uint64_t hash, std::uint32_t location);
  void erase(IndexSlot slot);
  std::uint32_t location(IndexSlot slot) const;
  void set_location(IndexSlot slot, std::uint32_t location);
  void clear();

  // Bumped whenever entries move (grow, erase, clear): an IndexSlot from an
  // earlier version may no longer name the same entry.
  std::uint64_t layout_version() const { return layout_version_; }

  std::uint64_t size() const { return size_; }
  std::uint64_t entries_max() const { return entries_max_; }
  std::uint64_t memory_bytes() const;

  // Walking every slot (reclaim_expired, checks).
  std::uint32_t shard_count() const { return static_cast<std::uint32_t>(shards_.size()); }
  std::uint32_t shard_slots(std::uint32_t shard) const { return shards_[shard].slots; }
  std::optional<std::uint32_t> location_at(IndexSlot slot) const;

  // Asserts the table's invariants (counts, every entry reachable from its home).
  void check() const;

  static std::uint32_t shard_of(std::uint64_t hash, std::uint32_t shard_bits) {
    return shard_bits == 0 ? 0 : static_cast<std::uint32_t>(hash >> (64 - shard_bits));
  }
  static std::uint16_t tag_of(std::uint64_t hash) {
    const auto tag = static_cast<std::uint16_t>(hash >> 16);
    return tag == 0 ? 1 : tag;
  }
  static std::uint32_t home_of(std::uint16_t tag, std::uint32_t slots) {
    return static_cast<std::uint32_t>((std::uint64_t{tag} * slots) >> 16);
  }

 private:
  struct Shard {
    std::unique_ptr<std::uint16_t[]> tags;
    std::unique_ptr<std::uint32_t[]> locations;
    std::uint32_t slots = 0;
    std::uint32_t count = 0;
  };

  static void place(Shard& shard, std::uint16_t tag, std::uint32_t location);
  void grow(Shard& shard);
  static std::uint32_t next(std::uint32_t i, std::uint32_t slots) {
    return i + 1 == slots ? 0 : i + 1;
  }

  std::vector<Shard> shards_;
  std::uint32_t shard_bits_ = 0;
  std::uint64_t entries_max_;
  std::uint64_t size_ = 0;
  std::uint64_t slots_total_ = 0;
  std::uint64_t layout_version_ = 0;
};

template <class Match>
std::optional<IndexSlot> HashIndex::find(std::uint64_t hash, Match&& match) const {
  const std::uint32_t shard_id = shard_of(hash, shard_bits_);
  const Shard& shard = shards_[shard_id];
  if (shard.count == 0) return std::nullopt;
  const std::uint16_t tag = tag_of(hash);
  std::uint32_t i = home_of(tag, shard.slots);
  // A shard is never full, so an empty slot ends every probe; the bound is a guard.
  for (std::uint32_t probes = 0; probes < shard.slots; ++probes) {
    const std::uint16_t t = shard.tags[i];
    if (t == 0) return std::nullopt;
    if (t == tag && match(shard.locations[i])) return IndexSlot{shard_id, i};
    i = next(i, shard.slots);
  }
  DOPPEL_ASSERT_MSG(false, "hash index shard without an empty slot");
  return std::nullopt;
}

}  // namespace doppel::kv
