// Fault plans: generated per seed, printed and parsed as TOML.

#include "sim/fault_plan.h"

#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>

using namespace doppel;
using namespace doppel::sim;

namespace {

FaultSwitches everything(FaultMode mode) {
  FaultSwitches s;
  for (int i = 0; i < kFaultKinds; ++i) s[static_cast<FaultKind>(i)] = mode;
  return s;
}

ClusterShape three_nodes() {
  return ClusterShape{{0, 1, 2}, {0, 1, 2}, {0, 1, 2, 3}, 2};
}

}  // namespace

TEST_CASE("fault plan: a printed plan parses back to the same plan", "[prop]") {
  rc::prop("parse(to_toml(p)) == p", [](std::uint64_t seed) {
    Prng rng(seed);
    FaultPlan p = generate_plan(everything(FaultMode::swarm), FaultBounds{}, three_nodes(),
                                Duration(10'000'000'000), rng);
    auto back = parse_fault_plan_text(to_toml(p), "plan.toml");
    RC_ASSERT(back.ok());
    RC_ASSERT(back->events == p.events);
    RC_ASSERT(back->ambient.latency == p.ambient.latency);
    RC_ASSERT(back->ambient.disk_model == p.ambient.disk_model);
    RC_ASSERT(back->ambient.buggify == p.ambient.buggify);
    RC_ASSERT(back->ambient.disk_fsyncgate == p.ambient.disk_fsyncgate);
  });
}

TEST_CASE("fault plan: every event falls inside the fault phase and names real nodes", "[prop]") {
  rc::prop("events are in range", [](std::uint64_t seed) {
    Prng rng(seed);
    const Duration phase(5'000'000'000);
    FaultPlan p =
        generate_plan(everything(FaultMode::on), FaultBounds{}, three_nodes(), phase, rng);
    RC_ASSERT(!p.events.empty());
    for (const FaultEvent& e : p.events) {
      RC_ASSERT(e.at < phase);
      RC_ASSERT(!e.nodes.empty());
      for (NodeId n : e.nodes) RC_ASSERT(n <= 3u);
      if (e.kind == FaultKind::crash) RC_ASSERT(e.nodes[0] <= 2u);
    }
  });
}

TEST_CASE("fault plan: swarm mode switches each fault on for some seeds and off for others",
          "[unit]") {
  int with_crash = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    Prng rng(seed);
    FaultPlan p = generate_plan(everything(FaultMode::swarm), FaultBounds{}, three_nodes(),
                                Duration(1'000'000'000), rng);
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
  auto unknown = parse_fault_plan_text(
      "[[event]]\nat_us = 1\nkind = 'crash'\nnodes = [0]\ncolour = 1\n", "p.toml");
  REQUIRE_FALSE(unknown.ok());
  REQUIRE_THAT(unknown.error().what, Catch::Contains("p.toml:5") && Catch::Contains("'colour'"));

  auto kind =
      parse_fault_plan_text("[[event]]\nat_us = 1\nkind = 'meteor'\nnodes = [0]\n", "p.toml");
  REQUIRE_FALSE(kind.ok());
  REQUIRE_THAT(kind.error().what, Catch::Contains("'kind'") && Catch::Contains("meteor"));

  auto type =
      parse_fault_plan_text("[[event]]\nat_us = 'soon'\nkind = 'crash'\nnodes = [0]\n", "p.toml");
  REQUIRE_FALSE(type.ok());
  REQUIRE_THAT(type.error().what, Catch::Contains("p.toml:2") && Catch::Contains("'at_us'"));

  auto negative =
      parse_fault_plan_text("[[event]]\nat_us = -5\nkind = 'crash'\nnodes = [0]\n", "p.toml");
  REQUIRE_FALSE(negative.ok());

  auto oneway = parse_fault_plan_text(
      "[[event]]\nat_us = 5\nkind = 'partition_oneway'\nnodes = [0]\n", "p.toml");
  REQUIRE_FALSE(oneway.ok());
  REQUIRE_THAT(oneway.error().what, Catch::Contains("'to'"));

  auto syntax = parse_fault_plan_text("[[event]\n", "p.toml");
  REQUIRE_FALSE(syntax.ok());
  REQUIRE_THAT(syntax.error().what, Catch::Contains("p.toml:1"));
}

TEST_CASE("fault plan: clock skews stay within the scenario's bounds; bad clocks go far outside",
          "[prop]") {
  FaultSwitches skews;
  skews[FaultKind::clock_skew] = FaultMode::on;
  std::int64_t widest_realistic = 0, widest_bad = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    Prng rng(seed);
    FaultBounds bounds;  // the defaults: 200 ppm, 30 s steps
    for (const FaultEvent& e :
         generate_plan(skews, bounds, three_nodes(), Duration(5'000'000'000), rng).events) {
      REQUIRE(std::abs(e.drift_ppm) <= 200);
      REQUIRE(std::abs(to_ns(e.offset)) <= 30'000'000'000);
      widest_realistic = std::max(widest_realistic, std::abs(e.drift_ppm));
    }
    bounds.bad_clocks = FaultMode::on;
    Prng bad_rng(seed);
    for (const FaultEvent& e :
         generate_plan(skews, bounds, three_nodes(), Duration(5'000'000'000), bad_rng).events) {
      REQUIRE(std::abs(e.drift_ppm) <= FaultBounds::kBadClockDriftPpmMax);
      widest_bad = std::max(widest_bad, std::abs(e.drift_ppm));
    }
  }
  REQUIRE(widest_realistic > 150);
  REQUIRE(widest_bad > 10'000);
}

TEST_CASE("fault plan: some partitions outlast the TCP timeout, most do not", "[unit]") {
  FaultSwitches cuts;
  cuts[FaultKind::partition] = FaultMode::on;
  FaultBounds bounds;
  bounds.tcp_timeout = std::chrono::seconds(2);
  int longer = 0, shorter = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    Prng rng(seed);
    for (const FaultEvent& e :
         generate_plan(cuts, bounds, three_nodes(), Duration(10'000'000'000), rng).events) {
      (e.duration > bounds.tcp_timeout ? longer : shorter) += 1;
    }
  }
  REQUIRE(longer > 20);
  REQUIRE(shorter > longer);
}

TEST_CASE("fault plan: a plan naming what the cluster lacks is rejected with its line and key",
          "[unit]") {
  const ClusterShape shape = three_nodes();
  const Duration phase(10'000'000'000);
  auto error_of = [&](std::string_view text) -> std::string {
    auto plan = parse_fault_plan_text(text, "p.toml");
    if (!plan) return plan.error().what;
    Status s = validate_plan(*plan, shape, phase, "p.toml");
    return s ? std::string("ok") : s.error().what;
  };
  REQUIRE(error_of("[[event]]\nat_us = 1\nkind = 'crash'\nnodes = [2]\nduration_us = 5\n") == "ok");
  REQUIRE_THAT(
      error_of("[[event]]\nat_us = 1\nkind = 'reset'\nnodes = [7]\n"),
      Catch::Contains("p.toml:1") && Catch::Contains("'nodes'") && Catch::Contains("node 7"));
  REQUIRE_THAT(error_of("\n[[event]]\nat_us = 1\nkind = 'crash'\nnodes = [3]\n"),
               Catch::Contains("p.toml:2") && Catch::Contains("may not crash"));
  REQUIRE_THAT(error_of("[[event]]\nat_us = 1\nkind = 'core_stall'\nnodes = [0]\ncore = 2\n"),
               Catch::Contains("'core'") && Catch::Contains("core 2"));
  REQUIRE_THAT(error_of("[[event]]\nat_us = 10000000\nkind = 'reset'\nnodes = [0]\n"),
               Catch::Contains("'at_us'") && Catch::Contains("fault phase"));
  REQUIRE_THAT(error_of("[[event]]\nat_us = 1\nkind = 'clock_skew'\nnodes = [3]\n"),
               Catch::Contains("not a server"));
  REQUIRE_THAT(error_of("[[event]]\nat_us = 1\nkind = 'partition_oneway'\nnodes = [0]\nto = [0]\n"),
               Catch::Contains("'to'") && Catch::Contains("both sides"));
  REQUIRE_THAT(error_of("[[event]]\nat_us = 1\nkind = 'reset'\nnodes = [0, 0]\n"),
               Catch::Contains("listed twice"));
  REQUIRE_THAT(
      error_of("[[event]]\nat_us = 1\nkind = 'disk_full'\nnodes = [0]\nduration_us = -1\n"),
      Catch::Contains("'duration_us'"));
  REQUIRE_THAT(
      error_of("[[event]]\nat_us = 1\nkind = 'clock_skew'\nnodes = [0]\ndrift_ppm = 2000000\n"),
      Catch::Contains("'drift_ppm'"));
  REQUIRE_THAT(error_of("[ambient]\ndisk_latency = 'floppy'\n"), Catch::Contains("'disk_latency'"));
  REQUIRE_THAT(error_of("[ambient]\nlatency = 1\n"), Catch::Contains("'latency'"));
  REQUIRE_THAT(error_of("[[event]]\nat_us = 1\nkind = 3\nnodes = [0]\n"),
               Catch::Contains("'kind'"));
}

namespace {

// Any plan, valid for the generator's cluster or not: kinds, nodes, times.
rc::Gen<FaultPlan> any_plan() {
  return rc::gen::exec([] {
    FaultPlan p;
    p.ambient.latency = *rc::gen::arbitrary<bool>();
    p.ambient.disk_fsyncgate = *rc::gen::arbitrary<bool>();
    const int n = *rc::gen::inRange(0, 12);
    for (int i = 0; i < n; ++i) {
      FaultEvent e;
      e.kind = static_cast<FaultKind>(
          *rc::gen::inRange(static_cast<int>(FaultKind::reset), kFaultKinds));
      e.at = Duration(*rc::gen::inRange<std::int64_t>(0, 20'000'000) * 1000);
      e.nodes = {static_cast<NodeId>(*rc::gen::inRange(0, 8))};
      if (e.kind == FaultKind::partition_oneway) e.to = {static_cast<NodeId>(e.nodes[0] + 1)};
      e.core = static_cast<CoreId>(*rc::gen::inRange(0, 4));
      e.duration = Duration(*rc::gen::inRange<std::int64_t>(0, 10'000'000) * 1000);
      e.offset = Duration(*rc::gen::inRange<std::int64_t>(-1'000'000, 1'000'000) * 1000);
      e.drift_ppm = *rc::gen::inRange<std::int64_t>(-100'000, 100'001);
      p.events.push_back(std::move(e));
    }
    return p;
  });
}

// The bytes of `text` with a few random edits: flips, insertions of TOML's
// own punctuation, deletions, a cut.
std::string mutate(std::string text) {
  const int edits = *rc::gen::inRange(1, 6);
  for (int i = 0; i < edits && !text.empty(); ++i) {
    const std::size_t at = *rc::gen::inRange<std::size_t>(0, text.size());
    switch (*rc::gen::inRange(0, 4)) {
      case 0:
        text[at] = static_cast<char>(text[at] ^ (1 << *rc::gen::inRange(0, 8)));
        break;
      case 1:
        text.insert(at, 1, *rc::gen::elementOf(std::string("[]{}=\"',.-+#\n0129eE_")));
        break;
      case 2:
        text.erase(at, *rc::gen::inRange<std::size_t>(1, 8));
        break;
      default:
        text.resize(at);
        break;
    }
  }
  return text;
}

}  // namespace

TEST_CASE("fault plan: the parser survives random plans and byte mutations of them", "[prop]") {
  rc::prop("parse never crashes; what parses validates or is rejected", [] {
    const FaultPlan p = *any_plan();
    const std::string text = to_toml(p);
    auto back = parse_fault_plan_text(text, "gen.toml");
    RC_ASSERT(back.ok());
    RC_ASSERT(back->events.size() == p.events.size());
    auto mutated = parse_fault_plan_text(mutate(text), "mut.toml");
    if (mutated) {
      (void)validate_plan(*mutated, three_nodes(), Duration(10'000'000'000), "mut.toml");
    } else {
      RC_ASSERT(mutated.error().what.rfind("mut.toml", 0) == 0);  // names the file
    }
  });
}
