// The simulator earns trust by catching bugs: a test-only register with a
// planted bug (acknowledge before fsync) must be caught by its property,
// its failure must replay event for event, and shrinking must keep it.

#include <algorithm>
#include <catch2/catch.hpp>

#include "scenarios/runner.h"
#include "scenarios/shrink.h"
#include "tests/register/register.h"

using namespace doppel;
using namespace doppel::scenarios;

namespace {

Registry registry() {
  Registry r;
  testing::add_register_component(r);
  return r;
}

ScenarioSpec load(const Registry& r, const std::string& name) {
  auto spec = load_scenario(std::string(DOPPEL_SOURCE_DIR) + "/tests/scenarios/" + name, r);
  REQUIRE(spec.ok());
  return *spec;
}

}  // namespace

TEST_CASE("planted bug: the correct register holds its properties under every fault", "[sim]") {
  const Registry r = registry();
  const ScenarioSpec spec = load(r, "register.toml");
  for (std::uint64_t seed = 0; seed < 150; ++seed) {
    RunResult result = run_scenario(spec, r, RunOptions{seed});
    INFO("seed " << seed << ": " << result.property << ": " << result.detail);
    REQUIRE(result.passed);
  }
}

TEST_CASE("planted bug: ack-before-sync is caught, replays exactly and shrinks", "[sim]") {
  const Registry r = registry();
  const ScenarioSpec spec = load(r, "register-bug.toml");
  std::optional<std::uint64_t> failing;
  RunResult result;
  for (std::uint64_t seed = 0; seed < 300 && !failing; ++seed) {
    result = run_scenario(spec, r, RunOptions{seed});
    if (!result.passed) failing = seed;
  }
  REQUIRE(failing.has_value());
  REQUIRE(result.property == "acknowledged-writes-survive");

  // Replay from the trace file's bytes: every event and the outcome again.
  RunResult with_events = run_scenario(spec, r, RunOptions{*failing, result.plan, true});
  REQUIRE(with_events.trace_hash == result.trace_hash);
  auto trace = sim::decode_trace(sim::encode_trace(make_trace(spec, *failing, with_events)));
  REQUIRE(trace.ok());
  auto report = replay(*trace, r);
  REQUIRE(report.ok());
  REQUIRE(report->same_build);
  REQUIRE(report->identical);
  REQUIRE_FALSE(report->divergence.has_value());
  REQUIRE(report->rerun.property == "acknowledged-writes-survive");

  // Shrink: a plan no larger, still failing the same property, and 1-minimal.
  ShrinkResult shrunk = shrink(spec, r, *failing, result.plan, result.property, ShrinkOptions{});
  REQUIRE_FALSE(shrunk.result.passed);
  REQUIRE(shrunk.result.property == "acknowledged-writes-survive");
  REQUIRE(shrunk.plan.size() <= result.plan.size());
  bool has_crash = false;
  for (const auto& e : shrunk.plan.events) has_crash |= e.kind == sim::FaultKind::crash;
  REQUIRE(has_crash);  // without a crash nothing unsynced can be lost
}

TEST_CASE("planted bug: a replay notices a run that went differently", "[sim]") {
  const Registry r = registry();
  const ScenarioSpec spec = load(r, "register.toml");
  RunResult run = run_scenario(spec, r, RunOptions{3, std::nullopt, true});
  sim::TraceFile trace = make_trace(spec, 3, run);
  REQUIRE(trace.records.size() > 20);
  trace.records[20][0] ^= 1;  // as if this build had done something else there
  auto report = replay(trace, r);
  REQUIRE(report.ok());
  REQUIRE_FALSE(report->identical);
  REQUIRE(report->divergence == std::optional<std::uint64_t>(20));
}

TEST_CASE("planted bug: every fault, same seed, same trace hash (scheduler determinism)", "[sim]") {
  const Registry r = registry();
  ScenarioSpec spec = load(r, "register.toml");
  for (int i = 0; i < sim::kFaultKinds; ++i)
    spec.faults[static_cast<sim::FaultKind>(i)] = sim::FaultMode::on;
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    RunResult a = run_scenario(spec, r, RunOptions{seed});
    RunResult b = run_scenario(spec, r, RunOptions{seed});
    REQUIRE(a.trace_hash == b.trace_hash);
    REQUIRE(a.event_count == b.event_count);
  }
}

TEST_CASE("branch: a branched run is the run it branched from up to the branch, then its own",
          "[sim]") {
  const Registry r = registry();
  const ScenarioSpec spec = load(r, "register.toml");
  const RunResult plain = run_scenario(spec, r, RunOptions{3, std::nullopt, true});
  const sim::Branch at_half{spec.duration / 2, 99};
  const RunResult branched = run_scenario(spec, r, RunOptions{3, plain.plan, true, at_half});
  // The branch is an event; everything before it is the plain run's, byte for byte (hashes
  // included: the running hash is the same up to there).
  std::size_t k = 0;
  while (k < branched.records.size() &&
         branched.records[k].find("SimBranch") == std::string::npos) {
    ++k;
  }
  REQUIRE(k < branched.records.size());
  REQUIRE(k > 10);
  REQUIRE(
      std::equal(branched.records.begin(), branched.records.begin() + k, plain.records.begin()));
  REQUIRE(branched.trace_hash != plain.trace_hash);
  // Two branches at one time with one seed are one run; another seed is another ending.
  REQUIRE(run_scenario(spec, r, RunOptions{3, plain.plan, false, at_half}).trace_hash ==
          branched.trace_hash);
  REQUIRE(run_scenario(spec, r, RunOptions{3, plain.plan, false, sim::Branch{at_half.at, 100}})
              .trace_hash != branched.trace_hash);
  // The trace carries the branch: it replays event for event, and through a file.
  const sim::TraceFile trace = make_trace(spec, 3, branched);
  auto decoded = sim::decode_trace(sim::encode_trace(trace));
  REQUIRE(decoded.ok());
  REQUIRE(decoded->header.branch == std::optional<sim::Branch>(at_half));
  REQUIRE(decoded->header.format_version == 2);
  auto report = replay(*decoded, r);
  REQUIRE(report.ok());
  REQUIRE(report->identical);
  // A run without a branch stays a version 1 trace, which older builds read.
  auto plain_decoded = sim::decode_trace(sim::encode_trace(make_trace(spec, 3, plain)));
  REQUIRE(plain_decoded.ok());
  REQUIRE(plain_decoded->header.format_version == 1);
  REQUIRE_FALSE(plain_decoded->header.branch.has_value());
}
