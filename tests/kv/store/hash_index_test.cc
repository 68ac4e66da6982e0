#include "components/kv/store/hash_index.h"

#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "runtime/random.h"

using doppel::Prng;
using doppel::kv::HashIndex;
using doppel::kv::IndexSlot;

namespace {

// The index stores locations, not keys; these tests use the location as the
// key (match compares it), which is what the store does during eviction.
std::optional<IndexSlot> find(const HashIndex& index, std::uint64_t hash, std::uint32_t location) {
  return index.find(hash, [&](std::uint32_t l) { return l == location; });
}

void insert(HashIndex& index, std::uint64_t hash, std::uint32_t location) {
  REQUIRE(index.reserve(hash));
  index.insert(hash, location);
}

}  // namespace

TEST_CASE("index: inserted entries are found and erased ones are not", "[unit]") {
  HashIndex index(1000);
  Prng rng(1);
  std::vector<std::uint64_t> hashes;
  for (std::uint32_t i = 0; i < 500; ++i) {
    hashes.push_back(rng.next());
    insert(index, hashes.back(), i);
  }
  REQUIRE(index.size() == 500);
  index.check();
  for (std::uint32_t i = 0; i < 500; ++i) REQUIRE(find(index, hashes[i], i).has_value());
  for (std::uint32_t i = 0; i < 500; i += 2) index.erase(*find(index, hashes[i], i));
  index.check();
  for (std::uint32_t i = 0; i < 500; ++i)
    REQUIRE(find(index, hashes[i], i).has_value() == (i % 2 == 1));
  REQUIRE(index.size() == 250);
}

TEST_CASE("index: entries with the same tag and home are told apart by the caller", "[unit]") {
  HashIndex index(100);
  // One hash for all: same shard, same tag, same home; a run of 10.
  for (std::uint32_t i = 0; i < 10; ++i) insert(index, 0x1234'5678'9abc'def0ull, i);
  index.check();
  for (std::uint32_t i = 0; i < 10; ++i) {
    const auto at = find(index, 0x1234'5678'9abc'def0ull, i);
    REQUIRE(at.has_value());
    REQUIRE(index.location(*at) == i);
  }
  index.erase(*find(index, 0x1234'5678'9abc'def0ull, 3));
  index.check();
  REQUIRE_FALSE(find(index, 0x1234'5678'9abc'def0ull, 3).has_value());
  REQUIRE(find(index, 0x1234'5678'9abc'def0ull, 9).has_value());
}

TEST_CASE("index: refuses to reserve beyond entries_max", "[unit]") {
  HashIndex index(5);
  Prng rng(2);
  for (std::uint32_t i = 0; i < 5; ++i) insert(index, rng.next(), i);
  REQUIRE_FALSE(index.reserve(rng.next()));
  index.clear();
  REQUIRE(index.size() == 0);
  REQUIRE(index.reserve(rng.next()));
}

TEST_CASE("index: shards grow in small steps and keep their load under 0.85", "[unit]") {
  HashIndex index(2'000'000);
  REQUIRE(index.shard_count() == 128);
  Prng rng(3);
  for (std::uint32_t i = 0; i < 300'000; ++i) {
    insert(index, rng.next(), i);
    if (i % 50'000 == 49'999) {
      const double bytes_per_entry = double(index.memory_bytes()) / double(index.size());
      INFO("entries " << index.size() << ": " << bytes_per_entry << " bytes an entry");
      REQUIRE(bytes_per_entry > 6.0 / 0.85);
      REQUIRE(bytes_per_entry < 6.0 / 0.62);
    }
  }
  index.check();
}

TEST_CASE("index: a full shard at its largest refuses, and takes entries again after erases",
          "[unit]") {
  HashIndex index(HashIndex::kEntriesLimit);
  Prng rng(4);
  // Hashes whose top 16 bits are 0 all land in shard 0.
  std::vector<std::uint64_t> hashes;
  for (;;) {
    const std::uint64_t hash = rng.next() >> 16;
    if (!index.reserve(hash)) break;
    index.insert(hash, static_cast<std::uint32_t>(hashes.size()));
    hashes.push_back(hash);
  }
  REQUIRE(index.shard_slots(0) == HashIndex::kShardSlotsMax);
  REQUIRE(hashes.size() == HashIndex::kShardSlotsMax * 18 / 20);
  index.check();
  index.erase(*find(index, hashes[7], 7));
  REQUIRE(index.reserve(hashes[7]));
}

TEST_CASE("index: agrees with a map under random inserts, erases and moves", "[prop]") {
  rc::prop("index == map", [](std::uint64_t seed, std::uint8_t hash_bits) {
    // Few distinct hashes make long runs and many equal tags.
    const std::uint64_t hash_mask = (std::uint64_t{1} << (1 + hash_bits % 40)) - 1;
    HashIndex index(1 + seed % 3000);
    Prng rng(seed);
    std::map<std::uint32_t, std::uint64_t> model;  // location -> hash
    std::uint32_t next_location = 0;
    for (int step = 0; step < 2000; ++step) {
      const auto choice = rng.below(10);
      if (choice < 6) {
        const std::uint64_t hash = (rng.next() & hash_mask) * 0x9e3779b97f4a7c15ull;
        const bool room = index.reserve(hash);
        RC_ASSERT(room == (model.size() < index.entries_max()));
        if (!room) continue;
        index.insert(hash, next_location);
        model[next_location++] = hash;
      } else if (!model.empty()) {
        auto it = model.begin();
        std::advance(it, static_cast<long>(rng.below(model.size())));
        const auto at = find(index, it->second, it->first);
        RC_ASSERT(at.has_value());
        if (choice < 9) {
          index.erase(*at);
          model.erase(it);
        } else {  // move: the store's overwrite-elsewhere
          index.set_location(*at, next_location);
          model[next_location++] = it->second;
          model.erase(it);
        }
      }
    }
    index.check();
    RC_ASSERT(index.size() == model.size());
    for (const auto& [location, hash] : model) RC_ASSERT(find(index, hash, location).has_value());
  });
}
