// The one interface over both clock kinds, as the store will call it.
#include "components/dvv/clock/object_clock.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

using namespace doppel;
using namespace doppel::dvv;

namespace {

constexpr std::int64_t kT0 = 1'700'000'000;

std::set<Value> as_set(const std::vector<Value>& v) {
  return {v.begin(), v.end()};
}

Write write(Value value, std::optional<Context> context, ReplicaId coordinator, ActorId client,
            std::int64_t t) {
  return Write{std::move(value), std::move(context), std::move(coordinator), std::move(client), t};
}

}  // namespace

TEST_CASE("object: clock kinds parse by their names and by nothing else", "[unit]") {
  REQUIRE(parse_clock_kind("dvvset").value() == ClockKind::dvvset);
  REQUIRE(parse_clock_kind("vv").value() == ClockKind::vv);
  REQUIRE(clock_kind_name(ClockKind::dvvset) == "dvvset");
  REQUIRE(clock_kind_name(ClockKind::vv) == "vv");
  for (const char* bad : {"", "dvv", "VV", "dvvset ", "vclock"}) {
    const auto parsed = parse_clock_kind(bad);
    REQUIRE_FALSE(parsed.ok());
    REQUIRE(parsed.code() == Errc::invalid_argument);
  }
}

TEST_CASE("object: a missing key is an empty object with an empty context", "[unit]") {
  for (const ClockKind kind : {ClockKind::dvvset, ClockKind::vv}) {
    const Object o = Object::empty(kind);
    REQUIRE(o.kind() == kind);
    REQUIRE(o.siblings().empty());
    REQUIRE(o.sibling_count() == 0);
    REQUIRE(o.clock_entry_count() == 0);
    REQUIRE(o.context().kind() == kind);
    REQUIRE(sync(o, o) == o);
  }
}

TEST_CASE("object: dvvset: two clients, one blind, keep exactly the concurrent values", "[unit]") {
  // The reference's sync_update scenario through the interface: Mary writes v1
  // blind; Peter reads; Mary writes v2 blind; Peter writes v3 with v1's context.
  const ClockOptions opts{ClockKind::dvvset, {}};
  Object r = Object::empty(ClockKind::dvvset);
  r = put(r, write("v1", std::nullopt, "a", "mary", kT0), opts);
  const Context peter_read = r.context();
  r = put(r, write("v2", std::nullopt, "a", "mary", kT0 + 1), opts);
  REQUIRE(as_set(r.siblings()) == std::set<Value>{"v1", "v2"});
  r = put(r, write("v3", peter_read, "a", "peter", kT0 + 2), opts);
  REQUIRE(r.siblings() == std::vector<Value>{"v3", "v2"});
  REQUIRE(r.dvvset() == DvvSet{{{"a", 3, {"v3", "v2"}}}, {}});
  REQUIRE(r.clock_entry_count() == 1);
}

TEST_CASE("object: vv: one merged clock cannot tell that v3 superseded v1", "[unit]") {
  // The same scenario on the baseline, each write with a client id of its
  // own: v3's clock {mary1, peter} does not descend {mary1, mary2}, so the
  // merged object keeps v1 too — the siblings a per-object clock cannot shed.
  const ClockOptions opts{ClockKind::vv, {}};
  Object r = Object::empty(ClockKind::vv);
  r = put(r, write("v1", std::nullopt, "a", "mary1", kT0), opts);
  const Context peter_read = r.context();
  r = put(r, write("v2", std::nullopt, "a", "mary2", kT0 + 1), opts);
  r = put(r, write("v3", peter_read, "a", "peter", kT0 + 2), opts);
  REQUIRE(r.siblings() == std::vector<Value>{"v1", "v2", "v3"});
  REQUIRE(r.clock_entry_count() == 3);
  // A write with the GET's context resolves them all.
  r = put(r, write("v4", r.context(), "a", "mary1", kT0 + 3), opts);
  REQUIRE(r.siblings() == std::vector<Value>{"v4"});
}

TEST_CASE("object: the coordinator's result, synced into other replicas, converges", "[unit]") {
  for (const ClockKind kind : {ClockKind::dvvset, ClockKind::vv}) {
    const ClockOptions opts{kind, {}};
    Object r1 = Object::empty(kind), r2 = Object::empty(kind), r3 = Object::empty(kind);
    r1 = put(r1, write("x", std::nullopt, "r1", "c1", kT0), opts);
    r2 = put(r2, write("y", std::nullopt, "r2", "c2", kT0), opts);
    // r3 receives both coordinators' objects, as a replica of each PUT.
    r3 = prune(sync(r3, r1), kT0, opts);
    r3 = prune(sync(r3, r2), kT0, opts);
    REQUIRE(as_set(r3.siblings()) == std::set<Value>{"x", "y"});
    // Read repair: merge all three, in either order.
    const Object merged = sync(sync(r1, r2), r3);
    REQUIRE(merged == sync(r3, sync(r2, r1)));
    REQUIRE(merged == r3);
    // A write with the merged context supersedes both.
    const Object r4 = put(merged, write("z", merged.context(), "r1", "c3", kT0 + 1), opts);
    REQUIRE(r4.siblings() == std::vector<Value>{"z"});
  }
}

TEST_CASE("object: check_write names a context of the other kind and bad ids", "[unit]") {
  const Context dvv_context(DvvVector{{"a", 1}});
  const Context vv_context(VersionVector{{{"c", 1, kT0}}});
  CHECK(check_write(write("v", std::nullopt, "r1", "", 0), ClockKind::dvvset).ok());
  CHECK(check_write(write("v", std::nullopt, "", "c1", 0), ClockKind::vv).ok());
  CHECK(check_write(write("v", dvv_context, "r1", "c1", 0), ClockKind::dvvset).ok());
  const auto wrong = check_write(write("v", vv_context, "r1", "c1", 0), ClockKind::dvvset);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.code() == Errc::invalid_argument);
  CHECK(wrong.error().what.find("vv context") != std::string::npos);
  CHECK_FALSE(check_write(write("v", std::nullopt, "", "c1", 0), ClockKind::dvvset).ok());
  CHECK_FALSE(check_write(write("v", std::nullopt, "r1", "", 0), ClockKind::vv).ok());
  CHECK_FALSE(
      check_write(write("v", std::nullopt, std::string(256, 'r'), "c", 0), ClockKind::dvvset).ok());
  CHECK_FALSE(
      check_write(write("v", std::nullopt, "r", std::string(256, 'c'), 0), ClockKind::vv).ok());
}

TEST_CASE("object: prune changes nothing in a dvvset object", "[unit]") {
  const ClockOptions opts{ClockKind::dvvset, VvPruneOptions{0, 0, 0, 0}};
  Object r = Object::empty(ClockKind::dvvset);
  for (int i = 0; i < 5; ++i) {
    r = put(r, write("v" + std::to_string(i), std::nullopt, "r" + std::to_string(i), "c", kT0),
            opts);
  }
  REQUIRE(prune(r, kT0 + 1'000'000, opts) == r);
  REQUIRE(r.sibling_count() == 5);
}
