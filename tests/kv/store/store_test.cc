// The store's operations, one memcached semantic at a time.
#include "components/kv/store/store.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>

#include "tests/kv/store/store_test_util.h"

using namespace doppel::kv;
using namespace doppel::kv::testing;

namespace {
constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();
}

TEST_CASE("store: a missing key reads as nothing", "[unit]") {
  Store store(small_options());
  REQUIRE_FALSE(store.get("nope", kT0));
  REQUIRE(store.touch("nope", 0, kT0) == TouchOutcome::not_found);
  REQUIRE_FALSE(store.gat("nope", 0, kT0));
  REQUIRE(store.remove("nope", kT0) == DeleteOutcome::not_found);
  REQUIRE(store.incr("nope", 1, kT0).outcome == ArithOutcome::not_found);
}

TEST_CASE("store: set then get returns the value, the flags and a cas unique", "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("k", "hello", 42, 0, kT0) == StoreOutcome::stored);
  const auto item = store.get("k", kT0);
  REQUIRE(item);
  REQUIRE(item->value == "hello");
  REQUIRE(item->client_flags == 42);
  REQUIRE(item->cas != 0);
  REQUIRE(store.set("empty", "", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE(value_of(store.get("empty", kT0)).empty());
  store.check_invariants();
}

TEST_CASE("store: every stored version gets a new cas unique", "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("a", "1", 0, 0, kT0) == StoreOutcome::stored);
  const auto first = store.get("a", kT0)->cas;
  REQUIRE(store.set("b", "1", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE(store.set("a", "2", 0, 0, kT0) == StoreOutcome::stored);  // in place
  const auto second = store.get("a", kT0)->cas;
  REQUIRE(second > first);
  REQUIRE(store.append("a", "x", kT0) == StoreOutcome::stored);
  REQUIRE(store.get("a", kT0)->cas > second);
  REQUIRE(store.incr("b", 1, kT0).outcome == ArithOutcome::ok);
  REQUIRE(store.get("b", kT0)->cas > store.get("a", kT0)->cas);
  // A touch is not a new version.
  const auto before = store.get("b", kT0)->cas;
  REQUIRE(store.touch("b", kT0 + 100, kT0) == TouchOutcome::touched);
  REQUIRE(store.get("b", kT0)->cas == before);
}

TEST_CASE("store: an item expires once now reaches its exptime", "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("k", "v", 0, kT0 + 10, kT0) == StoreOutcome::stored);
  REQUIRE(store.get("k", kT0 + 9));
  REQUIRE_FALSE(store.get("k", kT0 + 10));
  REQUIRE(store.stats().items_live == 0);
  REQUIRE(store.stats().items_expired == 1);
  REQUIRE(store.set("forever", "v", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE(store.get("forever", std::numeric_limits<std::int64_t>::max()));
  store.check_invariants();
}

TEST_CASE("store: a set with an exptime already past removes the old value", "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("k", "old", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE(store.set("k", "new", 0, kT0 - 1, kT0) == StoreOutcome::stored);
  REQUIRE_FALSE(store.get("k", kT0));
  REQUIRE(store.set("k", "neg", 0, -1, kT0) == StoreOutcome::stored);
  REQUIRE_FALSE(store.get("k", kT0));
  REQUIRE(store.add("k", "now", 0, kT0, kT0) == StoreOutcome::stored);
  REQUIRE_FALSE(store.get("k", kT0));
  REQUIRE(store.stats().items_live == 0);
  store.check_invariants();
}

TEST_CASE("store: touch and gat set a new exptime", "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("k", "v", 3, kT0 + 5, kT0) == StoreOutcome::stored);
  REQUIRE(store.touch("k", kT0 + 100, kT0) == TouchOutcome::touched);
  REQUIRE(store.get("k", kT0 + 50));
  const auto item = store.gat("k", 0, kT0 + 50);
  REQUIRE(item);
  REQUIRE(item->value == "v");
  REQUIRE(item->client_flags == 3);
  REQUIRE(store.get("k", kT0 + 1'000'000));  // 0 = never
  // A gat into the past hands back the item, which is then gone.
  REQUIRE(value_of(store.gat("k", kT0, kT0 + 60)) == "v");
  REQUIRE_FALSE(store.get("k", kT0 + 60));
  store.check_invariants();
}

TEST_CASE("store: add stores only a missing key, replace only a present one", "[unit]") {
  Store store(small_options());
  REQUIRE(store.replace("k", "r", 0, 0, kT0) == StoreOutcome::not_stored);
  REQUIRE(store.add("k", "a", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE(store.add("k", "b", 0, 0, kT0) == StoreOutcome::not_stored);
  REQUIRE(value_of(store.get("k", kT0)) == "a");
  REQUIRE(store.replace("k", "r", 9, 0, kT0) == StoreOutcome::stored);
  REQUIRE(value_of(store.get("k", kT0)) == "r");
  REQUIRE(store.get("k", kT0)->client_flags == 9);
  // An expired item is missing: add works again, replace does not.
  REQUIRE(store.set("e", "1", 0, kT0 + 1, kT0) == StoreOutcome::stored);
  REQUIRE(store.replace("e", "2", 0, 0, kT0 + 1) == StoreOutcome::not_stored);
  REQUIRE(store.set("e", "1", 0, kT0 + 2, kT0 + 1) == StoreOutcome::stored);
  REQUIRE(store.add("e", "3", 0, 0, kT0 + 2) == StoreOutcome::stored);
  REQUIRE(value_of(store.get("e", kT0 + 2)) == "3");
  store.check_invariants();
}

TEST_CASE("store: append and prepend keep the flags and the exptime", "[unit]") {
  Store store(small_options());
  REQUIRE(store.append("k", "x", kT0) == StoreOutcome::not_stored);
  REQUIRE(store.prepend("k", "x", kT0) == StoreOutcome::not_stored);
  REQUIRE(store.set("k", "mid", 77, kT0 + 10, kT0) == StoreOutcome::stored);
  REQUIRE(store.append("k", "-end", kT0) == StoreOutcome::stored);
  REQUIRE(store.prepend("k", "start-", kT0) == StoreOutcome::stored);
  const auto item = store.get("k", kT0);
  REQUIRE(item->value == "start-mid-end");
  REQUIRE(item->client_flags == 77);
  REQUIRE_FALSE(store.get("k", kT0 + 10));  // the exptime carried over
  store.check_invariants();
}

TEST_CASE("store: append grows a value past 255 and 65535 bytes, in place or moved", "[unit]") {
  StoreOptions options = small_options();
  options.segment_bytes = 1u << 17;
  options.item_bytes_max = 1u << 17;
  options.memory_bytes_max = 4u << 20;
  Store store(options);
  REQUIRE(store.set("k", std::string(250, 'a'), 5, 0, kT0) == StoreOutcome::stored);
  std::string model(250, 'a');
  for (int i = 0; i < 70; ++i) {
    const std::string piece(1000 + i, static_cast<char>('b' + i % 20));
    if (i % 3 == 0) {
      REQUIRE(store.prepend("k", piece, kT0) == StoreOutcome::stored);
      model = piece + model;
    } else {
      REQUIRE(store.append("k", piece, kT0) == StoreOutcome::stored);
      model += piece;
    }
    REQUIRE(value_of(store.get("k", kT0)) == model);
  }
  REQUIRE(model.size() > 65535);
  REQUIRE(store.get("k", kT0)->client_flags == 5);
  store.check_invariants();
}

TEST_CASE("store: cas reports not_found, exists on a mismatch, and stores on a match", "[unit]") {
  Store store(small_options());
  REQUIRE(store.cas("k", "v", 0, 0, 1, kT0) == StoreOutcome::not_found);
  REQUIRE(store.set("k", "v1", 1, 0, kT0) == StoreOutcome::stored);
  const auto unique = store.get("k", kT0)->cas;
  REQUIRE(store.cas("k", "v2", 2, 0, unique + 1, kT0) == StoreOutcome::exists);
  REQUIRE(value_of(store.get("k", kT0)) == "v1");
  REQUIRE(store.cas("k", "v2", 2, kT0 + 5, unique, kT0) == StoreOutcome::stored);
  const auto item = store.get("k", kT0);
  REQUIRE(item->value == "v2");
  REQUIRE(item->client_flags == 2);
  REQUIRE(item->cas != unique);
  REQUIRE(store.cas("k", "v3", 0, 0, unique, kT0) == StoreOutcome::exists);
  REQUIRE(store.cas("k", "v3", 0, 0, item->cas, kT0 + 5) == StoreOutcome::not_found);  // expired
}

TEST_CASE("store: delete removes a key once", "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("k", "v", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE(store.remove("k", kT0) == DeleteOutcome::deleted);
  REQUIRE(store.remove("k", kT0) == DeleteOutcome::not_found);
  REQUIRE_FALSE(store.get("k", kT0));
  REQUIRE(store.stats().dead_bytes > 0);
  store.check_invariants();
}

TEST_CASE("store: incr and decr count in decimal text", "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("n", "99", 4, kT0 + 100, kT0) == StoreOutcome::stored);
  auto r = store.incr("n", 1, kT0);
  REQUIRE(r.outcome == ArithOutcome::ok);
  REQUIRE(r.value == 100);
  REQUIRE(value_of(store.get("n", kT0)) == "100");
  r = store.decr("n", 1, kT0);
  REQUIRE(r.value == 99);
  REQUIRE(value_of(store.get("n", kT0)) == "99");  // shorter again, no padding
  REQUIRE(store.get("n", kT0)->client_flags == 4);
  REQUIRE_FALSE(store.get("n", kT0 + 100));  // the exptime carried over
  REQUIRE(store.set("z", "007", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE(store.incr("z", 0, kT0).value == 7);
  REQUIRE(value_of(store.get("z", kT0)) == "7");
  store.check_invariants();
}

TEST_CASE("store: incr wraps at 2^64 and decr stops at 0", "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("n", "18446744073709551615", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE(store.incr("n", 1, kT0).value == 0);
  REQUIRE(value_of(store.get("n", kT0)) == "0");
  REQUIRE(store.incr("n", kU64Max, kT0).value == kU64Max);
  REQUIRE(store.incr("n", 2, kT0).value == 1);
  REQUIRE(store.decr("n", 5, kT0).value == 0);
  REQUIRE(store.decr("n", kU64Max, kT0).value == 0);
  REQUIRE(value_of(store.get("n", kT0)) == "0");
  REQUIRE(store.incr("n", kU64Max, kT0).value == kU64Max);
  REQUIRE(value_of(store.get("n", kT0)) == "18446744073709551615");  // 1 digit to 20
  store.check_invariants();
}

TEST_CASE("store: incr and decr refuse a value that is not a decimal number", "[unit]") {
  Store store(small_options());
  for (const char* value : {"", "abc", "-1", "1.5", " 1", "18446744073709551616"}) {
    REQUIRE(store.set("n", value, 0, 0, kT0) == StoreOutcome::stored);
    REQUIRE(store.incr("n", 1, kT0).outcome == ArithOutcome::non_numeric);
    REQUIRE(store.decr("n", 1, kT0).outcome == ArithOutcome::non_numeric);
    REQUIRE(value_of(store.get("n", kT0)) == value);
  }
}

TEST_CASE("store: items over the size limit are refused, and a refused set drops the old value",
          "[unit]") {
  Store store(small_options());  // item_bytes_max 1024
  const std::string key = "k";
  const std::size_t fits = 1024 - item_header_bytes(1000, 0) - key.size();
  REQUIRE(store.set(key, std::string(fits, 'x'), 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE(store.set(key, std::string(fits + 1, 'x'), 0, 0, kT0) == StoreOutcome::too_large);
  REQUIRE_FALSE(store.get(key, kT0));
  REQUIRE(store.set(key, "small", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE(store.add("other", std::string(2000, 'x'), 0, 0, kT0) == StoreOutcome::too_large);
  REQUIRE(store.append(key, std::string(fits, 'x'), kT0) == StoreOutcome::too_large);
  REQUIRE(value_of(store.get(key, kT0)) == "small");  // append keeps it
  REQUIRE(store.set(std::string(kKeyBytesMax + 1, 'k'), "v", 0, 0, kT0) == StoreOutcome::too_large);
  REQUIRE_FALSE(store.get(std::string(kKeyBytesMax + 1, 'k'), kT0));
  REQUIRE(store.set(std::string(kKeyBytesMax, 'k'), "v", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE(value_of(store.get(std::string(kKeyBytesMax, 'k'), kT0)) == "v");
  store.check_invariants();
}

TEST_CASE("store: flush_all without delay drops every item at once", "[unit]") {
  Store store(small_options());
  for (int i = 0; i < 100; ++i) {
    REQUIRE(store.set("k" + std::to_string(i), "v", 0, 0, kT0) == StoreOutcome::stored);
  }
  store.flush_all(kT0, kT0);
  REQUIRE_FALSE(store.get("k1", kT0));
  const auto stats = store.stats();
  REQUIRE(stats.items_live == 0);
  REQUIRE(stats.items_flushed == 100);
  REQUIRE(stats.segments_in_use == 0);
  REQUIRE(stats.live_bytes == 0);
  REQUIRE(store.set("k1", "after", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE(value_of(store.get("k1", kT0)) == "after");
  store.check_invariants();
}

TEST_CASE("store: a delayed flush_all drops what was stored before its time", "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("early", "v", 0, 0, kT0) == StoreOutcome::stored);
  store.flush_all(kT0 + 10, kT0);
  REQUIRE(store.set("later", "v", 0, 0, kT0 + 5) == StoreOutcome::stored);
  REQUIRE(store.get("early", kT0 + 9));
  REQUIRE(store.get("later", kT0 + 9));
  REQUIRE_FALSE(store.get("early", kT0 + 10));
  REQUIRE_FALSE(store.get("later", kT0 + 10));
  REQUIRE(store.set("after", "v", 0, 0, kT0 + 10) == StoreOutcome::stored);
  REQUIRE(store.get("after", kT0 + 11));
  store.check_invariants();
}

TEST_CASE("store: a later flush_all replaces a pending one", "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("k", "v", 0, 0, kT0) == StoreOutcome::stored);
  store.flush_all(kT0 + 10, kT0);
  store.flush_all(kT0 + 20, kT0 + 1);
  REQUIRE(store.get("k", kT0 + 15));
  REQUIRE_FALSE(store.get("k", kT0 + 20));
}

TEST_CASE("store: reclaim_expired drops expired items a few slots at a time", "[unit]") {
  Store store(small_options());
  for (int i = 0; i < 200; ++i) {
    const std::int64_t exptime = i % 2 == 0 ? kT0 + 5 : 0;
    REQUIRE(store.set("k" + std::to_string(i), "v", 0, exptime, kT0) == StoreOutcome::stored);
  }
  std::uint64_t reclaimed = 0;
  for (int round = 0; round < 1000 && reclaimed < 100; ++round) {
    reclaimed += store.reclaim_expired(kT0 + 5, 16);
    store.check_invariants();
  }
  REQUIRE(reclaimed == 100);
  REQUIRE(store.stats().items_live == 100);
  REQUIRE(store.stats().items_expired == 100);
  REQUIRE(store.reclaim_expired(kT0 + 5, 10'000) == 0);
}

TEST_CASE("store: views stay valid across reads of other keys", "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("a", "alpha", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE(store.set("b", "beta", 0, kT0 + 1, kT0) == StoreOutcome::stored);
  const auto a = store.get("a", kT0 + 1);
  REQUIRE_FALSE(store.get("b", kT0 + 1));  // reclaims b
  REQUIRE(store.remove("a", kT0 + 1) == DeleteOutcome::deleted);
  REQUIRE(a->value == "alpha");
}

TEST_CASE("store: check_options names what is wrong", "[unit]") {
  REQUIRE(check_options(StoreOptions{}).ok());
  StoreOptions options;
  options.segment_bytes = 3000;
  REQUIRE(check_options(options).code() == doppel::Errc::invalid_argument);
  options = StoreOptions{};
  options.item_bytes_max = 4u << 20;  // larger than a 2 MiB segment
  REQUIRE_FALSE(check_options(options).ok());
  REQUIRE(check_options(options).error().what.find("segment_bytes") != std::string::npos);
  options.segment_bytes = 4u << 20;
  REQUIRE(check_options(options).ok());
  options = StoreOptions{};
  options.memory_bytes_max = 1000;
  REQUIRE_FALSE(check_options(options).ok());
  options.memory_bytes_max = 32ull << 30;  // over 16 GiB a core
  REQUIRE_FALSE(check_options(options).ok());
}
