// The store's operations for memcached's meta commands (store_meta.cc): mg's marks and win
// tokens, md's invalidation, ms's conditions, ma's options. Expectations are memcached 1.6.18's
// (its answers to the same sequences are quoted where they are not obvious).
#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "components/kv/store/store.h"
#include "tests/kv/store/store_test_util.h"

using namespace doppel::kv;
using namespace doppel::kv::testing;

namespace {

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

// mg with default options: marks fetched, no touch, no vivify, no recache.
MetaItemView mg(Store& store, std::string_view key, const MetaGetOptions& options = {},
                std::int64_t now = kT0) {
  const auto view = store.meta_get(key, options, now);
  REQUIRE(view);
  return *view;
}

MetaItemView peeked(Store& store, std::string_view key, std::int64_t now = kT0) {
  const auto view = store.peek(key, now);
  REQUIRE(view);
  return *view;
}

std::uint64_t cas_of(Store& store, std::string_view key) {
  return peeked(store, key).item.cas;
}

StoreOutcome ms(Store& store, StoreMode mode, std::string_view key, std::string_view value,
                const StoreCondition& condition, std::int64_t exptime = 0) {
  return store.store(mode, key, value, 0, exptime, condition, kT0);
}

}  // namespace

// --- mg

TEST_CASE("store meta: mg says whether the item was fetched before, and marks it (h)", "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("k", "v", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE_FALSE(mg(store, "k").fetched_before);
  REQUIRE(mg(store, "k").fetched_before);
  REQUIRE(peeked(store, "k").fetched_before);
  // A new version is not fetched; a classic get marks it too.
  REQUIRE(store.set("k", "w", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE_FALSE(peeked(store, "k").fetched_before);
  REQUIRE(store.get("k", kT0));
  REQUIRE(mg(store, "k").fetched_before);
  REQUIRE_FALSE(store.meta_get("missing", {}, kT0));
  store.check_invariants();
}

TEST_CASE("store meta: mg with u does not mark the item fetched", "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("k", "v", 0, 0, kT0) == StoreOutcome::stored);
  const MetaGetOptions no_bump{.mark_fetched = false};
  REQUIRE_FALSE(mg(store, "k", no_bump).fetched_before);
  REQUIRE_FALSE(mg(store, "k", no_bump).fetched_before);
  REQUIRE_FALSE(peeked(store, "k").fetched_before);
  REQUIRE_FALSE(mg(store, "k").fetched_before);
  REQUIRE(mg(store, "k", no_bump).fetched_before);
  store.check_invariants();
}

TEST_CASE("store meta: mg T sets a new exptime; a past one answers the item, then it is gone",
          "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("k", "v", 3, kT0 + 10, kT0) == StoreOutcome::stored);
  const auto cas = cas_of(store, "k");
  const MetaItemView touched = mg(store, "k", {.touch_exptime = kT0 + 100});
  REQUIRE(touched.exptime == kT0 + 100);
  REQUIRE(touched.item.value == "v");
  REQUIRE(touched.item.cas == cas);  // a touch is not a new version
  REQUIRE(peeked(store, "k", kT0 + 50).exptime == kT0 + 100);
  REQUIRE(mg(store, "k", {.touch_exptime = 0}, kT0 + 50).exptime == 0);  // never
  REQUIRE(store.get("k", kT0 + 1'000'000));
  const MetaItemView last = mg(store, "k", {.touch_exptime = kT0}, kT0 + 60);
  REQUIRE(last.item.value == "v");
  REQUIRE(last.item.client_flags == 3);
  REQUIRE_FALSE(store.get("k", kT0 + 60));
  REQUIRE(store.stats().items_live == 0);
  REQUIRE_FALSE(store.meta_get("k", {.touch_exptime = kT0 + 100}, kT0 + 60));
  store.check_invariants();
}

TEST_CASE("store meta: mg N on a miss stores an empty item and wins; later gets see the token",
          "[unit]") {
  Store store(small_options());
  const MetaGetOptions vivify{.vivify_exptime = kT0 + 30};
  const MetaItemView first = mg(store, "k", vivify);
  REQUIRE(first.created);
  REQUIRE(first.won);
  REQUIRE_FALSE(first.token_was_sent);
  REQUIRE_FALSE(first.stale);
  REQUIRE(first.item.value.empty());
  REQUIRE(first.exptime == kT0 + 30);
  REQUIRE(first.item.cas == store.last_cas());
  for (int i = 0; i < 3; ++i) {
    const MetaItemView later = mg(store, "k", i == 0 ? vivify : MetaGetOptions{});
    REQUIRE_FALSE(later.created);
    REQUIRE_FALSE(later.won);
    REQUIRE(later.token_was_sent);
    REQUIRE(later.item.cas == first.item.cas);
  }
  // The recache stores a real value: no token is out for it.
  REQUIRE(store.set("k", "real", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE_FALSE(mg(store, "k").token_was_sent);
  // Without N a miss stores nothing; the vivified item expires as asked.
  REQUIRE_FALSE(store.meta_get("other", {}, kT0));
  REQUIRE_FALSE(store.peek("other", kT0));
  REQUIRE(mg(store, "short", {.vivify_exptime = kT0 + 5}).created);
  REQUIRE_FALSE(store.peek("short", kT0 + 5));
  store.check_invariants();
}

// memcached: "mg k N30" then "me k" says fetch=yes and "mg k h" answers h1; with u, fetch=no
// and h0 (a later mg without u then marks it).
TEST_CASE("store meta: the item an mg N makes counts as fetched, unless u", "[unit]") {
  Store store(small_options());
  REQUIRE(mg(store, "k", {.vivify_exptime = kT0 + 30}).created);
  REQUIRE(peeked(store, "k").fetched_before);
  REQUIRE(mg(store, "k").fetched_before);
  REQUIRE(mg(store, "k", {.mark_fetched = false}).fetched_before);
  const MetaGetOptions no_bump{.mark_fetched = false};
  REQUIRE(mg(store, "u", {.mark_fetched = false, .vivify_exptime = kT0 + 30}).created);
  REQUIRE_FALSE(peeked(store, "u").fetched_before);
  REQUIRE_FALSE(mg(store, "u", no_bump).fetched_before);
  REQUIRE_FALSE(mg(store, "u").fetched_before);
  REQUIRE(mg(store, "u", no_bump).fetched_before);
  // A vivify on a hit is an ordinary mg: u leaves the mark as it is.
  REQUIRE(store.set("v", "x", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE_FALSE(mg(store, "v", {.mark_fetched = false, .vivify_exptime = kT0 + 30}).created);
  REQUIRE_FALSE(peeked(store, "v").fetched_before);
  store.check_invariants();
}

// memcached's mget reads h before its delayed bump, and the item it has just made was never
// fetched: "mg k N30 h" on a miss answers h0 (then "mg k h" answers h1). MetaItemView's
// fetched_before is "read before this request".
TEST_CASE("store meta: the mg N that makes an item answers it was not fetched before (h0)",
          "[unit]") {
  Store store(small_options());
  const MetaItemView made = mg(store, "k", {.vivify_exptime = kT0 + 30});
  REQUIRE(made.created);
  REQUIRE_FALSE(made.fetched_before);
  REQUIRE(mg(store, "k").fetched_before);
  const MetaItemView made_u = mg(store, "u", {.mark_fetched = false, .vivify_exptime = kT0 + 30});
  REQUIRE(made_u.created);
  REQUIRE_FALSE(made_u.fetched_before);
  store.check_invariants();
}

// memcached makes the item and it is expired at once; its reply is that of a made item. We answer
// the same and keep nothing (meta.cc).
TEST_CASE("store meta: mg N with a past TTL on a miss answers a made item and keeps nothing",
          "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("other", "v", 0, 0, kT0) == StoreOutcome::stored);
  for (const std::int64_t past : {kT0 - 1, kT0, std::int64_t{1}}) {
    CAPTURE(past);
    for (const bool mark_fetched : {true, false}) {
      const std::uint64_t cas_before = store.last_cas();
      const MetaGetOptions o{.mark_fetched = mark_fetched, .vivify_exptime = past};
      const MetaItemView v = mg(store, "k", o);
      REQUIRE(v.created);
      REQUIRE(v.won);
      REQUIRE_FALSE(v.token_was_sent);
      REQUIRE_FALSE(v.fetched_before);
      REQUIRE_FALSE(v.stale);
      REQUIRE(v.item.value.empty());
      REQUIRE(v.item.client_flags == 0);
      REQUIRE(v.item.cas > cas_before);
      REQUIRE(v.item.cas == store.last_cas());
      REQUIRE(v.exptime == static_cast<std::uint32_t>(past));
      // Nothing kept: a miss again, and the next N makes and wins anew.
      REQUIRE_FALSE(store.peek("k", kT0));
      REQUIRE_FALSE(store.meta_get("k", {}, kT0));
      REQUIRE(store.stats().items_live == 1);
      REQUIRE(mg(store, "k", o).created);
      store.check_invariants();
    }
  }
  const MetaItemView made = mg(store, "k", {.vivify_exptime = kT0 + 30});
  REQUIRE(made.created);
  REQUIRE(made.won);
  REQUIRE(peeked(store, "k").exptime == kT0 + 30);
  REQUIRE(store.stats().items_live == 2);
  // On a hit N does nothing, past or not: the item is answered and stays.
  const MetaItemView hit = mg(store, "other", {.vivify_exptime = kT0 - 1});
  REQUIRE_FALSE(hit.created);
  REQUIRE_FALSE(hit.won);
  REQUIRE(hit.item.value == "v");
  REQUIRE(value_of(store.get("other", kT0)) == "v");
  store.check_invariants();
}

TEST_CASE("store meta: mg R wins only when the TTL left is below it, and only once", "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("k", "v", 0, kT0 + 30, kT0) == StoreOutcome::stored);
  REQUIRE_FALSE(mg(store, "k", {.recache_below_s = 30}).won);  // 30 left is not below 30
  REQUIRE_FALSE(mg(store, "k", {.recache_below_s = 1}).won);
  const MetaItemView winner = mg(store, "k", {.recache_below_s = 31});
  REQUIRE(winner.won);
  REQUIRE_FALSE(winner.token_was_sent);
  for (const std::int64_t below : {31, 1000}) {
    const MetaItemView loser = mg(store, "k", {.recache_below_s = below});
    REQUIRE_FALSE(loser.won);
    REQUIRE(loser.token_was_sent);
  }
  // The clock counts: 10 seconds later 20 are left.
  REQUIRE(store.set("t", "v", 0, kT0 + 30, kT0) == StoreOutcome::stored);
  REQUIRE_FALSE(mg(store, "t", {.recache_below_s = 20}, kT0 + 10).won);
  REQUIRE(mg(store, "t", {.recache_below_s = 21}, kT0 + 10).won);
  // An item that never expires is never about to.
  REQUIRE(store.set("forever", "v", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE_FALSE(mg(store, "forever", {.recache_below_s = 1'000'000'000}).won);
  REQUIRE_FALSE(peeked(store, "forever").token_was_sent);
  store.check_invariants();
}

TEST_CASE("store meta: a stale item wins once, whatever the options", "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("k", "v", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE(store.meta_delete("k", {.invalidate = true}, kT0) == DeleteOutcome::deleted);
  const MetaItemView winner = mg(store, "k", {.mark_fetched = false});
  REQUIRE(winner.stale);
  REQUIRE(winner.won);
  REQUIRE_FALSE(winner.token_was_sent);
  REQUIRE(winner.item.value == "v");
  const MetaItemView loser = mg(store, "k", {.recache_below_s = 1000});
  REQUIRE(loser.stale);
  REQUIRE_FALSE(loser.won);
  REQUIRE(loser.token_was_sent);
  store.check_invariants();
}

// --- md

TEST_CASE("store meta: md with another C is exists and changes nothing", "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("k", "v", 0, 0, kT0) == StoreOutcome::stored);
  const auto cas = cas_of(store, "k");
  for (const bool invalidate : {false, true}) {
    const MetaDeleteOptions wrong{.compare_cas = cas + 1, .invalidate = invalidate};
    REQUIRE(store.meta_delete("k", wrong, kT0) == DeleteOutcome::exists);
    const MetaItemView still = peeked(store, "k");
    REQUIRE(still.item.cas == cas);
    REQUIRE_FALSE(still.stale);
  }
  REQUIRE(store.meta_delete("k", {.compare_cas = cas}, kT0) == DeleteOutcome::deleted);
  REQUIRE_FALSE(store.peek("k", kT0));
  REQUIRE(store.meta_delete("k", {}, kT0) == DeleteOutcome::not_found);
  REQUIRE(store.meta_delete("k", {.compare_cas = cas}, kT0) == DeleteOutcome::not_found);
  REQUIRE(store.stats().items_live == 0);
  store.check_invariants();
}

TEST_CASE("store meta: md I marks the item stale under a new cas and re-arms the win token",
          "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("k", "v", 7, kT0 + 10, kT0) == StoreOutcome::stored);
  REQUIRE(mg(store, "k", {.recache_below_s = 100}).won);
  const auto cas = cas_of(store, "k");
  REQUIRE(store.meta_delete("k", {.compare_cas = cas, .invalidate = true}, kT0) ==
          DeleteOutcome::deleted);
  const MetaItemView stale = peeked(store, "k");
  REQUIRE(stale.stale);
  REQUIRE_FALSE(stale.token_was_sent);
  REQUIRE(stale.item.cas > cas);
  REQUIRE(stale.item.cas == store.last_cas());
  REQUIRE(stale.item.value == "v");
  REQUIRE(stale.item.client_flags == 7);
  REQUIRE(stale.exptime == kT0 + 10);
  REQUIRE(mg(store, "k").won);
  // Invalidated again: one more win.
  REQUIRE(store.meta_delete("k", {.invalidate = true}, kT0) == DeleteOutcome::deleted);
  REQUIRE(mg(store, "k").won);
  REQUIRE_FALSE(mg(store, "k").won);
  REQUIRE(store.meta_delete("missing", {.invalidate = true}, kT0) == DeleteOutcome::not_found);
  store.check_invariants();
}

TEST_CASE("store meta: md I with T sets the exptime; a past T removes the item", "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("k", "v", 0, 0, kT0) == StoreOutcome::stored);
  const MetaDeleteOptions later{.invalidate = true, .touch_exptime = kT0 + 5};
  REQUIRE(store.meta_delete("k", later, kT0) == DeleteOutcome::deleted);
  REQUIRE(peeked(store, "k").exptime == kT0 + 5);
  REQUIRE(peeked(store, "k").stale);
  REQUIRE_FALSE(store.peek("k", kT0 + 5));
  REQUIRE(store.set("k", "v", 0, 0, kT0) == StoreOutcome::stored);
  const MetaDeleteOptions past{.invalidate = true, .touch_exptime = kT0 - 1};
  REQUIRE(store.meta_delete("k", past, kT0) == DeleteOutcome::deleted);
  REQUIRE_FALSE(store.peek("k", kT0));
  REQUIRE(store.stats().items_live == 0);
  store.check_invariants();
}

// --- ms: store with a StoreCondition

TEST_CASE("store meta: set, replace, append and prepend with C store only over that cas",
          "[unit]") {
  for (const StoreMode mode :
       {StoreMode::set, StoreMode::replace, StoreMode::append, StoreMode::prepend}) {
    CAPTURE(static_cast<int>(mode));
    Store store(small_options());
    REQUIRE(store.set("k", "first", 0, 0, kT0) == StoreOutcome::stored);
    REQUIRE(store.set("k", "old", 0, 0, kT0) == StoreOutcome::stored);
    const auto cas = cas_of(store, "k");
    for (const std::uint64_t wrong : {cas + 1, cas - 1, cas + 1000, kU64Max}) {
      REQUIRE(ms(store, mode, "k", "new", {.compare_cas = wrong}) == StoreOutcome::exists);
    }
    REQUIRE(value_of(store.get("k", kT0)) == "old");
    REQUIRE(cas_of(store, "k") == cas);
    REQUIRE(ms(store, mode, "k", "new", {.compare_cas = cas}) == StoreOutcome::stored);
    const std::string expected = mode == StoreMode::append    ? "oldnew"
                                 : mode == StoreMode::prepend ? "newold"
                                                              : "new";
    REQUIRE(value_of(store.get("k", kT0)) == expected);
    REQUIRE(cas_of(store, "k") > cas);
    store.check_invariants();
  }
}

TEST_CASE("store meta: add ignores C", "[unit]") {
  Store store(small_options());
  REQUIRE(ms(store, StoreMode::add, "k", "a", {.compare_cas = 12345}) == StoreOutcome::stored);
  const auto cas = cas_of(store, "k");
  REQUIRE(ms(store, StoreMode::add, "k", "b", {.compare_cas = cas}) == StoreOutcome::not_stored);
  REQUIRE(ms(store, StoreMode::add, "k", "b", {.compare_cas = 1, .invalidate = true}) ==
          StoreOutcome::not_stored);
  REQUIRE(value_of(store.get("k", kT0)) == "a");
  store.check_invariants();
}

TEST_CASE(
    "store meta: with C, a missing item is not_found for set and replace, not_stored "
    "for append and prepend",
    "[unit]") {
  Store store(small_options());
  const StoreCondition c{.compare_cas = 5};
  REQUIRE(ms(store, StoreMode::set, "k", "v", c) == StoreOutcome::not_found);
  REQUIRE(ms(store, StoreMode::cas, "k", "v", c) == StoreOutcome::not_found);
  REQUIRE(ms(store, StoreMode::replace, "k", "v", c) == StoreOutcome::not_found);
  REQUIRE(ms(store, StoreMode::append, "k", "v", c) == StoreOutcome::not_stored);
  REQUIRE(ms(store, StoreMode::prepend, "k", "v", c) == StoreOutcome::not_stored);
  // Without C: replace, append and prepend are not_stored, set stores.
  REQUIRE(ms(store, StoreMode::replace, "k", "v", {}) == StoreOutcome::not_stored);
  REQUIRE(ms(store, StoreMode::append, "k", "v", {}) == StoreOutcome::not_stored);
  REQUIRE(store.stats().items_live == 0);
  REQUIRE(ms(store, StoreMode::set, "k", "v", {}) == StoreOutcome::stored);
  store.check_invariants();
}

// memcached: "ms k 1 I C<lower>" answers HD and "mg k v t" then shows the old TTL, Z and X.
TEST_CASE("store meta: I with a lower C stores a stale version keeping the exptime and token",
          "[unit]") {
  for (const StoreMode mode : {StoreMode::set, StoreMode::replace, StoreMode::cas}) {
    CAPTURE(static_cast<int>(mode));
    Store store(small_options());
    REQUIRE(store.set("k", "v1", 0, 0, kT0) == StoreOutcome::stored);
    REQUIRE(store.set("k", "v2", 4, kT0 + 100, kT0) == StoreOutcome::stored);
    REQUIRE(mg(store, "k", {.recache_below_s = 200}).won);
    const auto cas = cas_of(store, "k");
    const StoreCondition lower{.compare_cas = cas - 1, .invalidate = true};
    REQUIRE(store.store(mode, "k", "new", 9, kT0 + 5000, lower, kT0) == StoreOutcome::stored);
    const MetaItemView v = peeked(store, "k");
    REQUIRE(v.item.value == "new");
    REQUIRE(v.item.client_flags == 9);
    REQUIRE(v.stale);
    REQUIRE(v.token_was_sent);
    REQUIRE(v.exptime == kT0 + 100);
    REQUIRE(v.item.cas > cas);
    REQUIRE(v.item.cas == store.last_cas());
    REQUIRE_FALSE(mg(store, "k").won);  // the token is still out
    store.check_invariants();
  }
}

TEST_CASE(
    "store meta: I with a higher C, or on append and prepend, is exists; with an equal C "
    "it is a plain store",
    "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("k", "v1", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE(store.set("k", "v2", 0, kT0 + 100, kT0) == StoreOutcome::stored);
  const auto cas = cas_of(store, "k");
  REQUIRE(ms(store, StoreMode::set, "k", "x", {.compare_cas = cas + 1, .invalidate = true}) ==
          StoreOutcome::exists);
  for (const StoreMode mode : {StoreMode::append, StoreMode::prepend}) {
    REQUIRE(ms(store, mode, "k", "x", {.compare_cas = cas - 1, .invalidate = true}) ==
            StoreOutcome::exists);
  }
  REQUIRE(value_of(store.get("k", kT0)) == "v2");
  // I without C means nothing: a plain set.
  REQUIRE(ms(store, StoreMode::set, "k", "v3", {.invalidate = true}, kT0 + 7) ==
          StoreOutcome::stored);
  REQUIRE_FALSE(peeked(store, "k").stale);
  REQUIRE(peeked(store, "k").exptime == kT0 + 7);
  const StoreCondition equal{.compare_cas = cas_of(store, "k"), .invalidate = true};
  REQUIRE(ms(store, StoreMode::set, "k", "v4", equal, kT0 + 8) == StoreOutcome::stored);
  const MetaItemView v = peeked(store, "k");
  REQUIRE_FALSE(v.stale);
  REQUIRE(v.exptime == kT0 + 8);
  REQUIRE(v.item.value == "v4");
  store.check_invariants();
}

// --- ma

TEST_CASE("store meta: ma with C applies only over that cas", "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("n", "5", 0, 0, kT0) == StoreOutcome::stored);
  const auto cas = cas_of(store, "n");
  REQUIRE(store.arith("n", {.compare_cas = cas + 1}, kT0).outcome == ArithOutcome::exists);
  REQUIRE(value_of(store.get("n", kT0)) == "5");
  const ArithResult r = store.arith("n", {.delta = 2, .compare_cas = cas}, kT0);
  REQUIRE(r.outcome == ArithOutcome::ok);
  REQUIRE(r.value == 7);
  REQUIRE(store.arith("n", {.compare_cas = cas}, kT0).outcome == ArithOutcome::exists);
  REQUIRE(store.arith("missing", {.compare_cas = cas}, kT0).outcome == ArithOutcome::not_found);
  store.check_invariants();
}

// memcached: "ma k N0 J7 D3 v" on a miss answers 7; the next "ma k v" answers 8.
TEST_CASE("store meta: ma N on a miss stores J and answers it without the delta", "[unit]") {
  Store store(small_options());
  REQUIRE(store.arith("k", {.delta = 5}, kT0).outcome == ArithOutcome::not_found);
  REQUIRE_FALSE(store.peek("k", kT0));
  const ArithOptions vivify{.delta = 5, .vivify_exptime = kT0 + 30, .initial = 10};
  const ArithResult made = store.arith("k", vivify, kT0);
  REQUIRE(made.outcome == ArithOutcome::ok);
  REQUIRE(made.value == 10);
  REQUIRE(made.exptime == kT0 + 30);
  REQUIRE(made.cas == store.last_cas());
  REQUIRE(value_of(store.get("k", kT0)) == "10");
  REQUIRE(store.get("k", kT0)->cas == made.cas);
  const ArithResult next = store.arith("k", vivify, kT0);
  REQUIRE(next.outcome == ArithOutcome::ok);
  REQUIRE(next.value == 15);
  // A decrement vivifies the same way; 0 = never expires.
  const ArithResult down =
      store.arith("d", {.increment = false, .delta = 3, .vivify_exptime = 0, .initial = 1}, kT0);
  REQUIRE(down.outcome == ArithOutcome::ok);
  REQUIRE(down.value == 1);
  REQUIRE(down.exptime == 0);
  REQUIRE(peeked(store, "d").exptime == 0);
  REQUIRE_FALSE(peeked(store, "d").fetched_before);  // memcached: fetch=no
  store.check_invariants();
}

// memcached makes the item, expired at once, and answers J; we answer the same and keep nothing
// (meta.cc).
TEST_CASE("store meta: ma N with a past TTL on a miss answers J and keeps nothing", "[unit]") {
  Store store(small_options());
  for (const std::int64_t past : {kT0 - 1, kT0, std::int64_t{1}}) {
    for (const bool increment : {true, false}) {
      CAPTURE(past, increment);
      const std::uint64_t cas_before = store.last_cas();
      const ArithOptions o{
          .increment = increment, .delta = 3, .vivify_exptime = past, .initial = 7};
      const ArithResult r = store.arith("k", o, kT0);
      REQUIRE(r.outcome == ArithOutcome::ok);
      REQUIRE(r.value == 7);
      REQUIRE(r.cas > cas_before);
      REQUIRE(r.cas == store.last_cas());
      REQUIRE(r.exptime == static_cast<std::uint32_t>(past));
      REQUIRE_FALSE(store.peek("k", kT0));
      REQUIRE(store.arith("k", {}, kT0).outcome == ArithOutcome::not_found);
      REQUIRE(store.stats().items_live == 0);
      store.check_invariants();
    }
  }
  // A future N then makes it; on a hit a past N does nothing.
  REQUIRE(store.arith("k", {.vivify_exptime = kT0 + 30, .initial = 7}, kT0).value == 7);
  const ArithResult hit = store.arith("k", {.delta = 2, .vivify_exptime = kT0 - 1}, kT0);
  REQUIRE(hit.outcome == ArithOutcome::ok);
  REQUIRE(hit.value == 9);
  REQUIRE(hit.exptime == kT0 + 30);
  REQUIRE(value_of(store.get("k", kT0)) == "9");
  store.check_invariants();
}

TEST_CASE("store meta: ma T sets the exptime on success only; a past T removes the item",
          "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("n", "5", 0, kT0 + 10, kT0) == StoreOutcome::stored);
  const ArithResult r = store.arith("n", {.touch_exptime = kT0 + 100}, kT0);
  REQUIRE(r.outcome == ArithOutcome::ok);
  REQUIRE(r.exptime == kT0 + 100);
  REQUIRE(peeked(store, "n", kT0 + 50).exptime == kT0 + 100);
  // Refused: the exptime stays.
  const auto cas = cas_of(store, "n");
  REQUIRE(store.arith("n", {.compare_cas = cas + 1, .touch_exptime = 0}, kT0).outcome ==
          ArithOutcome::exists);
  REQUIRE(store.set("text", "abc", 0, kT0 + 10, kT0) == StoreOutcome::stored);
  REQUIRE(store.arith("text", {.touch_exptime = 0}, kT0).outcome == ArithOutcome::non_numeric);
  REQUIRE(peeked(store, "text").exptime == kT0 + 10);
  REQUIRE(peeked(store, "n").exptime == kT0 + 100);
  // Without T the exptime is kept.
  REQUIRE(store.arith("n", {}, kT0).exptime == kT0 + 100);
  // memcached: "ma k T-1 v" answers the new value, then the item is gone.
  const ArithResult last = store.arith("n", {.touch_exptime = kT0 - 1}, kT0);
  REQUIRE(last.outcome == ArithOutcome::ok);
  REQUIRE(last.value == 8);
  REQUIRE_FALSE(store.peek("n", kT0));
  REQUIRE(store.stats().items_live == 1);
  store.check_invariants();
}

TEST_CASE("store meta: ma decr stops at 0 and incr wraps at 2^64", "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("n", "10", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE(store.arith("n", {.increment = false, .delta = 3}, kT0).value == 7);
  const ArithResult floor = store.arith("n", {.increment = false, .delta = 100}, kT0);
  REQUIRE(floor.outcome == ArithOutcome::ok);
  REQUIRE(floor.value == 0);
  REQUIRE(value_of(store.get("n", kT0)) == "0");
  REQUIRE(store.set("m", "18446744073709551615", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE(store.arith("m", {.delta = 2}, kT0).value == 1);
  REQUIRE(value_of(store.get("m", kT0)) == "1");
  REQUIRE(store.arith("m", {.delta = kU64Max}, kT0).value == 0);
  store.check_invariants();
}

TEST_CASE("store meta: a new value from ma clears the fetched, stale and token marks", "[unit]") {
  for (const char* start : {"5", "9"}) {  // in place, and grown to two digits
    CAPTURE(start);
    Store store(small_options());
    REQUIRE(store.set("n", start, 0, 0, kT0) == StoreOutcome::stored);
    REQUIRE(store.meta_delete("n", {.invalidate = true}, kT0) == DeleteOutcome::deleted);
    REQUIRE(mg(store, "n").won);
    const ArithResult r = store.arith("n", {}, kT0);
    REQUIRE(r.outcome == ArithOutcome::ok);
    const MetaItemView v = peeked(store, "n");
    REQUIRE_FALSE(v.stale);
    REQUIRE_FALSE(v.token_was_sent);
    REQUIRE_FALSE(v.fetched_before);
    REQUIRE(v.item.cas == r.cas);
    store.check_invariants();
  }
}

// --- last_cas, peek

TEST_CASE("store meta: last_cas is the cas unique a get then shows", "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("a", "1", 0, 0, kT0) == StoreOutcome::stored);
  REQUIRE(store.last_cas() == store.get("a", kT0)->cas);
  REQUIRE(ms(store, StoreMode::append, "a", "2", {}) == StoreOutcome::stored);
  REQUIRE(store.last_cas() == store.get("a", kT0)->cas);
  REQUIRE(ms(store, StoreMode::set, "b", "xyz", {}) == StoreOutcome::stored);
  REQUIRE(store.last_cas() == store.get("b", kT0)->cas);
  const StoreCondition same{.compare_cas = store.get("a", kT0)->cas};
  REQUIRE(ms(store, StoreMode::replace, "a", std::string(300, 'r'), same) ==
          StoreOutcome::stored);  // grown: written anew
  REQUIRE(store.last_cas() == store.get("a", kT0)->cas);
  REQUIRE(store.set("n", "99", 0, 0, kT0) == StoreOutcome::stored);
  const ArithResult r = store.arith("n", {}, kT0);
  REQUIRE(r.cas == store.last_cas());
  REQUIRE(store.get("n", kT0)->cas == r.cas);
  const std::uint64_t incremented = store.incr("n", 1, kT0).cas;
  REQUIRE(store.get("n", kT0)->cas == incremented);
  store.check_invariants();
}

TEST_CASE("store meta: peek changes nothing", "[unit]") {
  Store store(small_options());
  REQUIRE(store.set("k", "v", 5, kT0 + 20, kT0) == StoreOutcome::stored);
  const auto cas = cas_of(store, "k");
  for (int i = 0; i < 3; ++i) {
    const MetaItemView v = peeked(store, "k");
    REQUIRE(v.item.value == "v");
    REQUIRE(v.item.client_flags == 5);
    REQUIRE(v.item.cas == cas);
    REQUIRE(v.exptime == kT0 + 20);
    REQUIRE(v.item_bytes > 0);
    REQUIRE_FALSE(v.fetched_before);
    REQUIRE_FALSE(v.won);
    REQUIRE_FALSE(v.created);
  }
  REQUIRE_FALSE(mg(store, "k").fetched_before);
  // A stale item peeked is not won, nor is its token sent.
  REQUIRE(store.meta_delete("k", {.invalidate = true}, kT0) == DeleteOutcome::deleted);
  REQUIRE_FALSE(peeked(store, "k").won);
  REQUIRE_FALSE(peeked(store, "k").token_was_sent);
  REQUIRE(mg(store, "k").won);
  REQUIRE_FALSE(store.peek("missing", kT0));
  REQUIRE_FALSE(store.peek(std::string(300, 'k'), kT0));
  store.check_invariants();
}

// --- any sequence

namespace {

// Uniform in [0, n) at every size (rc::gen::inRange narrows its range while the size is small,
// which would leave the first runs with nothing but mg).
int pick(int n) {
  return *rc::gen::resize(100, rc::gen::inRange(0, n));
}

template <class T>
T one_of(std::initializer_list<T> choices) {
  return choices.begin()[pick(static_cast<int>(choices.size()))];
}

}  // namespace

TEST_CASE(
    "store meta: any sequence of meta operations keeps the invariants and wins once per "
    "version",
    "[prop]") {
  rc::prop("check_invariants holds; at most one mg wins between two writes of a key", [] {
    Store store(small_options(2 + pick(3)));  // tight: segments get evicted
    std::map<std::string, bool> armed;        // a write (or a vivify) since the last win
    std::int64_t now = kT0;
    const int steps = 50 + pick(150);
    for (int i = 0; i < steps; ++i) {
      const std::string key(1, one_of({'a', 'b', 'c', 'd', 'e', 'f'}));
      const auto exptime = [&] {
        return one_of<std::int64_t>({0, 0, now - 1, now + 5, now + 100});
      };
      const auto cas = [&]() -> std::optional<std::uint64_t> {
        if (pick(3) != 0) return std::nullopt;
        const auto item = store.peek(key, now);
        const std::uint64_t current = item ? item->item.cas : 1;
        return one_of<std::uint64_t>({current, current - 1, current + 1});
      };
      const auto maybe = [] { return pick(2) == 0; };
      now += pick(3);
      switch (pick(6)) {
        case 0:
        case 1: {
          MetaGetOptions o{.mark_fetched = maybe()};
          if (maybe()) o.touch_exptime = exptime();
          if (maybe()) o.vivify_exptime = exptime();
          if (maybe()) o.recache_below_s = pick(10);
          const auto v = store.meta_get(key, o, now);
          if (v && v->created) armed[key] = true;
          if (v && v->won) {
            RC_ASSERT(armed[key]);
            armed[key] = false;
          }
          break;
        }
        case 2:
        case 3: {
          const auto mode = one_of({StoreMode::set, StoreMode::add, StoreMode::replace,
                                    StoreMode::append, StoreMode::prepend});
          const StoreCondition c{.compare_cas = cas(), .invalidate = maybe()};
          const std::string value(one_of({0, 10, 500, 1000, 1000}), 'v');
          if (store.store(mode, key, value, 0, exptime(), c, now) == StoreOutcome::stored) {
            armed[key] = true;
          }
          break;
        }
        case 4: {
          MetaDeleteOptions o{.compare_cas = cas(), .invalidate = maybe()};
          if (maybe()) o.touch_exptime = exptime();
          if (store.meta_delete(key, o, now) == DeleteOutcome::deleted) armed[key] = true;
          break;
        }
        default: {
          ArithOptions o{.increment = maybe(), .compare_cas = cas()};
          if (maybe()) o.vivify_exptime = exptime();
          if (maybe()) o.touch_exptime = exptime();
          if (store.arith(key, o, now).outcome == ArithOutcome::ok) armed[key] = true;
          break;
        }
      }
      store.check_invariants();
    }
  });
}
