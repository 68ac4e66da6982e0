// DVVSet against the reference implementation's own examples: the eunit tests
// of dvvset.erl (ricardobcl/Dotted-Version-Vectors), one TEST_CASE each, with
// Erlang atoms as strings and integers as decimal strings. Erlang's
// {Entries, Anonymous} tuples are DvvSet{entries, anonymous} literals.
#include "components/dvv/clock/dvvset.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

using namespace doppel::dvv;
using namespace doppel::dvv::dvvset;

namespace {

using Values = std::vector<Value>;

DvvVector vec(std::vector<std::pair<std::string, std::uint64_t>> pairs) {
  DvvVector out;
  for (auto& [id, n] : pairs) out.push_back(DvvVectorEntry{id, n});
  return out;
}

std::int64_t number(const Value& v) {
  return std::stoll(v);
}

// Values "<n>@<timestamp>" stand for the reference's {N, Timestamp} pairs.
std::int64_t timestamp_of(const Value& v) {
  return std::stoll(v.substr(v.find('@') + 1));
}

const LessOrEqual kNumericLe = [](const Value& a, const Value& b) {
  return number(a) <= number(b);
};
const LessOrEqual kTimestampLe = [](const Value& a, const Value& b) {
  return timestamp_of(a) <= timestamp_of(b);
};

}  // namespace

TEST_CASE("dvvset: join gives the causal history as a version vector", "[unit]") {
  const DvvSet a = make("v1");
  const DvvSet a1 = update(a, "a");
  const DvvSet b = make(join(a1), "v2");
  const DvvSet b1 = update(b, a1, "b");
  REQUIRE(join(a).empty());
  REQUIRE(join(a1) == vec({{"a", 1}}));
  REQUIRE(join(b1) == vec({{"a", 1}, {"b", 1}}));
}

TEST_CASE("dvvset: update supersedes what the context saw and keeps the rest", "[unit]") {
  const DvvSet a0 = update(make("v1"), "a");
  const DvvSet a1 = update(make_list(join(a0), {"v2"}), a0, "a");
  const DvvSet a2 = update(make_list(join(a1), {"v3"}), a1, "b");
  const DvvSet a3 = update(make_list(join(a0), {"v4"}), a1, "b");
  const DvvSet a4 = update(make_list(join(a0), {"v5"}), a1, "a");
  REQUIRE(a0 == DvvSet{{{"a", 1, {"v1"}}}, {}});
  REQUIRE(a1 == DvvSet{{{"a", 2, {"v2"}}}, {}});
  REQUIRE(a2 == DvvSet{{{"a", 2, {}}, {"b", 1, {"v3"}}}, {}});
  REQUIRE(a3 == DvvSet{{{"a", 2, {"v2"}}, {"b", 1, {"v4"}}}, {}});
  REQUIRE(a4 == DvvSet{{{"a", 3, {"v5", "v2"}}}, {}});
}

TEST_CASE("dvvset: sync keeps exactly the values neither side made obsolete", "[unit]") {
  const DvvSet x{{{"x", 1, {}}}, {}};
  const DvvSet a = update(make("v1"), "a");
  const DvvSet y = update(make_list({"v2"}), "b");
  const DvvSet a1 = update(make_list(join(a), {"v2"}), "a");
  const DvvSet a3 = update(make_list(join(a1), {"v3"}), "b");
  const DvvSet a4 = update(make_list(join(a1), {"v3"}), "c");
  const LessOrEqual greater_than = [](const Value& l, const Value& r) { return l > r; };
  const DvvSet w{{{"a", 1, {}}}, {}};
  const DvvSet z{{{"a", 2, {"v2", "v1"}}}, {}};
  auto sync2 = [](const DvvSet& p, const DvvSet& q) { return sync(std::vector<DvvSet>{p, q}); };
  REQUIRE(sync2(w, z) == DvvSet{{{"a", 2, {"v2"}}}, {}});
  REQUIRE(sync2(w, z) == sync2(z, w));
  REQUIRE(sync2(a, a1) == sync2(a1, a));
  REQUIRE(sync2(a4, a3) == sync2(a3, a4));
  REQUIRE(sync2(a4, a3) == DvvSet{{{"a", 2, {}}, {"b", 1, {"v3"}}, {"c", 1, {"v3"}}}, {}});
  REQUIRE(sync2(x, a) == DvvSet{{{"a", 1, {"v1"}}, {"x", 1, {}}}, {}});
  REQUIRE(sync2(x, a) == sync2(a, x));
  REQUIRE(sync2(a, y) == DvvSet{{{"a", 1, {"v1"}}, {"b", 1, {"v2"}}}, {}});
  REQUIRE(sync2(y, a) == sync2(a, y));
  REQUIRE(lww(greater_than, a4) == sync2(a4, lww(greater_than, a4)));
}

