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

const char* const kAmbientNames[] = {"latency",      "split_reads", "disk_latency",  "disk_eio",
                                     "disk_bitflip", "buggify",     "disk_fsyncgate"};

std::string describe_unit(const sim::FaultPlan& full, const Unit& u) {
  if (u.ambient >= 0) return std::string("ambient ") + kAmbientNames[u.ambient];
  return sim::describe(full.events[u.event]);
}

// Weaker versions of `e`, the ones that take most away first.
std::vector<sim::FaultEvent> weaker_versions(const sim::FaultEvent& e) {
  using std::chrono::milliseconds;
  std::vector<sim::FaultEvent> out;
  for (auto member : {&sim::FaultEvent::nodes, &sim::FaultEvent::to}) {
    const std::vector<sim::NodeId>& set = e.*member;
    if (set.size() < 2) continue;
    for (std::size_t i = 0; i < set.size(); ++i) {
      sim::FaultEvent fewer = e;
      (fewer.*member).erase((fewer.*member).begin() + static_cast<std::ptrdiff_t>(i));
      out.push_back(std::move(fewer));
    }
  }
  // Halving stops at a millisecond: below that a fault no longer tells a story, and zero means
  // "until the quiet phase" for a duration.
  if (e.duration >= milliseconds(2)) {
    sim::FaultEvent shorter = e;
    shorter.duration = std::chrono::duration_cast<std::chrono::microseconds>(e.duration / 2);
    out.push_back(shorter);
  }
  if (e.offset >= milliseconds(2) || e.offset <= -milliseconds(2)) {
    sim::FaultEvent smaller = e;
    smaller.offset = std::chrono::duration_cast<std::chrono::microseconds>(e.offset / 2);
    out.push_back(smaller);
  }
  if (e.drift_ppm != 0) {
    sim::FaultEvent steadier = e;
    steadier.drift_ppm = e.drift_ppm / 2;
    out.push_back(steadier);
  }
  return out;
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
    RunResult r = run_scenario(
        spec, registry, RunOptions{seed, plan_of(failing_plan, candidate), false, options.branch});
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
  for (const Unit& u : units_of(failing_plan)) {
    const bool kept = std::any_of(current.begin(), current.end(), [&](const Unit& k) {
      return k.ambient == u.ambient && (u.ambient >= 0 || k.event == u.event);
    });
    if (!kept) out.removed.push_back(describe_unit(failing_plan, u));
  }
  sim::FaultPlan plan = plan_of(failing_plan, current);

  // Weakening: each event, one step at a time, while the failure stays.
  auto plan_fails = [&](const sim::FaultPlan& candidate) {
    ++out.runs;
    RunResult r = run_scenario(spec, registry, RunOptions{seed, candidate, false, options.branch});
    const bool fails = !r.passed && r.property == property;
    if (options.progress) options.progress(out.runs, candidate.size(), fails);
    return fails;
  };
  for (sim::FaultEvent& event : plan.events) {
    const sim::FaultEvent before = event;
    bool weaker = true;
    while (weaker && out.runs < options.runs_max) {
      weaker = false;
      for (const sim::FaultEvent& candidate : weaker_versions(event)) {
        if (out.runs >= options.runs_max) break;
        const sim::FaultEvent current_event = event;
        event = candidate;
        if (plan_fails(plan)) {
          weaker = true;
          break;
        }
        event = current_event;
      }
    }
    if (!(event == before)) {
      out.weakened.push_back(sim::describe(before) + " -> " + sim::describe(event));
    }
  }
  out.hit_run_limit = out.runs >= options.runs_max;
  out.plan = plan;
  // The final run, with its events, for the shrunk trace.
  out.result = run_scenario(spec, registry, RunOptions{seed, out.plan, true, options.branch});
  if (out.result.passed || out.result.property != property) {
    // Cannot happen for a deterministic simulator: the same plan failed before.
    out.plan = failing_plan;
    out.result = run_scenario(spec, registry, RunOptions{seed, failing_plan, true, options.branch});
  }
  return out;
}

}  // namespace doppel::scenarios
