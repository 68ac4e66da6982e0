// handoff-before-release (properties/dvv/release_handoff.h): a release holds
// only where every primary of the key durably holds the values and the causal
// past of what the node gave up (its last own record of the key, which
// log_values_test.cc reads).

#include "properties/dvv/release_handoff.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>

using doppel::properties::dvv::CausalOracle;
using doppel::properties::dvv::Dot;
using doppel::properties::dvv::KeyHolder;
using doppel::properties::dvv::LoggedKey;
using doppel::properties::dvv::unheld_release;

namespace {

// A replica of one key holding `bodies`, each with its dot, and the clock they make.
LoggedKey replica(const std::map<std::string, Dot>& bodies) {
  LoggedKey k;
  for (const auto& [body, dot] : bodies) {
    k.own_bodies.insert(body);
    k.dots[body] = dot;
    k.own_clock[dot.id] = std::max(k.own_clock[dot.id], dot.counter);
  }
  return k;
}

}  // namespace

TEST_CASE("handoff-before-release: every primary must durably hold the replica's values and past",
          "[sim]") {
  CausalOracle oracle;
  oracle.wrote("k", "v1", {});
  oracle.wrote("k", "v2", {});
  oracle.wrote("k", "v3", {"v2"});  // written knowing v2
  const LoggedKey released = replica({{"v1", Dot{"n0", 1}}, {"v2", Dot{"n1", 4}}});

  const LoggedKey same = released;
  const LoggedKey superseded = replica({{"v1", Dot{"n0", 1}}, {"v3", Dot{"n1", 5}}});
  LoggedKey tombstone;  // no body: a delete's clock covers both dots
  tombstone.own_clock = {{"n0", 1}, {"n1", 4}};
  LoggedKey hint;  // a hint the primary holds for another counts: it is on its disk
  hint.hint_bodies = {"v1", "v2"};
  hint.hint_clock = {{"n0", 1}, {"n1", 4}};
  for (const LoggedKey* ok : std::vector<const LoggedKey*>{&same, &superseded, &tombstone, &hint}) {
    REQUIRE(unheld_release(oracle, released, {{3, &same}, {4, ok}}).empty());
  }

  const LoggedKey older = replica({{"v1", Dot{"n0", 1}}});
  REQUIRE(unheld_release(oracle, released, {{3, &same}, {4, nullptr}}) ==
          "value v1 is not durable at n4");
  REQUIRE(unheld_release(oracle, released, {{3, &same}, {4, &older}}) ==
          "value v2 is not durable at n4");
  // Values held, but not all the causal past: a dot the replica had seen is missing.
  LoggedKey forgetful = same;
  forgetful.own_clock["n2"] = 0;
  LoggedKey knows_more = released;
  knows_more.own_clock["n2"] = 7;
  REQUIRE(unheld_release(oracle, knows_more, {{3, &forgetful}}) ==
          "the causal past n2:7 is not durable at n3 (it has 0)");
  // Nothing held, nothing to hand off.
  REQUIRE(unheld_release(oracle, LoggedKey{}, {{3, nullptr}}).empty());
}
