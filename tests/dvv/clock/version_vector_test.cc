// The version vector baseline: riak_core vclock.erl's eunit examples, each
// pruning rule on hand-built clocks, descends/merge as a lattice, and the
// object-level PUT and sync of Riak 0.13.
#include "components/dvv/clock/version_vector.h"

#include <rapidcheck/catch.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "components/dvv/clock/object_clock.h"
#include "tests/dvv/clock/history.h"

using namespace doppel::dvv;
using namespace doppel::dvv::vv;

namespace {

constexpr std::int64_t kNow = 63'000'000'000;  // about now, in gregorian seconds as Riak counts

VersionVector clock(std::vector<VvEntry> entries) {
  std::sort(entries.begin(), entries.end(),
            [](const VvEntry& x, const VvEntry& y) { return x.actor < y.actor; });
  VersionVector out{std::move(entries)};
  REQUIRE(is_well_formed(out));
  return out;
}

VvPruneOptions options(std::size_t small, std::size_t big, std::int64_t young, std::int64_t old) {
  return VvPruneOptions{small, big, young, old};
}

std::vector<ActorId> actors(const VersionVector& v) {
  std::vector<ActorId> out;
  for (const VvEntry& e : v.entries) out.push_back(e.actor);
  return out;
}

// n entries "a00".."a<n-1>"; entry i stamped now - ages_s[i].
VersionVector aged(const std::vector<std::int64_t>& ages_s) {
  std::vector<VvEntry> entries;
  for (std::size_t i = 0; i < ages_s.size(); ++i) {
    const std::string actor = (i < 10 ? "a0" : "a") + std::to_string(i);
    entries.push_back(VvEntry{actor, 1, kNow - ages_s[i]});
  }
  return clock(std::move(entries));
}

rc::Gen<VersionVector> gen_clock() {
  // A small alphabet of actors, counters and timestamps, so that clocks overlap.
  return rc::gen::map(
      rc::gen::container<std::vector<std::tuple<int, int, int>>>(
          rc::gen::tuple(rc::gen::inRange(0, 5), rc::gen::inRange(1, 4), rc::gen::inRange(0, 3))),
      [](const std::vector<std::tuple<int, int, int>>& raw) {
        std::vector<VvEntry> entries;
        for (const auto& [a, n, t] : raw) {
          const ActorId actor(1, static_cast<char>('a' + a));
          bool present = false;
          for (const VvEntry& e : entries) present = present || e.actor == actor;
          if (!present) entries.push_back(VvEntry{actor, static_cast<std::uint64_t>(n), t});
        }
        std::sort(entries.begin(), entries.end(),
                  [](const VvEntry& x, const VvEntry& y) { return x.actor < y.actor; });
        return VersionVector{std::move(entries)};
      });
}

}  // namespace

namespace rc {
template <>
struct Arbitrary<VersionVector> {
  static Gen<VersionVector> arbitrary() { return gen_clock(); }
};
}  // namespace rc

TEST_CASE("vv: increment, descends and merge as in vclock.erl's example", "[unit]") {
  const VersionVector a, b;
  const VersionVector a1 = increment(a, "a", kNow);
  const VersionVector b1 = increment(b, "b", kNow);
  CHECK(descends(a1, a));
  CHECK(descends(b1, b));
  CHECK_FALSE(descends(a1, b1));
  const VersionVector a2 = increment(a1, "a", kNow);
  const VersionVector c = merge(a2, b1);
  const VersionVector c1 = increment(c, "c", kNow);
  CHECK(descends(c1, a2));
  CHECK(descends(c1, b1));
  CHECK_FALSE(descends(b1, c1));
  CHECK_FALSE(descends(b1, a1));
}

TEST_CASE("vv: dominates is strict, and equal clocks dominate neither way", "[unit]") {
  const VersionVector a1 = increment(VersionVector{}, "a", kNow);
  const VersionVector a2 = increment(a1, "b", kNow);
  const VersionVector a3 = increment(a2, "a", kNow);
  const VersionVector b4 = increment(a3, "b", kNow);
  const VersionVector b5 = increment(a3, "b", kNow);
  CHECK(dominates(b4, a3));
  CHECK_FALSE(dominates(a3, b4));
  CHECK(b4 == b5);
  CHECK_FALSE(dominates(b4, b5));
  CHECK_FALSE(dominates(b5, b4));
  CHECK(counter(a3, "a") == 2);
  CHECK(counter(a3, "b") == 1);
  CHECK(counter(a3, "zz") == 0);
}