TEST_CASE("dvvset: two clients, one blind and one with an old context, both survive", "[unit]") {
  // Mary writes v1 without a context; Peter reads v1; Mary writes v2 without a
  // context; Peter writes v3 with the context of v1. v3 supersedes v1 only.
  const DvvSet a0 = update(make_list({"v1"}), "a");
  const DvvVector vv1 = join(a0);
  const DvvSet a1 = update(make_list({"v2"}), a0, "a");
  const DvvSet a2 = update(make_list(vv1, {"v3"}), a1, "a");
  REQUIRE(vv1 == vec({{"a", 1}}));
  REQUIRE(a0 == DvvSet{{{"a", 1, {"v1"}}}, {}});
  REQUIRE(a1 == DvvSet{{{"a", 2, {"v2", "v1"}}}, {}});
  REQUIRE(a2 == DvvSet{{{"a", 3, {"v3", "v2"}}}, {}});
}

TEST_CASE("dvvset: an event at a known id advances it, at a new id adds an entry", "[unit]") {
  // event/3 is private; update/2 on a client clock with a's history shows it.
  const DvvSet a = update(make("v1"), "a");
  REQUIRE(update(make_list(join(a), {"v2"}), a, "a") == DvvSet{{{"a", 2, {"v2"}}}, {}});
  REQUIRE(update(DvvSet{a.entries, {"v2"}}, "a") == DvvSet{{{"a", 2, {"v2", "v1"}}}, {}});
  REQUIRE(update(DvvSet{a.entries, {"v2"}}, "b") ==
          DvvSet{{{"a", 1, {"v1"}}, {"b", 1, {"v2"}}}, {}});
}

TEST_CASE("dvvset: last and lww pick the newest value by the given order", "[unit]") {
  const DvvSet x{{{"a", 4, {"5", "2"}}, {"b", 1, {}}, {"c", 1, {"3"}}}, {}};
  const DvvSet y{{{"a", 4, {"5", "2"}}, {"b", 1, {}}, {"c", 1, {"3"}}}, {"10", "0"}};
  const DvvSet z{{{"a", 4, {"5", "2"}}, {"b", 1, {"1"}}}, {"3"}};
  const DvvSet a{{{"a", 4, {"5@1002345", "7@1002340"}}, {"b", 1, {"4@1001340"}}}, {"2@1001140"}};
  REQUIRE(last(kNumericLe, x) == "5");
  REQUIRE(last(kNumericLe, y) == "10");
  REQUIRE(lww(kNumericLe, x) == DvvSet{{{"a", 4, {"5"}}, {"b", 1, {}}, {"c", 1, {}}}, {}});
  REQUIRE(lww(kNumericLe, y) == DvvSet{{{"a", 4, {}}, {"b", 1, {}}, {"c", 1, {}}}, {"10"}});
  REQUIRE(lww(kNumericLe, z) == DvvSet{{{"a", 4, {"5"}}, {"b", 1, {}}}, {}});
  REQUIRE(lww(kTimestampLe, a) == DvvSet{{{"a", 4, {"5@1002345"}}, {"b", 1, {}}}, {}});
}

TEST_CASE("dvvset: on a tie last and lww take the later candidate", "[unit]") {
  // The reference walks the entries' newest values in id order, then the
  // anonymous values, and moves on whenever the current one is <= the next.
  const LessOrEqual by_digit = [](const Value& a, const Value& b) { return a[0] <= b[0]; };
  const DvvSet x{{{"a", 2, {"5a", "9z"}}, {"b", 1, {"5b"}}, {"c", 1, {"4c"}}}, {}};
  REQUIRE(last(by_digit, x) == "5b");
  REQUIRE(lww(by_digit, x) == DvvSet{{{"a", 2, {}}, {"b", 1, {"5b"}}, {"c", 1, {}}}, {}});
  const DvvSet y{{{"a", 1, {"5a"}}}, {"5x", "3y"}};
  REQUIRE(last(by_digit, y) == "5x");
  REQUIRE(lww(by_digit, y) == DvvSet{{{"a", 1, {}}}, {"5x"}});
}

TEST_CASE("dvvset: reconcile folds every value into one anonymous value", "[unit]") {
  const Reconciler sum = [](const Values& vs) {
    std::int64_t s = 0;
    for (const Value& v : vs) s += number(v);
    return std::to_string(s);
  };
  const Reconciler smallest = [](const Values& vs) {
    Value best = vs.front();
    for (const Value& v : vs) {
      if (number(v) < number(best)) best = v;
    }
    return best;
  };
  const DvvSet x{{{"a", 4, {"5", "2"}}, {"b", 1, {}}, {"c", 1, {"3"}}}, {}};
  const DvvSet y{{{"a", 4, {"5", "2"}}, {"b", 1, {}}, {"c", 1, {"3"}}}, {"10", "0"}};
  REQUIRE(reconcile(sum, x) == DvvSet{{{"a", 4, {}}, {"b", 1, {}}, {"c", 1, {}}}, {"10"}});
  REQUIRE(reconcile(sum, y) == DvvSet{{{"a", 4, {}}, {"b", 1, {}}, {"c", 1, {}}}, {"20"}});
  REQUIRE(reconcile(smallest, x) == DvvSet{{{"a", 4, {}}, {"b", 1, {}}, {"c", 1, {}}}, {"2"}});
  REQUIRE(reconcile(smallest, y) == DvvSet{{{"a", 4, {}}, {"b", 1, {}}, {"c", 1, {}}}, {"0"}});
}

