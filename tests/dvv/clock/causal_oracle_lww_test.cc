// The register oracle under last write wins (properties/dvv/causal_oracle.h):
// an acknowledged value that is gone is excused only if last write wins may
// have dropped it (concurrent with an exposed write that ended after it
// began, or exposed itself), and is lost otherwise.

#include <catch2/catch.hpp>

#include "properties/dvv/causal_oracle.h"

using doppel::properties::dvv::CausalOracle;

TEST_CASE("dvv oracle: a value gone without last write wins is lost", "[unit]") {
  CausalOracle o;
  o.wrote("k", "a", {});
  o.acked("k", "a");
  o.wrote("k", "b", {});  // concurrent with a, not exposed
  o.acked("k", "b");
  const auto v = o.judge("k", {"b"});
  REQUIRE(v.lost == std::vector<std::string>{"a"});
  REQUIRE(v.lww_dropped.empty());
}

TEST_CASE("dvv oracle: an exposed concurrent write excuses what it may have dropped", "[unit]") {
  CausalOracle o;
  o.wrote("k", "a", {});
  o.acked("k", "a");
  o.wrote("k", "b", {});
  o.lww_exposed("k", "b", true);  // b ended after a began: a may have been in its base
  o.acked("k", "b");
  const auto v = o.judge("k", {"b"});
  REQUIRE(v.lost.empty());
  REQUIRE(v.lww_dropped == std::vector<std::string>{"a"});
}

TEST_CASE("dvv oracle: last write wins never excuses a value begun after the dropper ended",
          "[unit]") {
  CausalOracle o;
  o.wrote("k", "b", {});
  o.lww_exposed("k", "b", true);  // ended before a began
  o.acked("k", "b");
  o.wrote("k", "a", {});
  o.acked("k", "a");
  REQUIRE(o.judge("k", {"b"}).lost == std::vector<std::string>{"a"});
  // But an exposed value may be dropped at its own coordinator for one already there.
  CausalOracle p;
  p.wrote("k", "b", {});
  p.acked("k", "b");
  p.wrote("k", "a", {});
  p.lww_exposed("k", "a", true);
  p.acked("k", "a");
  REQUIRE(p.judge("k", {"b"}).lww_dropped == std::vector<std::string>{"a"});
}

TEST_CASE("dvv oracle: last write wins never excuses a value that was superseded or kept",
          "[unit]") {
  CausalOracle o;
  o.wrote("k", "a", {});
  o.acked("k", "a");
  o.wrote("k", "b", {"a"});  // b saw a: not concurrent, a is overwritten, not dropped
  o.lww_exposed("k", "b", true);
  o.acked("k", "b");
  const auto v = o.judge("k", {"b"});
  REQUIRE(v.lost.empty());
  REQUIRE(v.lww_dropped.empty());
  // Gone, and only a value that saw it is exposed: lost.
  const auto w = o.judge("k", {});
  REQUIRE(w.lost == std::vector<std::string>{"a", "b"});
}

TEST_CASE("dvv oracle: a delete the vv baseline may have dropped whole excuses what it saw",
          "[unit]") {
  // c wrote "p" blind; later c read {a} (not p) and deleted with that context while vv applied:
  // the stored clock held c's increment, so the tombstone may have been dropped whole.
  auto run = [](bool whole) {
    CausalOracle o;
    o.wrote("k", "p", {});
    o.acked("k", "p");
    o.wrote("k", "a", {});
    o.acked("k", "a");
    o.wrote("k", "t", {"a"}, true);
    o.lww_exposed("k", "t", true, whole);
    o.acked("k", "t");
    return o.judge("k", {"a", "p"});
  };
  const auto vv = run(true);
  REQUIRE(vv.resurrected.empty());
  REQUIRE(vv.lww_dropped == std::vector<std::string>{"t"});
  // Last write wins keeps the tombstone's clock even when its value loses: "a" is back, a bug.
  REQUIRE(run(false).resurrected == std::vector<std::string>{"a"});
  // And without a concurrent value at the coordinator vv drops nothing.
  CausalOracle o;
  o.wrote("k", "a", {});
  o.acked("k", "a");
  o.wrote("k", "t", {"a"}, true);
  o.lww_exposed("k", "t", true, true);
  o.acked("k", "t");
  REQUIRE(o.judge("k", {"a"}).resurrected == std::vector<std::string>{"a"});
}

TEST_CASE("dvv oracle: a value written under vv may come back after a delete once converted",
          "[unit]") {
  auto run = [](bool value_under_vv) {
    CausalOracle o;
    o.wrote("k", "a", {});
    if (value_under_vv) o.lww_exposed("k", "a", true, true);
    o.acked("k", "a");
    o.wrote("k", "t", {"a"}, true);
    o.acked("k", "t");
    return o.judge("k", {"a"});
  };
  REQUIRE(run(true).resurrected.empty());
  REQUIRE(run(true).lww_dropped == std::vector<std::string>{"a"});
  REQUIRE(run(false).resurrected == std::vector<std::string>{"a"});
}