TEST_CASE("vv: merge takes each actor's higher counter, and on a tie the later timestamp",
          "[unit]") {
  const VersionVector vc1 = clock({{"1", 1, 1}, {"2", 2, 2}, {"4", 4, 4}});
  const VersionVector vc2 = clock({{"3", 3, 3}, {"4", 3, 3}});
  CHECK(merge(vc1, vc2) == clock({{"1", 1, 1}, {"2", 2, 2}, {"3", 3, 3}, {"4", 4, 4}}));
  CHECK(merge(clock({{"5", 5, 5}}), clock({{"6", 6, 6}, {"7", 7, 7}})) ==
        clock({{"5", 5, 5}, {"6", 6, 6}, {"7", 7, 7}}));
  CHECK(merge(clock({{"6", 6, 6}, {"7", 7, 7}}), clock({{"5", 5, 5}})) ==
        clock({{"5", 5, 5}, {"6", 6, 6}, {"7", 7, 7}}));
  CHECK(merge(clock({{"1", 1, 2}, {"2", 1, 4}}), clock({{"1", 1, 3}, {"3", 1, 5}})) ==
        clock({{"1", 1, 3}, {"2", 1, 4}, {"3", 1, 5}}));
  CHECK(merge(VersionVector{}, VersionVector{}) == VersionVector{});
}

TEST_CASE("vv: merge is the least clock that descends both", "[prop]") {
  rc::prop("descends(c, merge(a, b)) == descends(c, a) && descends(c, b)",
           [](const VersionVector& a, const VersionVector& b, const VersionVector& c) {
             const VersionVector m = merge(a, b);
             RC_ASSERT(m == merge(b, a));
             RC_ASSERT(merge(m, a) == m);
             RC_ASSERT(descends(m, a));
             RC_ASSERT(descends(m, b));
             RC_ASSERT(descends(c, m) == (descends(c, a) && descends(c, b)));
           });
  rc::prop("descends is reflexive and transitive",
           [](const VersionVector& a, const VersionVector& b, const VersionVector& c) {
             RC_ASSERT(descends(a, a));
             RC_ASSERT(descends(a, VersionVector{}));
             if (descends(a, b) && descends(b, c)) RC_ASSERT(descends(a, c));
             RC_ASSERT(!(dominates(a, b) && dominates(b, a)));
           });
}

// --- pruning, rule by rule (vclock.erl's prune tests first)

TEST_CASE("vv prune: a clock of small_vclock entries or fewer is kept, however old", "[unit]") {
  const std::int64_t old = kNow - 32'000'000;
  const VersionVector small = clock({{"1", 1, old}, {"2", 2, old}, {"3", 3, old}});
  CHECK(prune(small, kNow, options(4, 50, 20, 86400)) == small);
  // With Riak's defaults: 50 ancient entries stay, a 51st makes it prune to 50.
  std::vector<std::int64_t> ages(50, 10'000'000);
  CHECK(prune(aged(ages), kNow, VvPruneOptions{}) == aged(ages));
  ages.push_back(10'000'001);
  CHECK(prune(aged(ages), kNow, VvPruneOptions{}).entries.size() == 50);
  CHECK(counter(prune(aged(ages), kNow, VvPruneOptions{}), "a50") == 0);  // the oldest went
}

TEST_CASE("vv prune: no entry younger than young_vclock is removed, however long the clock",
          "[unit]") {
  const VersionVector young = clock({{"1", 1, kNow - 1}, {"2", 2, kNow - 1}, {"3", 3, kNow - 1}});
  CHECK(prune(young, kNow, options(1, 50, 1000, 86400)) == young);
  // Three entries old enough to go, seven young ones: big_vclock 2 is not reached.
  const VersionVector mixed = aged({100, 100, 100, 5, 5, 5, 5, 5, 5, 5});
  const VersionVector pruned = prune(mixed, kNow, options(2, 2, 20, 86400));
  CHECK(pruned.entries.size() == 7);
  for (const VvEntry& e : pruned.entries) CHECK(kNow - e.timestamp_s < 20);
  // An entry stamped in the future (a skewed clock) is young.
  const VersionVector ahead = aged({-1000, -1000, -1000});
  CHECK(prune(ahead, kNow, options(1, 1, 20, 86400)) == ahead);
}

