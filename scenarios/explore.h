#pragma once
// Coverage-guided exploration: a swarm that learns. A plain swarm runs seed
// after seed, and a rare bug waits for one seed to line up its faults. explore
// keeps a corpus of the runs that reached something no run before them had,
// and spends half its runs on mutants of them: their fault plan with an event
// inserted, deleted, moved, stretched or retargeted, the ambient faults
// switched, the seed changed under the same plan, or the run branched: the
// same run up to a time in the fault phase, then fresh random streams
// (World::branch), so one interesting prefix gets many endings. What counts as new is a
// feature: a probe of the run's coverage (an event kind, a fault fired, a
// BUGGIFY site reached or fired, a sometimes assertion checked or held, an
// operation sent) with its count in a power-of-two bucket, per component -- so
// "a read answered three siblings 40 times" is new after runs that saw it 5
// times. The counts of events are the coarse fingerprint of the state a run
// drove the component through.
//
// Runs go in batches of kBatch candidates, spread over worker processes, and
// the batch's results are merged in candidate order: for one master seed the
// corpus, the runs and the failures are the same whatever the number of jobs,
// and a time-boxed exploration is a prefix of a longer one.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/runner.h"
#include "scenarios/swarm.h"

namespace doppel::scenarios {

struct ExploreOptions {
  std::uint64_t master_seed = 0;
  std::uint64_t runs_max = 0;  // 0: none
  Duration time_limit{0};      // 0: none; else no batch starts after this much wall time
  int jobs = 1;
  std::string out_dir = ".";  // traces of failures
  std::uint64_t failures_max = 100;
  // After each batch: runs so far, corpus entries, features, failures.
  std::function<void(std::uint64_t, std::size_t, std::size_t, std::size_t)> progress;
};

// A run the corpus kept.
struct CorpusEntry {
  std::size_t scenario = 0;
  std::uint64_t seed = 0;
  sim::FaultPlan plan;
  std::optional<sim::Branch> branch;
  std::size_t new_features = 0;  // what it reached first
  std::string origin;            // "seed" or the mutations that made it
};

struct ExploreSummary {
  std::uint64_t runs = 0;
  std::uint64_t mutants = 0;          // runs of a mutated plan or seed
  std::uint64_t invalid_mutants = 0;  // mutations the scenario's cluster could not run
  double wall_seconds = 0;
  std::vector<SwarmFailure> failures;
  std::vector<CorpusEntry> corpus;
  std::size_t features = 0;
  sim::Coverage coverage;                    // every run's, summed
  std::vector<std::uint64_t> scenario_runs;  // per scenario
  double first_failure_seconds = 0;
  std::uint64_t runs_to_first_failure = 0;
  bool timed_out = false;
};

inline constexpr std::size_t kExploreBatch = 16;

ExploreSummary explore(const std::vector<ScenarioSpec>& scenarios, const Registry& registry,
                       const ExploreOptions& options);

// The features of one run of a `component` scenario (above), as strings.
std::vector<std::string> run_features(const std::string& component, const sim::Coverage& run);

}  // namespace doppel::scenarios
