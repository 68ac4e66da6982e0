#pragma once
// Shrinking a failing run: delta debugging (Zeller's ddmin) over the fault
// plan's units -- each timed event and each ambient fault switched on --
// keeping the seed. A candidate is kept when the run still fails the same
// property. The result is 1-minimal: removing any single unit makes the
// failure go away (or change).

#include <functional>

#include "scenarios/runner.h"

namespace doppel::scenarios {

struct ShrinkOptions {
  int runs_max = 300;  // a bound on the work
  std::function<void(int run, std::size_t units, bool still_fails)> progress;
};

struct ShrinkResult {
  sim::FaultPlan plan;  // the smallest plan found
  RunResult result;     // its run (failing the same property), with events
  int runs = 0;
  bool hit_run_limit = false;
};

ShrinkResult shrink(const ScenarioSpec& spec, const Registry& registry, std::uint64_t seed,
                    const sim::FaultPlan& failing_plan, const std::string& property,
                    const ShrinkOptions& options);

}  // namespace doppel::scenarios