TEST_CASE("dvvset: less is strict causal precedence, by counters alone", "[unit]") {
  // The reference's first id is the Erlang list [a], which sorts after every
  // atom; "zz" sorts after every other id here.
  const DvvSet a = update(make_list({"v1"}), "zz");
  const DvvSet b = update(make_list(join(a), {"v2"}), "a");
  const DvvSet b2 = update(make_list(join(a), {"v2"}), "b");
  const DvvSet b3 = update(make_list(join(a), {"v2"}), "z");
  const DvvSet c = update(make_list(join(b), {"v3"}), a, "c");
  const DvvSet d = update(make_list(join(c), {"v4"}), b2, "d");
  CHECK(less(a, b));
  CHECK(less(a, c));
  CHECK(less(b, c));
  CHECK(less(b, d));
  CHECK(less(b2, d));
  CHECK(less(a, d));
  CHECK_FALSE(less(b2, c));
  CHECK_FALSE(less(b, b2));
  CHECK_FALSE(less(b2, b));
  CHECK_FALSE(less(a, a));
  CHECK_FALSE(less(c, c));
  CHECK_FALSE(less(d, b2));
  CHECK_FALSE(less(b3, d));
}

TEST_CASE("dvvset: equal compares causal histories and ignores the values", "[unit]") {
  const DvvSet a{{{"a", 4, {"v5", "v0"}}, {"b", 0, {}}, {"c", 1, {"v3"}}}, {"v0"}};
  const DvvSet b{{{"a", 4, {"v555", "v0"}}, {"b", 0, {}}, {"c", 1, {"v3"}}}, {}};
  const DvvSet c{{{"a", 4, {"v5", "v0"}}, {"b", 0, {}}}, {"v6", "v1"}};
  CHECK(equal(a, b));
  CHECK(equal(b, a));
  CHECK_FALSE(equal(a, c));
  CHECK_FALSE(equal(b, c));
}

TEST_CASE("dvvset: size counts every value, anonymous ones included", "[unit]") {
  REQUIRE(size(make_list({"v1"})) == 1);
  REQUIRE(size(DvvSet{{{"a", 4, {"v5", "v0"}}, {"b", 0, {}}, {"c", 1, {"v3"}}}, {"v4", "v1"}}) ==
          5);
}

TEST_CASE("dvvset: ids and values list what the clock holds", "[unit]") {
  const DvvSet a{{{"a", 4, {"v0", "v5"}}, {"b", 0, {}}, {"c", 1, {"v3"}}}, {"v1"}};
  const DvvSet b{{{"a", 4, {"v0", "v555"}}, {"b", 0, {}}, {"c", 1, {"v3"}}}, {}};
  const DvvSet c{{{"a", 4, {}}, {"b", 0, {}}}, {"v1", "v6"}};
  auto sorted = [](Values v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  REQUIRE(ids(a) == std::vector<ReplicaId>{"a", "b", "c"});
  REQUIRE(ids(b) == std::vector<ReplicaId>{"a", "b", "c"});
  REQUIRE(ids(c) == std::vector<ReplicaId>{"a", "b"});
  REQUIRE(sorted(values(a)) == Values{"v0", "v1", "v3", "v5"});
  REQUIRE(sorted(values(b)) == Values{"v0", "v3", "v555"});
  REQUIRE(sorted(values(c)) == Values{"v1", "v6"});
  // Order: anonymous values first, then each entry's, newest first.
  REQUIRE(values(a) == Values{"v1", "v0", "v5", "v3"});
}

TEST_CASE("dvvset: a context's order does not matter to make", "[unit]") {
  const DvvVector shuffled = vec({{"c", 3}, {"a", 1}, {"b", 2}});
  REQUIRE(make(shuffled, "v") == DvvSet{{{"a", 1, {}}, {"b", 2, {}}, {"c", 3, {}}}, {"v"}});
}

TEST_CASE("dvvset: concurrent anonymous values are kept as one sorted set", "[unit]") {
  // The reference keeps "all unique anonymous values" in an Erlang set
  // (unspecified order); we keep them sorted so that sync commutes exactly.
  const DvvSet p{{{"a", 1, {}}}, {"v2", "v1"}};
  const DvvSet q{{{"b", 1, {}}}, {"v1", "v3"}};
  REQUIRE(sync(p, q).anonymous == Values{"v1", "v2", "v3"});
  REQUIRE(sync(p, q) == sync(q, p));
  // An older clock's anonymous values go, the newer clock's stay as they are.
  const DvvSet newer{{{"a", 2, {}}}, {"v9", "v8"}};
  REQUIRE(sync(p, newer).anonymous == Values{"v9", "v8"});
  REQUIRE(sync(std::vector<DvvSet>{}) == DvvSet{});
}
