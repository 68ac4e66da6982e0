// Fault plans: generated per seed, printed and parsed as TOML.

#include <catch2/catch.hpp>
#include <rapidcheck/catch.h>

#include "sim/fault_plan.h"

using namespace doppel;
using namespace doppel::sim;

namespace {

FaultSwitches everything(FaultMode mode) {
  FaultSwitches s;
  for (int i = 0; i < kFaultKinds; ++i) s[static_cast<FaultKind>(i)] = mode;
  return s;
}

ClusterShape three_nodes() { return ClusterShape{{0, 1, 2}, {0, 1, 2}, {0, 1, 2, 3}, 2}; }

}  // namespace

TEST_CASE("fault plan: a printed plan parses back to the same plan", "[prop]") {
  rc::prop("parse(to_toml(p)) == p", [](std::uint64_t seed) {
    Prng rng(seed);
    FaultPlan p = generate_plan(everything(FaultMode::swarm), three_nodes(),
                                Duration(10'000'000'000), rng);
    auto back = parse_fault_plan_text(to_toml(p), "plan.toml");
    RC_ASSERT(back.ok());
    RC_ASSERT(back->events == p.events);
    RC_ASSERT(back->ambient.latency == p.ambient.latency);
    RC_ASSERT(back->ambient.disk_model == p.ambient.disk_model);
    RC_ASSERT(back->ambient.buggify == p.ambient.buggify);
  });
}

TEST_CASE("fault plan: every event falls inside the fault phase and names real nodes", "[prop]") {
  rc::prop("events are in range", [](std::uint64_t seed) {
    Prng rng(seed);
    const Duration phase(5'000'000'000);
    FaultPlan p = generate_plan(everything(FaultMode::on), three_nodes(), phase, rng);
    RC_ASSERT(!p.events.empty());
    for (const FaultEvent& e : p.events) {
      RC_ASSERT(e.at < phase);
      RC_ASSERT(!e.nodes.empty());
      for (NodeId n : e.nodes) RC_ASSERT(n <= 3u);
      if (e.kind == FaultKind::crash) RC_ASSERT(e.nodes[0] <= 2u);
    }
  });
}

TEST_CASE("fault plan: swarm mode switches each fault on for some seeds and off for others", "[unit]") {
  int with_crash = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    Prng rng(seed);
    FaultPlan p = generate_plan(everything(FaultMode::swarm), three_nodes(), Duration(1'000'000'000), rng);
    for (const FaultEvent& e : p.events) {
      if (e.kind == FaultKind::crash) {
        ++with_crash;
        break;
      }
    }
  }
  REQUIRE(with_crash > 60);
  REQUIRE(with_crash < 140);
}

TEST_CASE("fault plan: bad plans are rejected naming the line and the key", "[unit]") {
  auto unknown = parse_fault_plan_text("[[event]]\nat_us = 1\nkind = 'crash'\nnodes = [0]\ncolour = 1\n", "p.toml");
  REQUIRE_FALSE(unknown.ok());
  REQUIRE_THAT(unknown.error().what, Catch::Contains("p.toml:5") && Catch::Contains("'colour'"));

  auto kind = parse_fault_plan_text("[[event]]\nat_us = 1\nkind = 'meteor'\nnodes = [0]\n", "p.toml");
  REQUIRE_FALSE(kind.ok());
  REQUIRE_THAT(kind.error().what, Catch::Contains("'kind'") && Catch::Contains("meteor"));

  auto type = parse_fault_plan_text("[[event]]\nat_us = 'soon'\nkind = 'crash'\nnodes = [0]\n", "p.toml");
  REQUIRE_FALSE(type.ok());
  REQUIRE_THAT(type.error().what, Catch::Contains("p.toml:2") && Catch::Contains("'at_us'"));

  auto negative = parse_fault_plan_text("[[event]]\nat_us = -5\nkind = 'crash'\nnodes = [0]\n", "p.toml");
  REQUIRE_FALSE(negative.ok());

  auto oneway = parse_fault_plan_text("[[event]]\nat_us = 5\nkind = 'partition_oneway'\nnodes = [0]\n", "p.toml");
  REQUIRE_FALSE(oneway.ok());
  REQUIRE_THAT(oneway.error().what, Catch::Contains("'to'"));

  auto syntax = parse_fault_plan_text("[[event]\n", "p.toml");
  REQUIRE_FALSE(syntax.ok());
  REQUIRE_THAT(syntax.error().what, Catch::Contains("p.toml:1"));
}
