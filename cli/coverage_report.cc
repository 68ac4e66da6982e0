// What a swarm or an exploration reached, printed the same way for both.
#include "cli/coverage_report.h"

#include <cinttypes>
#include <cstdio>
#include <map>
#include <string>

namespace doppel::cli {
namespace {

// Each sometimes assertion the scenarios could reach: times it held of times checked.
void print_sometimes_coverage(const std::vector<scenarios::SometimesCoverage>& sites) {
  std::size_t held = 0;
  for (const auto& s : sites) held += s.held > 0;
  std::printf("coverage: sometimes assertions: %zu, %zu held at least once (held / checked)\n",
              sites.size(), held);
  for (const auto& s : sites) {
    std::printf("  %-36s %8" PRIu64 " / %-8" PRIu64 " %s\n", s.site.c_str(), s.held, s.checked,
                s.says.c_str());
  }
}

// Per component whose scenarios let BUGGIFY fire: how many of the sites they
// can reach were reached and fired, then each site with its counts.
void print_buggify_coverage(const std::vector<scenarios::BuggifySiteCoverage>& sites) {
  if (sites.empty()) {
    std::printf("coverage: buggify: off in every scenario (or no site to reach)\n");
    return;
  }
  std::size_t begin = 0;
  while (begin < sites.size()) {
    std::size_t end = begin;
    std::size_t reached = 0, fired = 0;
    while (end < sites.size() && sites[end].component == sites[begin].component) {
      reached += sites[end].runs_reached > 0;
      fired += sites[end].firings > 0;
      ++end;
    }
    std::printf(
        "coverage: buggify, %s scenarios: %zu sites, %zu reached, %zu fired"
        " (runs reached / firings)\n",
        sites[begin].component.c_str(), end - begin, reached, fired);
    for (std::size_t i = begin; i < end; ++i) {
      std::printf("  %-36s %8" PRIu64 " / %-8" PRIu64 " %s\n", sites[i].site.c_str(),
                  sites[i].runs_reached, sites[i].firings, sites[i].injects.c_str());
    }
    begin = end;
  }
}

}  // namespace

void print_failures_by_property(const std::vector<scenarios::SwarmFailure>& failures) {
  std::map<std::string, int> by_property;
  for (const auto& f : failures) ++by_property[f.scenario + ": " + f.property];
  for (const auto& [p, n] : by_property) std::printf("  %d failure(s): %s\n", n, p.c_str());
}

void print_coverage_report(const std::vector<scenarios::ScenarioSpec>& specs,
                           const scenarios::Registry& registry, const sim::Coverage& coverage) {
  // Coverage: what fired, and what never did.
  const auto faults = scenarios::fault_counts(specs, coverage);
  std::printf("coverage: faults fired (times):");
  if (faults.empty()) std::printf(" none");
  for (const auto& [k, n] : faults) std::printf(" %s=%" PRIu64, k.c_str(), n);
  std::printf("\n");
  print_buggify_coverage(scenarios::buggify_coverage(specs, registry, coverage));
  print_sometimes_coverage(scenarios::sometimes_coverage(specs, registry, coverage));
  const auto gaps = scenarios::coverage_gaps(specs, registry, coverage);
  if (gaps.empty()) {
    std::printf(
        "coverage: every allowed fault, expected probe, buggify site and sometimes assertion "
        "happened\n");
  } else {
    std::printf("coverage: never happened:\n");
    for (const auto& g : gaps) std::printf("  %s\n", g.c_str());
  }
}

}  // namespace doppel::cli
