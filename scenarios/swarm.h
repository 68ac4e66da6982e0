#pragma once
// A swarm: many seeds of one or more scenarios, each seed with its own
// choice of faults, run in worker processes. Every failure keeps its trace.
// `shard` splits the work so that any batch scheduler (GNU parallel, Slurm
// arrays, Kubernetes indexed jobs) can spread one swarm over machines: shard
// i of n runs the items k with k % n == i, where items are (scenario, seed)
// pairs seed-major: every scenario's seed A, then every scenario's seed A+1...
// so that a swarm cut short (by `time_limit`, or by a user) has reached every
// scenario, not spent itself on the first.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "scenarios/runner.h"

namespace doppel::scenarios {

struct SwarmOptions {
  std::uint64_t seed_begin = 0;  // half-open: [seed_begin, seed_end)
  std::uint64_t seed_end = 0;
  int jobs = 1;
  std::uint32_t shard_index = 0;
  std::uint32_t shard_count = 1;
  std::string out_dir = ".";         // traces of failures go here
  bool progress = true;              // a live line on stderr
  std::uint64_t failures_max = 100;  // stop early after this many
  Duration time_limit{0};            // 0: none; else no run starts after this much wall time
};

struct SwarmFailure {
  std::string scenario;
  std::uint64_t seed = 0;
  std::string property;
  std::string detail;
  std::string trace_path;  // empty if the worker died before writing it
};

struct SwarmSummary {
  std::uint64_t runs = 0;
  std::uint64_t events = 0;
  std::int64_t simulated_ns = 0;
  double wall_seconds = 0;
  std::vector<SwarmFailure> failures;
  sim::Coverage coverage;
  bool stopped_early = false;               // failures_max reached
  bool timed_out = false;                   // time_limit reached before every item ran
  double first_failure_seconds = 0;         // wall time to the first failure
  std::uint64_t runs_to_first_failure = 0;  // runs finished when it came, it included
};

SwarmSummary run_swarm(const std::vector<ScenarioSpec>& scenarios, const Registry& registry,
                       const SwarmOptions& options);

// A run's coverage with its BUGGIFY probes named after the component whose scenario ran
// ("buggify-reached:dvv/http.server.tiny_writes"), as summaries count them.
sim::Coverage scoped_buggify_probes(const sim::Coverage& run, const std::string& component);

// One BUGGIFY site as seen by one component's scenarios in a swarm.
struct BuggifySiteCoverage {
  std::string component;  // whose scenarios
  std::string site;
  std::string injects;
  std::uint64_t runs_reached = 0;  // runs that reached it
  std::uint64_t firings = 0;       // times it fired, over all runs
};

// Every registered site that the swarm's scenarios could reach (for each
// component whose scenarios allow BUGGIFY: its own sites and those of the
// libraries it uses), reached or not, by component and then name.
std::vector<BuggifySiteCoverage> buggify_coverage(const std::vector<ScenarioSpec>& scenarios,
                                                  const Registry& registry,
                                                  const sim::Coverage& coverage);
// One sometimes assertion (runtime/sometimes.h) as the swarm saw it.
struct SometimesCoverage {
  std::string site;
  std::string says;
  std::uint64_t checked = 0;  // times reached, over all runs
  std::uint64_t held = 0;     // of those, times it held
};

// Every registered assertion of the components whose scenarios ran (their own and those of
// the libraries they use), by name.
std::vector<SometimesCoverage> sometimes_coverage(const std::vector<ScenarioSpec>& scenarios,
                                                  const Registry& registry,
                                                  const sim::Coverage& coverage);

// Each fault kind the scenarios allow (buggify aside: it has its own
// listing), then every other fault probe that fired (a TCP timeout, a clock
// outside realistic bounds), with how often it fired over the swarm: a spike
// of latency, a split read, a slow disk operation, each event applied.
std::vector<std::pair<std::string, std::uint64_t>> fault_counts(
    const std::vector<ScenarioSpec>& scenarios, const sim::Coverage& coverage);

// What never happened: fault kinds a scenario allowed but no run injected,
// BUGGIFY sites never reached or reached but never fired, expected probes
// never recorded, sometimes assertions never reached or never true.
std::vector<std::string> coverage_gaps(const std::vector<ScenarioSpec>& scenarios,
                                       const Registry& registry, const sim::Coverage& coverage);

}  // namespace doppel::scenarios