TEST_CASE("vv prune: a clock over big_vclock loses its oldest entries down to big_vclock",
          "[unit]") {
  const std::int64_t t = kNow - 1000;
  const VersionVector three = clock({{"1", 1, t}, {"2", 2, t}, {"3", 3, t}});
  CHECK(prune(three, kNow, options(1, 2, 1, 100000)).entries.size() == 2);
  // Distinct ages, none past old_vclock: exactly the four oldest go.
  const VersionVector twelve = aged({101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112});
  const VersionVector pruned = prune(twelve, kNow, options(5, 8, 20, 86400));
  CHECK(actors(pruned) ==
        std::vector<ActorId>{"a00", "a01", "a02", "a03", "a04", "a05", "a06", "a07"});
}

TEST_CASE("vv prune: entries older than old_vclock go even below big_vclock, down to small",
          "[unit]") {
  const VersionVector vc =
      clock({{"1", 1, kNow - 1000}, {"2", 2, kNow - 100000}, {"3", 3, kNow - 100000}});
  CHECK(actors(prune(vc, kNow, options(1, 2, 1, 10000))) == std::vector<ActorId>{"1"});
  // Four entries past old_vclock, two not; small_vclock 3 stops it at three.
  const VersionVector six = aged({5000, 4000, 3000, 2000, 10, 10});
  CHECK(actors(prune(six, kNow, options(3, 8, 1, 1000))) ==
        std::vector<ActorId>{"a03", "a04", "a05"});
  // Not past old_vclock and not over big_vclock: kept.
  CHECK(prune(six, kNow, options(3, 8, 1, 100000)) == six);
}

TEST_CASE("vv prune: young means strictly younger than young_vclock, old strictly older",
          "[unit]") {
  // vclock.erl keeps the clock when now - ts < young_vclock, and prunes a
  // clock no longer than big_vclock only when now - ts > old_vclock.
  CHECK(prune(aged({20, 20, 20}), kNow, options(1, 1, 20, 86400)).entries.size() == 1);
  CHECK(prune(aged({19, 19, 19}), kNow, options(1, 1, 20, 86400)).entries.size() == 3);
  CHECK(prune(aged({1000, 1000}), kNow, options(1, 2, 1, 1000)).entries.size() == 2);
  CHECK(prune(aged({1001, 1001}), kNow, options(1, 2, 1, 1000)).entries.size() == 1);
}

TEST_CASE("vv prune: equal timestamps are broken by actor, so every replica prunes alike",
          "[unit]") {
  const std::int64_t old = kNow - 100000;
  const VersionVector vc = clock({{"1", 1, old}, {"2", 2, old}});
  CHECK(actors(prune(vc, kNow, options(1, 2, 1, 10000))) == std::vector<ActorId>{"2"});
}

TEST_CASE("vv prune: extreme timestamps neither overflow nor crash", "[unit]") {
  constexpr std::int64_t lo = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t hi = std::numeric_limits<std::int64_t>::max();
  const VersionVector ancient = clock({{"1", 1, lo}, {"2", 1, lo}});
  CHECK(prune(ancient, hi, options(1, 1, 20, 86400)).entries.size() == 1);
  const VersionVector future = clock({{"1", 1, hi}, {"2", 1, hi}});
  CHECK(prune(future, lo, options(1, 1, 20, 86400)) == future);
}

// --- objects: Riak 0.13's PUT and syntactic merge

TEST_CASE("vv object: a PUT with the GET's context supersedes what it read", "[unit]") {
  const VvPruneOptions opts;
  const VvObject v1 = put(VvObject{}, nullptr, "v1", "alice", kNow, opts);
  REQUIRE(v1.siblings == std::vector<Value>{"v1"});
  const VvObject v2 = put(v1, &v1.clock, "v2", "bob", kNow + 1, opts);
  REQUIRE(v2.siblings == std::vector<Value>{"v2"});
  REQUIRE(v2.clock == clock({{"alice", 1, kNow}, {"bob", 1, kNow + 1}}));
}

