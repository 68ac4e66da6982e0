// Memory: FIFO segment eviction, in-place overwrites, the balances of the
// stats, and the bytes an item costs.
#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "components/kv/store/store.h"
#include "runtime/random.h"
#include "tests/kv/store/store_test_util.h"

using namespace doppel::kv;
using namespace doppel::kv::testing;
using doppel::Prng;

namespace {

std::string numbered_key(int i) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "key-%04d", i);
  return buffer;
}

}  // namespace

TEST_CASE("store: filling a small memory evicts the oldest segment whole, in FIFO order",
          "[unit]") {
  Store store(small_options(4));  // 4 segments of 4 KiB
  EvictionRecorder recorder;
  store.set_eviction_listener(&recorder);
  const std::string value(200, 'v');  // 15 + 8 + 200 = 223 bytes: 224 a slot, 18 a segment
  constexpr int kItems = 500;
  for (int i = 0; i < kItems; ++i) {
    REQUIRE(store.set(numbered_key(i), value, 0, 0, kT0) == StoreOutcome::stored);
    const auto stats = store.stats();
    REQUIRE(stats.segments_in_use <= 4);
    REQUIRE(stats.bytes_allocated <= store.options().memory_bytes_max);
  }
  store.check_invariants();
  const auto stats = store.stats();
  // The evicted keys are exactly the oldest ones, in order, whole segments at a time.
  REQUIRE(recorder.keys.size() % 18 == 0);
  for (std::size_t i = 0; i < recorder.keys.size(); ++i)
    REQUIRE(recorder.keys[i] == numbered_key(int(i)));
  for (int i = 0; i < kItems; ++i) {
    REQUIRE(store.get(numbered_key(i), kT0).has_value() == (i >= int(recorder.keys.size())));
  }
  REQUIRE(stats.items_evicted == recorder.keys.size());
  REQUIRE(stats.segments_evicted == recorder.keys.size() / 18);
  REQUIRE(recorder.segments.size() == stats.segments_evicted);
  for (const auto& segment : recorder.segments) REQUIRE(segment.items_evicted == 18);
  REQUIRE(stats.items_live + stats.items_evicted == kItems);
  REQUIRE(stats.segments_in_use == 4);
}

TEST_CASE("store: memory never exceeds its limit, whatever the item sizes", "[prop]") {
  rc::prop("segments_in_use <= segments_max", [](std::uint64_t seed) {
    const auto segments = static_cast<std::uint32_t>(1 + seed % 5);
    Store store(small_options(segments));
    Prng rng(seed);
    for (int i = 0; i < 2000; ++i) {
      const std::string key = "k" + std::to_string(rng.below(300));
      const std::string value(rng.below(900), 'x');
      RC_ASSERT(store.set(key, value, 0, 0, kT0) == StoreOutcome::stored);
      RC_ASSERT(value_of(store.get(key, kT0)) == value);  // the newest write is never evicted
      RC_ASSERT(store.stats().segments_in_use <= segments);
    }
    store.check_invariants();
    RC_ASSERT(store.stats().bytes_allocated <= store.options().memory_bytes_max);
  });
}

