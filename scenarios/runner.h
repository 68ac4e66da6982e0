#pragma once
// Running a scenario: one seed (run), many seeds (swarm.h), a failing run
// again (replay), and a failing run with fewer faults (shrink.h).
//
// A run has two phases, as FoundationDB's quiet database and TigerBeetle's
// liveness mode: a fault phase in which the fault plan plays, then a quiet
// phase in which every fault is healed and crashed nodes restart. Safety
// properties are checked throughout; properties that need progress or
// convergence are checked at the end of the quiet phase.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/scenario.h"
#include "sim/coverage.h"
#include "sim/trace_file.h"

namespace doppel::scenarios {

struct RunOptions {
  std::uint64_t seed = 0;
  std::optional<sim::FaultPlan> plan;  // replaces the scenario's and the seed's plan
  bool keep_events = false;            // for a trace file
  std::optional<sim::Branch> branch;   // fresh random streams from this time on (World::branch)
};

struct RunResult {
  bool passed = true;
  std::string property;  // the first property that failed
  std::string detail;
  std::uint64_t trace_hash = 0;
  std::uint64_t event_count = 0;
  sim::FaultPlan plan;
  std::optional<sim::Branch> branch;
  std::vector<std::string> records;
  sim::Coverage coverage;
  sim::WorldStats stats;
  std::int64_t simulated_ns = 0;
  double wall_seconds = 0;
};

RunResult run_scenario(const ScenarioSpec& spec, const Registry& registry,
                       const RunOptions& options);

// The plan a run of `seed` plays when neither the options nor the scenario give one: the same
// in the simulator and in a real run (doppel real run) of the scenario.
sim::FaultPlan seed_plan(const ScenarioSpec& spec, const sim::ClusterShape& shape,
                         std::uint64_t seed);

sim::TraceFile make_trace(const ScenarioSpec& spec, std::uint64_t seed, const RunResult& result);

// --- replay

struct ReplayReport {
  bool same_build = true;
  std::string trace_build, this_build;
  bool identical = false;                   // every event and hash, and the outcome, reproduced
  std::optional<std::uint64_t> divergence;  // index of the first differing event
  std::string expected, got;                // those events, as text
  RunResult rerun;
};

// Reruns a trace's scenario with its seed and fault plan. Errors: the trace's
// scenario or plan do not parse with this build.
Result<ReplayReport> replay(const sim::TraceFile& trace, const Registry& registry);

// Re-parses the scenario carried in a trace.
Result<ScenarioSpec> scenario_of(const sim::TraceFile& trace, const Registry& registry);

// The first index where two event streams differ, if any.
std::optional<std::uint64_t> first_divergence(const std::vector<std::string>& a,
                                              const std::vector<std::string>& b);

}  // namespace doppel::scenarios