TEST_CASE("vv object: a blind PUT by a new client becomes a sibling", "[unit]") {
  const VvPruneOptions opts;
  const VvObject v1 = put(VvObject{}, nullptr, "v1", "alice", kNow, opts);
  const VvObject both = put(v1, nullptr, "v2", "bob", kNow + 1, opts);
  REQUIRE(both.siblings == std::vector<Value>{"v1", "v2"});
  // One merged clock for both siblings.
  REQUIRE(both.clock == clock({{"alice", 1, kNow}, {"bob", 1, kNow + 1}}));
}

TEST_CASE("vv object: a blind PUT reusing a known client id is taken as already seen", "[unit]") {
  // Riak 0.13's vnode dropped a PUT whose clock the stored clock descends
  // ("oldobj"): alice's second blind write is {alice, 1} again.
  const VvPruneOptions opts;
  const VvObject v1 = put(VvObject{}, nullptr, "v1", "alice", kNow, opts);
  REQUIRE(put(v1, nullptr, "v2", "alice", kNow + 1, opts) == v1);
}

TEST_CASE("vv object: sync keeps the dominating object, or merges concurrent ones", "[unit]") {
  const VvObject a{clock({{"a", 1, 1}}), {"va"}};
  const VvObject b{clock({{"b", 1, 2}}), {"vb"}};
  const VvObject ab{clock({{"a", 1, 1}, {"b", 1, 2}}), {"va", "vb"}};
  const VvObject c{clock({{"a", 1, 1}, {"c", 1, 3}}), {"vc"}};
  CHECK(sync(a, b) == ab);
  CHECK(sync(b, a) == ab);
  CHECK(sync(a, c) == c);
  CHECK(sync(c, a) == c);
  CHECK(sync(ab, c) ==
        VvObject{clock({{"a", 1, 1}, {"b", 1, 2}, {"c", 1, 3}}), {"va", "vb", "vc"}});
  // Equal clocks with different siblings (a reused client id): the union.
  const VvObject a2{clock({{"a", 1, 1}}), {"va2"}};
  CHECK(sync(a, a2) == VvObject{clock({{"a", 1, 1}}), {"va", "va2"}});
}

TEST_CASE("vv object: sync commutes but does not associate: order can keep an obsolete value",
          "[unit]") {
  // c has seen a; b is concurrent with both. Merging a with b first hides
  // from c that a is obsolete.
  const VvObject a{clock({{"x", 1, 1}}), {"va"}};
  const VvObject b{clock({{"y", 1, 1}}), {"vb"}};
  const VvObject c{clock({{"x", 1, 1}, {"z", 1, 1}}), {"vc"}};
  CHECK(sync(sync(a, b), c).siblings == std::vector<Value>{"va", "vb", "vc"});
  CHECK(sync(a, sync(b, c)).siblings == std::vector<Value>{"vb", "vc"});
}

TEST_CASE("vv object: sync is commutative and idempotent on what PUTs build", "[prop]") {
  rc::prop("sync(a, b) == sync(b, a); sync(a, a) == a", [] {
    const auto ops = *rc::gen::container<std::vector<testing::Op>>(testing::gen_op());
    testing::History h(ClockOptions{ClockKind::vv, VvPruneOptions{2, 3, 5, 50}}, 7);
    h.run(ops);
    const auto& seen = h.seen();
    const VvObject& x = seen[*rc::gen::inRange<std::size_t>(0, seen.size())].vv();
    const VvObject& y = seen[*rc::gen::inRange<std::size_t>(0, seen.size())].vv();
    RC_ASSERT(sync(x, y) == sync(y, x));
    RC_ASSERT(sync(x, x) == x);
  });
}

TEST_CASE("vv object: a PUT prunes the merged clock at the PUT's time", "[unit]") {
  const VvPruneOptions opts = options(2, 2, 0, 86400);
  VvObject obj;
  for (int i = 0; i < 5; ++i) {
    obj = put(obj, &obj.clock, "v" + std::to_string(i), "c" + std::to_string(i), kNow + i, opts);
  }
  REQUIRE(obj.siblings == std::vector<Value>{"v4"});
  REQUIRE(actors(obj.clock) == std::vector<ActorId>{"c3", "c4"});
}
