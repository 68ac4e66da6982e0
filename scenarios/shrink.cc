#include "scenarios/shrink.h"

#include <algorithm>

namespace doppel::scenarios {
namespace {

// A unit of a plan: an ambient fault (index < 0 encodes which) or an event.
struct Unit {
  // 0 latency, 1 split_reads, 2 disk_latency, 3 eio, 4 bitflip, 5 buggify, 6 fsyncgate
  int ambient = -1;
  std::size_t event = 0;
};

std::vector<Unit> units_of(const sim::FaultPlan& p) {
  std::vector<Unit> out;
  const bool flags[] = {p.ambient.latency,
                        p.ambient.split_reads,
                        p.ambient.disk_model != sim::DiskModel::instant,
                        p.ambient.disk_eio,
                        p.ambient.disk_bitflip,
                        p.ambient.buggify,
                        p.ambient.disk_fsyncgate};
  for (int i = 0; i < 7; ++i) {
    if (flags[i]) out.push_back(Unit{i, 0});
  }
  for (std::size_t i = 0; i < p.events.size(); ++i) out.push_back(Unit{-1, i});
  return out;
}

sim::FaultPlan plan_of(const sim::FaultPlan& full, const std::vector<Unit>& keep) {
  sim::FaultPlan p;
  for (const Unit& u : keep) {
    switch (u.ambient) {
      case 0:
        p.ambient.latency = true;
        break;
      case 1:
        p.ambient.split_reads = true;
        break;
      case 2:
        p.ambient.disk_model = full.ambient.disk_model;
        break;
      case 3:
        p.ambient.disk_eio = true;
        break;
      case 4:
        p.ambient.disk_bitflip = true;
        break;
      case 5:
        p.ambient.buggify = true;
        break;
      case 6:
        p.ambient.disk_fsyncgate = true;
        break;
      default:
        p.events.push_back(full.events[u.event]);
        break;
    }
  }
  return p;
}

}  // namespace

ShrinkResult shrink(const ScenarioSpec& spec, const Registry& registry, std::uint64_t seed,
                    const sim::FaultPlan& failing_plan, const std::string& property,
                    const ShrinkOptions& options) {
  ShrinkResult out;
  out.plan = failing_plan;
  std::vector<Unit> current = units_of(failing_plan);

  auto still_fails = [&](const std::vector<Unit>& candidate, RunResult* keep) {
    ++out.runs;
    RunResult r =
        run_scenario(spec, registry, RunOptions{seed, plan_of(failing_plan, candidate), false});
    const bool fails = !r.passed && r.property == property;
    if (options.progress) options.progress(out.runs, candidate.size(), fails);
    if (fails && keep) *keep = std::move(r);
    return fails;
  };

  // ddmin: try subsets, then complements, at growing granularity.
  std::size_t n = 2;
  while (current.size() >= 1 && out.runs < options.runs_max) {
    if (current.size() == 1) {
      // Try the empty plan: the failure may need no fault at all.
      if (still_fails({}, nullptr)) current.clear();
      break;
    }
    n = std::min(n, current.size());
    const std::size_t chunk = (current.size() + n - 1) / n;
    bool reduced = false;
    for (std::size_t start = 0; start < current.size() && out.runs < options.runs_max;
         start += chunk) {
      const std::size_t end = std::min(current.size(), start + chunk);
      std::vector<Unit> subset(current.begin() + static_cast<std::ptrdiff_t>(start),
                               current.begin() + static_cast<std::ptrdiff_t>(end));
      if (n > 2 && still_fails(subset, nullptr)) {
        current = std::move(subset);
        n = 2;
        reduced = true;
        break;
      }
      std::vector<Unit> complement(current.begin(),
                                   current.begin() + static_cast<std::ptrdiff_t>(start));
      complement.insert(complement.end(), current.begin() + static_cast<std::ptrdiff_t>(end),
                        current.end());
      if (still_fails(complement, nullptr)) {
        current = std::move(complement);
        n = std::max<std::size_t>(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= current.size()) break;
      n = std::min(current.size(), n * 2);
    }
  }
  out.hit_run_limit = out.runs >= options.runs_max;
  out.plan = plan_of(failing_plan, current);
  // The final run, with its events, for the shrunk trace.
  out.result = run_scenario(spec, registry, RunOptions{seed, out.plan, true});
  if (out.result.passed || out.result.property != property) {
    // Cannot happen for a deterministic simulator: the same plan failed before.
    out.plan = failing_plan;
    out.result = run_scenario(spec, registry, RunOptions{seed, failing_plan, true});
  }
  return out;
}

}  // namespace doppel::scenarios