TEST_CASE("store: same-size updates are written in place: no growth, no eviction", "[unit]") {
  Store store(small_options(4));  // room for 72 such items, not for two versions of 50
  for (int i = 0; i < 50; ++i) {
    REQUIRE(store.set(numbered_key(i), std::string(200, 'a'), 1, 0, kT0) == StoreOutcome::stored);
  }
  const auto before = store.stats();
  Prng rng(5);
  for (int round = 0; round < 20'000; ++round) {
    const int i = static_cast<int>(rng.below(50));
    const std::string value(200, static_cast<char>('a' + round % 26));
    // Non-zero flags throughout: flags 0 are not stored, so 0 <-> non-0 changes the size.
    REQUIRE(store.set(numbered_key(i), value, 1 + round % 7, 0, kT0) == StoreOutcome::stored);
  }
  const auto after = store.stats();
  REQUIRE(after.segments_in_use == before.segments_in_use);
  REQUIRE(after.items_evicted == 0);
  REQUIRE(after.dead_bytes == 0);
  REQUIRE(after.overwrites_in_place == 20'000);
  REQUIRE(after.items_live == 50);
  store.check_invariants();
}

TEST_CASE("store: a shorter value fits in place, a longer one moves and leaves dead bytes",
          "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("k", std::string(200, 'a'), 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE(store.set("k", std::string(10, 'b'), 1, 0, kT0) == StoreOutcome::stored);
  REQUIRE(store.stats().overwrites_in_place == 1);
  REQUIRE(store.set("k", std::string(200, 'c'), 0, 0, kT0) == StoreOutcome::stored);  // back
  REQUIRE(store.stats().overwrites_in_place == 2);
  REQUIRE(store.stats().dead_bytes == 0);
  REQUIRE(store.set("k", std::string(300, 'd'), 0, 0, kT0) == StoreOutcome::stored);
  const auto stats = store.stats();
  REQUIRE(stats.overwrites_moved == 1);
  REQUIRE(stats.dead_bytes == item_footprint_bytes(item_used_bytes(1, 200, 0)));
  REQUIRE(value_of(store.get("k", kT0)) == std::string(300, 'd'));
  store.check_invariants();
}

TEST_CASE("store: a full index evicts the oldest segment", "[unit]") {
  StoreOptions options = small_options();
  options.index_entries_max = 10;
  Store store(options);
  EvictionRecorder recorder;
  store.set_eviction_listener(&recorder);
  for (int i = 0; i < 10; ++i) {
    REQUIRE(store.set(numbered_key(i), "v", 0, 0, kT0) == StoreOutcome::stored);
  }
  REQUIRE(recorder.keys.empty());
  REQUIRE(store.set(numbered_key(10), "v", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE(recorder.keys.size() == 10);  // they all shared the one segment
  REQUIRE(store.get(numbered_key(10), kT0));
  REQUIRE(store.stats().index_entries == 1);
  store.check_invariants();
}

TEST_CASE("store: live bytes add up to the key and value bytes of the live items", "[prop]") {
  rc::prop("stats balance", [](std::uint64_t seed) {
    Store store(small_options(256));
    Prng rng(seed);
    std::map<std::string, std::string> model;
    for (int step = 0; step < 1500; ++step) {
      const std::string key = "key" + std::to_string(rng.below(100));
      const auto choice = rng.below(10);
      if (choice < 5) {
        const std::string value(rng.below(300), static_cast<char>('a' + rng.below(26)));
        RC_ASSERT(store.set(key, value, 0, 0, kT0) == StoreOutcome::stored);
        model[key] = value;
      } else if (choice < 7) {
        const std::string more(rng.below(40), '+');
        const bool present = model.count(key) != 0;
        const bool fits = present && item_used_bytes(key.size(), model[key].size() + more.size(),
                                                     0) <= store.options().item_bytes_max;
        const auto outcome = store.append(key, more, kT0);
        if (!present) RC_ASSERT(outcome == StoreOutcome::not_stored);
        if (present && fits) model[key] += more;
      } else {
        store.remove(key, kT0);
        model.erase(key);
      }
    }
    std::uint64_t live = 0;
    for (const auto& [key, value] : model) live += key.size() + value.size();
    const auto stats = store.stats();
    RC_ASSERT(stats.items_evicted == 0u);
    RC_ASSERT(stats.items_live == model.size());
    RC_ASSERT(stats.live_bytes == live);
    RC_ASSERT(stats.live_footprint_bytes + stats.dead_bytes <= stats.bytes_allocated);
    store.check_invariants();
  });
}

TEST_CASE("store: bytes per item for 1 M items of 30-byte keys and 200-byte values", "[unit]") {
  StoreOptions options;  // 2 MiB segments, 1 MiB items
  options.memory_bytes_max = 512ull << 20;
  options.hash_seed = 11;
  Store store(options);
  constexpr int kItems = 1'000'000;
  char key[31];
  std::string value(200, 'v');
  for (int i = 0; i < kItems; ++i) {
    std::snprintf(key, sizeof key, "user:%025d", i);
    value[i % 200] = static_cast<char>('a' + i % 26);
    REQUIRE(store.set(std::string_view(key, 30), value, 0, 0, kT0) == StoreOutcome::stored);
  }
  REQUIRE(store.get("user:0000000000000000000123456", kT0));
  const auto stats = store.stats();
  REQUIRE(stats.items_live == kItems);
  REQUIRE(stats.live_bytes == std::uint64_t{kItems} * 230);
  const double segments = double(stats.bytes_allocated) / kItems;
  const double index = double(stats.index_bytes) / kItems;
  const double ratio = double(stats.bytes_allocated + stats.index_bytes) / double(stats.live_bytes);
  std::printf(
      "kv store, 1M items of 30+200 bytes: %.1f segment bytes + %.2f index bytes = %.1f bytes "
      "an item; (segments + index) / live key+value bytes = %.3f (%" PRIu64 " segments, %" PRIu64
      " index bytes)\n",
      segments, index, segments + index, ratio, stats.segments_in_use, stats.index_bytes);
  REQUIRE(ratio < 1.15);
  store.check_invariants();
}
