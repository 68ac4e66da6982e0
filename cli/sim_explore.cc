// doppel sim explore: coverage-guided search over seeds and fault plans (scenarios/explore.h).

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/coverage_report.h"
#include "scenarios/explore.h"

namespace doppel::cli {
namespace {

struct ExploreArgs {
  std::vector<std::string> scenarios;
  double time_s = 60;
  std::uint64_t runs = 0;
  std::uint64_t master_seed = 0;
  int jobs = 0;
  std::string out = "explore-out";
  bool quiet = false;
};

int cmd_explore(const scenarios::Registry& registry, const ExploreArgs& a) {
  std::vector<scenarios::ScenarioSpec> specs;
  for (const std::string& path : a.scenarios) {
    auto spec = scenarios::load_scenario(path, registry);
    if (!spec)
      return usage_error(spec.error().what.empty() ? spec.error().message() : spec.error().what);
    specs.push_back(std::move(*spec));
  }
  if (::mkdir(a.out.c_str(), 0755) != 0 && errno != EEXIST) {
    return usage_error("--out: cannot create " + a.out + ": " + std::strerror(errno));
  }
  scenarios::ExploreOptions o;
  o.master_seed = a.master_seed;
  o.runs_max = a.runs;
  o.time_limit = a.runs > 0 && a.time_s == 0 ? Duration(0)
                                             : Duration(static_cast<std::int64_t>(a.time_s * 1e9));
  o.jobs = a.jobs > 0 ? a.jobs : static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  o.out_dir = a.out;
  std::printf("explore: %zu scenario(s), master seed %" PRIu64
              ", %d job(s), %s, traces of "
              "failures in %s/\n",
              specs.size(), a.master_seed, o.jobs,
              a.runs > 0 ? ("at most " + std::to_string(a.runs) + " runs").c_str()
                         : ("for " + std::to_string(static_cast<int>(a.time_s)) + " s").c_str(),
              a.out.c_str());
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  auto last = start - std::chrono::hours(1);
  if (!a.quiet) {
    o.progress = [&](std::uint64_t runs, std::size_t corpus, std::size_t features,
                     std::size_t failed) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last < std::chrono::milliseconds(tty ? 200 : 10000)) return;
      last = now;
      const double secs = std::chrono::duration<double>(now - start).count();
      std::fprintf(stderr,
                   "%sexplore: %" PRIu64
                   " runs, %zu in the corpus, %zu features, %zu failed, "
                   "%.1f runs/s%s",
                   tty ? "\r\033[K" : "", runs, corpus, features, failed,
                   secs > 0 ? static_cast<double>(runs) / secs : 0.0, tty ? "" : "\n");
    };
  }
  const scenarios::ExploreSummary s = scenarios::explore(specs, registry, o);
  if (!a.quiet && tty) std::fprintf(stderr, "\n");
  std::printf("explore: %" PRIu64 " runs (%" PRIu64 " of mutants; %" PRIu64
              " mutants the cluster could not run were fresh seeds instead), %zu failed, "
              "%zu features, %zu in the corpus, in %.1f s wall (%.1f runs/s)\n",
              s.runs, s.mutants, s.invalid_mutants, s.failures.size(), s.features, s.corpus.size(),
              s.wall_seconds,
              s.wall_seconds > 0 ? static_cast<double>(s.runs) / s.wall_seconds : 0.0);
  print_failures_by_property(s.failures);
  if (!s.failures.empty()) {
    const auto& f = s.failures.front();
    std::printf("first failure after %.1f s and %" PRIu64 " runs: %s seed %" PRIu64
                ": %s\n  replay: doppel sim replay %s\n",
                s.first_failure_seconds, s.runs_to_first_failure, f.scenario.c_str(), f.seed,
                f.detail.c_str(), f.trace_path.empty() ? "(no trace)" : f.trace_path.c_str());
  }
  if (s.timed_out) std::printf("explore: stopped at the time limit (--time %.0f)\n", a.time_s);
  // What the corpus reached: per scenario, its runs, the entries kept and the features they
  // reached first; mutants kept are runs the plain swarm would not have made.
  std::printf("corpus: %-28s %8s %8s %8s %8s\n", "scenario", "runs", "kept", "mutants", "features");
  for (std::size_t i = 0; i < specs.size(); ++i) {
    std::size_t kept = 0, mutants = 0, features = 0;
    for (const auto& e : s.corpus) {
      if (e.scenario != i) continue;
      ++kept;
      mutants += e.origin != "seed";
      features += e.new_features;
    }
    std::printf("        %-28s %8" PRIu64 " %8zu %8zu %8zu\n", specs[i].name.c_str(),
                s.scenario_runs[i], kept, mutants, features);
  }
  print_coverage_report(specs, registry, s.coverage);
  return s.failures.empty() ? kExitOk : kExitFailed;
}

}  // namespace

void add_sim_explore(CLI::App& sim, Commands& commands) {
  auto args = std::make_shared<ExploreArgs>();
  CLI::App* explore = sim.add_subcommand(
      "explore",
      "Coverage-guided search: keep runs that reach something new, mutate their fault plans "
      "and seeds; exit 1 if any run failed");
  explore->add_option("scenarios", args->scenarios, "Scenario files")->required();
  explore->add_option("--time", args->time_s, "Seconds of wall time (default 60)")
      ->check(CLI::Range(0.0, 1e7));
  explore
      ->add_option("--runs", args->runs,
                   "At most this many runs; with --time 0 the only bound, and the whole "
                   "exploration is the same on every machine")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  explore->add_option("--seed", args->master_seed,
                      "The master seed: the same seed gives the same runs (default 0)");
  explore->add_option("--jobs,-j", args->jobs, "Worker processes (default: one per CPU)")
      ->check(CLI::Range(1, 1024));
  explore->add_option("--out", args->out, "Directory for traces of failures (default explore-out)");
  explore->add_flag("--quiet", args->quiet, "No progress line");
  explore->callback([&commands, args] {
    if (args->time_s == 0 && args->runs == 0) {
      throw CLI::ValidationError("--time 0 needs --runs: the exploration would never end");
    }
    commands.action = [&commands, args] { return cmd_explore(commands.registry, *args); };
  });
}

}  // namespace doppel::cli
