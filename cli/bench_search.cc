// doppel bench search: how long the default swarm needs to catch each planted
// bug. For every planted bug of every component, the component's shipped
// scenarios (scenarios/<component>-*.toml) run with the bug planted, as one
// seed-major swarm (every scenario gets seed 0, then seed 1, ...), until the
// first failure or the time limit; the table gives the seconds, the seeds run
// and what caught it. A row that times out is a bug the default swarm misses.
// The failing run is then shrunk (sim shrink's two passes) and the row gives
// its fault count before and after: how small a story the bug needs.
//
// --compare N puts the plain swarm beside `sim explore` (scenarios/explore.h):
// each runs N times with independent master seeds (the swarm from seed
// k x 10^6, explore with master seed k), and the row gives the median seconds
// and runs to the first failure of each; a run that misses counts as the time
// limit.
//
// This bench measures the swarm itself, so unlike the other benches it stands
// on the scenario layer (scenarios/).

#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/cli.h"
#include "cli/commands.h"
#include "scenarios/explore.h"
#include "scenarios/shrink.h"
#include "scenarios/swarm.h"
#include "sim/trace_file.h"

namespace doppel::cli {
namespace {

struct SearchArgs {
  std::string scenarios_dir = "scenarios";
  double time_max_s = 300;
  int jobs = 0;
  std::vector<std::string> only;  // component:bug
  int compare = 0;                // master seeds per mode; 0: the plain swarm once
};

// Seconds and runs to the first failure, or the time limit and the runs made when none came.
struct Catch {
  bool caught = false;
  double seconds = 0;
  std::uint64_t runs = 0;
  scenarios::SwarmFailure failure;
};

Catch plain_swarm(const scenarios::Registry& registry,
                  const std::vector<scenarios::ScenarioSpec>& specs, const SearchArgs& a, int jobs,
                  const std::string& out, std::uint64_t master) {
  scenarios::SwarmOptions o;
  o.seed_begin = master * 1'000'000;
  o.seed_end = o.seed_begin + 1'000'000;
  o.jobs = jobs;
  o.out_dir = out;
  o.progress = false;
  o.failures_max = 1;
  o.time_limit = Duration(static_cast<std::int64_t>(a.time_max_s * 1e9));
  const scenarios::SwarmSummary s = scenarios::run_swarm(specs, registry, o);
  if (s.failures.empty()) return Catch{false, s.wall_seconds, s.runs, {}};
  return Catch{true, s.first_failure_seconds, s.runs_to_first_failure, s.failures.front()};
}

Catch explored(const scenarios::Registry& registry,
               const std::vector<scenarios::ScenarioSpec>& specs, const SearchArgs& a, int jobs,
               const std::string& out, std::uint64_t master) {
  scenarios::ExploreOptions o;
  o.master_seed = master;
  o.jobs = jobs;
  o.out_dir = out;
  o.failures_max = 1;
  o.time_limit = Duration(static_cast<std::int64_t>(a.time_max_s * 1e9));
  const scenarios::ExploreSummary s = scenarios::explore(specs, registry, o);
  if (s.failures.empty()) return Catch{false, s.wall_seconds, s.runs, {}};
  return Catch{true, s.first_failure_seconds, s.runs_to_first_failure, s.failures.front()};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// One row of --compare: the medians of each mode over a.compare master seeds.
void compare_row(const scenarios::Registry& registry,
                 const std::vector<scenarios::ScenarioSpec>& specs, const SearchArgs& a, int jobs,
                 const std::string& out, const std::string& component, const std::string& bug,
                 std::vector<double>& speedups) {
  std::vector<double> swarm_s, swarm_runs, explore_s, explore_runs;
  int swarm_missed = 0, explore_missed = 0;
  for (int k = 0; k < a.compare; ++k) {
    const Catch p = plain_swarm(registry, specs, a, jobs, out, static_cast<std::uint64_t>(k));
    const Catch e = explored(registry, specs, a, jobs, out, static_cast<std::uint64_t>(k));
    swarm_s.push_back(p.caught ? p.seconds : a.time_max_s);
    swarm_runs.push_back(static_cast<double>(p.runs));
    explore_s.push_back(e.caught ? e.seconds : a.time_max_s);
    explore_runs.push_back(static_cast<double>(e.runs));
    swarm_missed += !p.caught;
    explore_missed += !e.caught;
  }
  const double ms = median(swarm_s), me = median(explore_s);
  speedups.push_back(me > 0 ? ms / me : 1.0);
  std::printf("%-10s %-22s %9.1f %8.0f %6d  %9.1f %8.0f %6d  %6.2fx\n", component.c_str(),
              bug.c_str(), ms, median(swarm_runs), swarm_missed, me, median(explore_runs),
              explore_missed, me > 0 ? ms / me : 1.0);
}

// The component's shipped scenarios, sorted by name.
Result<std::vector<scenarios::ScenarioSpec>> shipped(const scenarios::Registry& registry,
                                                     const std::string& dir,
                                                     const std::string& component) {
  std::vector<std::string> paths;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(component + "-", 0) == 0 && e.path().extension() == ".toml") {
      paths.push_back(e.path().string());
    }
  }
  if (ec) return make_error(Errc::not_found, dir + ": " + ec.message());
  std::sort(paths.begin(), paths.end());
  std::vector<scenarios::ScenarioSpec> specs;
  for (const std::string& p : paths) {
    auto spec = scenarios::load_scenario(p, registry);
    if (!spec) return spec.error();
    if (spec->component == component && spec->bug.empty()) specs.push_back(std::move(*spec));
  }
  return specs;
}

// "before->E+A": the failure's fault count (events and ambient faults switched on), and after
// shrinking it, its fault events E and ambient faults A; "-" when the failure has no trace (a
// worker died) or its plan does not parse.
std::string shrunk_faults(const scenarios::Registry& registry,
                          const std::vector<scenarios::ScenarioSpec>& specs,
                          const scenarios::SwarmFailure& f) {
  auto trace = sim::read_trace(f.trace_path);
  if (f.trace_path.empty() || !trace) return "-";
  auto plan = sim::parse_fault_plan_text(trace->header.fault_plan_toml, f.trace_path);
  const auto spec =
      std::find_if(specs.begin(), specs.end(), [&](const auto& x) { return x.name == f.scenario; });
  if (!plan || spec == specs.end()) return "-";
  scenarios::ShrinkOptions options;
  options.runs_max = 200;
  options.branch = trace->header.branch;
  const scenarios::ShrinkResult r =
      scenarios::shrink(*spec, registry, f.seed, *plan, f.property, options);
  const std::size_t events = r.plan.events.size();
  return std::to_string(plan->size()) + "->" + std::to_string(events) + "+" +
         std::to_string(r.plan.size() - events);
}

int cmd_search(const scenarios::Registry& registry, const SearchArgs& a) {
  const int jobs =
      a.jobs > 0 ? a.jobs : static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  const std::string out =
      std::filesystem::temp_directory_path() / ("doppel-search-" + std::to_string(::getpid()));
  std::filesystem::create_directories(out);
  if (a.compare > 0) {
    std::printf("medians of %d master seeds per mode; a miss counts as %.0f s\n", a.compare,
                a.time_max_s);
    std::printf("%-10s %-22s %9s %8s %6s  %9s %8s %6s  %7s\n", "component", "planted bug",
                "swarm s", "runs", "missed", "explore s", "runs", "missed", "speedup");
  } else {
    std::printf(
        "shrunk: faults of the first failure -> fault events + ambient faults after "
        "shrinking\n");
    std::printf("%-10s %-22s %9s %7s %8s  %s\n", "component", "planted bug", "seconds", "runs",
                "shrunk", "first failure");
  }
  std::vector<double> speedups;
  int missed = 0;
  for (const std::string& component : registry.names()) {
    std::vector<std::string> bugs = registry.planted_bugs(component);
    if (bugs.empty()) continue;
    auto base = shipped(registry, a.scenarios_dir, component);
    if (!base)
      return usage_error(base.error().what.empty() ? base.error().message() : base.error().what);
    if (base->empty()) continue;
    for (const std::string& bug : bugs) {
      if (!a.only.empty() &&
          std::find(a.only.begin(), a.only.end(), component + ":" + bug) == a.only.end()) {
        continue;
      }
      std::vector<scenarios::ScenarioSpec> specs = *base;
      const scenarios::RuntimeDecorator* decorator = registry.decorated_bug(component, bug);
      for (auto& s : specs) {
        s.bug = bug;
        if (decorator != nullptr) s.bug_decorator = *decorator;
      }
      if (a.compare > 0) {
        compare_row(registry, specs, a, jobs, out, component, bug, speedups);
        std::fflush(stdout);
        continue;
      }
      const Catch c = plain_swarm(registry, specs, a, jobs, out, 0);
      if (!c.caught) {
        ++missed;
        std::printf("%-10s %-22s %9.1f %7" PRIu64 "  MISSED within %.0f s\n", component.c_str(),
                    bug.c_str(), c.seconds, c.runs, a.time_max_s);
      } else {
        const auto& f = c.failure;
        std::printf("%-10s %-22s %9.1f %7" PRIu64 " %8s  %s seed %" PRIu64 ": %s\n",
                    component.c_str(), bug.c_str(), c.seconds, c.runs,
                    shrunk_faults(registry, specs, f).c_str(), f.scenario.c_str(), f.seed,
                    f.property.c_str());
      }
      std::fflush(stdout);
    }
  }
  if (!speedups.empty()) {
    std::printf("explore vs swarm: median speedup %.2fx, worst %.2fx over %zu planted bugs\n",
                median(speedups), *std::min_element(speedups.begin(), speedups.end()),
                speedups.size());
  }
  std::filesystem::remove_all(out);
  return missed == 0 ? kExitOk : kExitFailed;
}

}  // namespace

void add_bench_search(CLI::App& bench, Commands& commands) {
  auto args = std::make_shared<SearchArgs>();
  CLI::App* search = bench.add_subcommand("search",
                                          "Seconds and seeds the default swarm needs to catch each "
                                          "planted bug (exit 1 if one is missed)");
  search->add_option("--scenarios", args->scenarios_dir,
                     "Where the shipped scenarios are (default scenarios)");
  search
      ->add_option("--time-max", args->time_max_s,
                   "Seconds per planted bug before it counts as missed (default 300)")
      ->check(CLI::Range(1.0, 1e6));
  search->add_option("--jobs,-j", args->jobs, "Worker processes (default: one per CPU)")
      ->check(CLI::Range(1, 1024));
  search->add_option("--bug", args->only, "Only this planted bug, as component:bug (repeatable)");
  search
      ->add_option("--compare", args->compare,
                   "Plain swarm beside sim explore, medians over this many master seeds each")
      ->check(CLI::Range(1, 100));
  search->callback([&commands, args] {
    commands.action = [&commands, args] { return cmd_search(commands.registry, *args); };
  });
}

}  // namespace doppel::cli
