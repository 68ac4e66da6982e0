#pragma once
// Shrinking a failing run, keeping the seed, in two passes; a candidate is
// kept when the run still fails the same property.
//  1. Delta debugging (Zeller's ddmin) over the fault plan's units -- each
//     timed event and each ambient fault switched on. The result is
//     1-minimal: removing any single unit makes the failure go away (or
//     change).
//  2. Weakening what is left, event by event: a node dropped from the event's
//     set (one side of a partition, the crashed nodes, the receivers cut off),
//     the duration halved, a clock step and drift halved -- each repeated
//     while the failure stays. A shorter fault on fewer nodes is a shorter
//     story, and it tells which part of the fault the bug needs.
// The result says what each pass took away.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/runner.h"

namespace doppel::scenarios {

struct ShrinkOptions {
  int runs_max = 300;                 // a bound on the work
  std::optional<sim::Branch> branch;  // the failing run's, kept in every run
  std::function<void(int run, std::size_t units, bool still_fails)> progress;
};

struct ShrinkResult {
  sim::FaultPlan plan;  // the smallest plan found
  RunResult result;     // its run (failing the same property), with events
  int runs = 0;
  bool hit_run_limit = false;
  std::vector<std::string> removed;   // the units ddmin removed ("crash n1 at 1.200 s ...")
  std::vector<std::string> weakened;  // "before -> after", per event weakened
};

ShrinkResult shrink(const ScenarioSpec& spec, const Registry& registry, std::uint64_t seed,
                    const sim::FaultPlan& failing_plan, const std::string& property,
                    const ShrinkOptions& options);

}  // namespace doppel::scenarios
