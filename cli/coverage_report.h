#pragma once
// The coverage part of a swarm's or an exploration's summary: the faults that fired, each
// BUGGIFY site and sometimes assertion the scenarios could reach with its counts, and what
// never happened.

#include <vector>

#include "scenarios/swarm.h"

namespace doppel::cli {

// "  N failure(s): scenario: property", one line per pair, by name.
void print_failures_by_property(const std::vector<scenarios::SwarmFailure>& failures);

void print_coverage_report(const std::vector<scenarios::ScenarioSpec>& specs,
                           const scenarios::Registry& registry, const sim::Coverage& coverage);

}  // namespace doppel::cli
