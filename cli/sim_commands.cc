// doppel sim run | swarm | merge | replay | shrink (explore: sim_explore.cc)

#include <sys/stat.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/coverage_report.h"
#include "scenarios/runner.h"
#include "scenarios/shrink.h"
#include "scenarios/swarm.h"
#include "scenarios/swarm_record.h"

namespace doppel::cli {
namespace {

using scenarios::RunOptions;
using scenarios::RunResult;
using scenarios::ScenarioSpec;

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

std::string plan_summary(const sim::FaultPlan& plan) {
  std::string out;
  auto add = [&](std::string s) { out += (out.empty() ? "" : ", ") + s; };
  if (plan.ambient.latency) add("latency");
  if (plan.ambient.split_reads) add("split_reads");
  if (plan.ambient.disk_model != sim::DiskModel::instant) {
    add("disk_latency=" + std::string(sim::disk_model_name(plan.ambient.disk_model)));
  }
  if (plan.ambient.disk_eio) add("disk_eio");
  if (plan.ambient.disk_bitflip) add("disk_bitflip");
  if (plan.ambient.disk_fsyncgate) add("disk_fsyncgate");
  if (plan.ambient.buggify) add("buggify");
  std::map<std::string, int> counts;
  for (const auto& e : plan.events) ++counts[std::string(sim::fault_name(e.kind))];
  for (const auto& [k, n] : counts) add(k + " x" + std::to_string(n));
  return out.empty() ? "none" : out;
}

void print_run(const ScenarioSpec& spec, std::uint64_t seed, const RunResult& r) {
  std::printf("scenario: %s (%s)\nseed: %" PRIu64 "\nfaults: %s\n", spec.name.c_str(),
              spec.path.c_str(), seed, plan_summary(r.plan).c_str());
  const double sim_s = static_cast<double>(r.simulated_ns) / 1e9;
  std::printf("ran: %" PRIu64 " trace events, %" PRIu64
              " scheduled events, %.1f s simulated in %.2f s (%.0fx)\n",
              r.event_count, r.stats.events_run, sim_s, r.wall_seconds,
              r.wall_seconds > 0 ? sim_s / r.wall_seconds : 0.0);
  if (r.passed) {
    std::printf("result: PASS (properties: ");
    for (std::size_t i = 0; i < spec.properties.size(); ++i) {
      std::printf("%s%s", i ? ", " : "", spec.properties[i].c_str());
    }
    std::printf(")\n");
  } else {
    std::printf("result: FAIL property '%s': %s\n", r.property.c_str(), r.detail.c_str());
  }
}

Result<std::pair<std::uint32_t, std::uint32_t>> parse_shard(const std::string& text) {
  unsigned i = 0, n = 0;
  char extra = 0;
  if (std::sscanf(text.c_str(), "%u/%u%c", &i, &n, &extra) != 2 || n == 0 || i >= n ||
      n > 1'000'000) {
    return make_error(Errc::invalid_argument,
                      "--shard: expected I/N with 0 <= I < N, got '" + text + "'");
  }
  return std::make_pair(i, n);
}

struct RunArgs {
  std::string scenario;
  std::uint64_t seed = 0;
  std::string trace;
  std::string plan_file;
  bool check_determinism = false;
  bool print_plan = false;
};

int cmd_run(const scenarios::Registry& registry, const RunArgs& a) {
  auto spec = scenarios::load_scenario(a.scenario, registry);
  if (!spec)
    return usage_error(spec.error().what.empty() ? spec.error().message() : spec.error().what);
  RunOptions options{a.seed, std::nullopt, !a.trace.empty() || a.check_determinism};
  if (!a.plan_file.empty()) {
    auto plan = scenarios::load_plan(*spec, registry, a.plan_file);
    if (!plan) return usage_error(plan.error().what);
    options.plan = std::move(*plan);
  }
  RunResult r = scenarios::run_scenario(*spec, registry, options);
  // A failing run always keeps its trace: it is what the replay command needs.
  if (!r.passed && !options.keep_events) {
    options.keep_events = true;
    options.plan = r.plan;
    r = scenarios::run_scenario(*spec, registry, options);
  }
  print_run(*spec, a.seed, r);
  if (a.print_plan) std::printf("--- fault plan\n%s---\n", sim::to_toml(r.plan).c_str());
  int code = r.passed ? kExitOk : kExitFailed;
  if (a.check_determinism) {
    RunResult again = scenarios::run_scenario(*spec, registry, RunOptions{a.seed, r.plan, true});
    auto diverged = scenarios::first_divergence(r.records, again.records);
    if (again.trace_hash == r.trace_hash && !diverged) {
      std::printf("determinism: OK (the seed ran twice with trace hash %s)\n",
                  hex(r.trace_hash).c_str());
    } else {
      std::printf("determinism: FAILED: the seed ran twice with different traces\n");
      if (diverged) {
        const auto i = *diverged;
        std::printf(
            "  first difference at event #%" PRIu64 ":\n    first run:  %s\n    second run: %s\n",
            i, i < r.records.size() ? sim::format_record(r.records[i]).c_str() : "<end>",
            i < again.records.size() ? sim::format_record(again.records[i]).c_str() : "<end>");
      }
      code = kExitFailed;
    }
  }
  std::string trace_path = a.trace;
  if (trace_path.empty() && !r.passed)
    trace_path = spec->name + "-seed" + std::to_string(a.seed) + ".trace";
  if (!trace_path.empty()) {
    Status s = sim::write_trace(trace_path, scenarios::make_trace(*spec, a.seed, r));
    if (!s) {
      std::fprintf(stderr, "doppel: %s\n", s.error().message().c_str());
      code = kExitUsage;
    } else {
      std::printf("trace: %s\n", trace_path.c_str());
    }
  }
  if (!r.passed) std::printf("replay: doppel sim replay %s\n", trace_path.c_str());
  std::printf("trace-hash: %s\n", hex(r.trace_hash).c_str());
  return code;
}

struct SwarmArgs {
  std::vector<std::string> scenarios;
  std::string seeds = "0..100";
  int jobs = 0;
  std::string shard = "0/1";
  std::string out = "swarm-out";
  bool quiet = false;
  double time_s = 0;   // 0: no time box
  std::string probes;  // write every coverage probe with its count here
};

// A swarm's summary, the same for one machine (sim swarm) and for shards put back together
// (sim merge): wall-clock figures aside, the same seeds print the same lines.
int report_swarm(const std::vector<ScenarioSpec>& specs, const scenarios::Registry& registry,
                 scenarios::SwarmSummary& s, const std::string& probes) {
  std::vector<std::string> names;
  for (const ScenarioSpec& spec : specs) names.push_back(spec.name);
  scenarios::sort_failures(s.failures, names);
  const double sim_s = static_cast<double>(s.simulated_ns) / 1e9;
  std::printf("swarm: %" PRIu64 " runs, %zu failed, %" PRIu64
              " trace events, %.0f s simulated in %.1f s wall (%.1f seeds/s)\n",
              s.runs, s.failures.size(), s.events, sim_s, s.wall_seconds,
              s.wall_seconds > 0 ? static_cast<double>(s.runs) / s.wall_seconds : 0.0);
  print_failures_by_property(s.failures);
  if (!s.failures.empty()) {
    const auto& f = s.failures.front();
    std::printf("first failure: %s seed %" PRIu64 ": %s\n  replay: doppel sim replay %s\n",
                f.scenario.c_str(), f.seed, f.detail.c_str(), f.trace_path.c_str());
  }
  if (s.stopped_early) std::printf("swarm: stopped early after %zu failures\n", s.failures.size());
  if (s.timed_out) std::printf("swarm: stopped at the time limit (--time)\n");
  if (!probes.empty()) {
    std::FILE* f = std::fopen(probes.c_str(), "w");
    if (f == nullptr) return usage_error("--probes: cannot write " + probes);
    for (const auto& [probe, n] : s.coverage.probes())
      std::fprintf(f, "%" PRIu64 "\t%s\n", n, probe.c_str());
    std::fclose(f);
  }
  print_coverage_report(specs, registry, s.coverage);
  return s.failures.empty() ? kExitOk : kExitFailed;
}

int cmd_swarm(const scenarios::Registry& registry, const SwarmArgs& a) {
  std::vector<ScenarioSpec> specs;
  for (const std::string& path : a.scenarios) {
    auto spec = scenarios::load_scenario(path, registry);
    if (!spec)
      return usage_error(spec.error().what.empty() ? spec.error().message() : spec.error().what);
    specs.push_back(std::move(*spec));
  }
  auto seeds = parse_seed_range(a.seeds);
  if (!seeds) return usage_error(seeds.error().what);
  auto shard = parse_shard(a.shard);
  if (!shard) return usage_error(shard.error().what);
  if (a.jobs < 0 || a.jobs > 1024) return usage_error("--jobs: expected 1 to 1024");
  if (::mkdir(a.out.c_str(), 0755) != 0 && errno != EEXIST) {
    return usage_error("--out: cannot create " + a.out + ": " + std::strerror(errno));
  }
  scenarios::SwarmOptions o;
  o.seed_begin = seeds->first;
  o.seed_end = seeds->second;
  o.jobs = a.jobs > 0 ? a.jobs : static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  o.shard_index = shard->first;
  o.shard_count = shard->second;
  o.out_dir = a.out;
  o.progress = !a.quiet;
  o.time_limit = Duration(static_cast<std::int64_t>(a.time_s * 1e9));
  std::printf("swarm: %zu scenario(s), seeds %s, shard %s, %d job(s), traces of failures in %s/\n",
              specs.size(), a.seeds.c_str(), a.shard.c_str(), o.jobs, a.out.c_str());
  std::fflush(stdout);
  scenarios::SwarmSummary s = scenarios::run_swarm(specs, registry, o);
  // What sim merge needs to put shards run elsewhere back together.
  scenarios::SwarmRecord record;
  for (const ScenarioSpec& spec : specs) record.scenarios.push_back({spec.path, spec.text});
  record.seed_begin = o.seed_begin;
  record.seed_end = o.seed_end;
  record.shards = {o.shard_index};
  record.shard_count = o.shard_count;
  record.summary = s;
  const std::string record_path = a.out + "/" + std::string(scenarios::kSwarmRecordFile);
  if (std::ofstream f(record_path); !(f << scenarios::encode_swarm_record(record))) {
    return usage_error("--out: cannot write " + record_path);
  }
  return report_swarm(specs, registry, s, a.probes);
}

int cmd_merge(const scenarios::Registry& registry, const std::vector<std::string>& dirs,
              const std::string& probes) {
  std::vector<scenarios::SwarmRecord> records;
  for (const std::string& dir : dirs) {
    const std::string path = dir + "/" + std::string(scenarios::kSwarmRecordFile);
    std::ifstream in(path);
    if (!in) return usage_error(path + ": cannot read (not the --out of a finished swarm?)");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto record = scenarios::decode_swarm_record(text, path);
    if (!record) return usage_error(record.error().what);
    records.push_back(std::move(*record));
  }
  auto merged = scenarios::merge_swarm_records(records);
  if (!merged) return usage_error(merged.error().what);
  std::vector<ScenarioSpec> specs;
  for (const auto& sc : merged->scenarios) {
    auto spec = scenarios::parse_scenario(sc.text, sc.path + " (as the shards ran it)", registry);
    if (!spec) return usage_error(spec.error().what);
    specs.push_back(std::move(*spec));
  }
  std::printf("merged %zu shard(s) of %u: %zu scenario(s), seeds %" PRIu64 "..%" PRIu64 "\n",
              records.size(), merged->shard_count, specs.size(), merged->seed_begin,
              merged->seed_end);
  return report_swarm(specs, registry, merged->summary, probes);
}

int cmd_replay(const scenarios::Registry& registry, const std::string& path) {
  auto trace = sim::read_trace(path);
  if (!trace) return usage_error(trace.error().what);
  const sim::TraceHeader& h = trace->header;
  std::printf("trace: %s\nscenario: %s, seed %" PRIu64 ", %" PRIu64 " events\n", path.c_str(),
              h.scenario_name.c_str(), h.seed, h.event_count);
  if (h.branch) {
    std::printf("branched at %.6f s with seed %" PRIu64 " (sim explore)\n",
                static_cast<double>(h.branch->at.count()) / 1e9, h.branch->seed);
  }
  std::printf("recorded outcome: %s\n",
              h.passed
                  ? "PASS"
                  : ("FAIL property '" + h.failed_property + "': " + h.failure_detail).c_str());
  auto report = scenarios::replay(*trace, registry);
  if (!report) return usage_error(path + ": cannot replay: " + report.error().what);
  const RunResult& r = report->rerun;
  if (!report->same_build) {
    std::printf(
        "build: differs (trace from %s, this is %s): replaying the same seed and fault plan\n",
        report->trace_build.c_str(), report->this_build.c_str());
  }
  if (report->divergence) {
    std::printf("diverged at event #%" PRIu64 ":\n  trace: %s\n  now:   %s\n", *report->divergence,
                report->expected.c_str(), report->got.c_str());
  } else if (r.trace_hash != h.trace_hash) {
    std::printf("diverged: every stored event matched but the final trace hash differs\n");
  } else {
    std::printf("replay: all %" PRIu64 " events reproduced, trace hash %s\n", r.event_count,
                hex(r.trace_hash).c_str());
  }
  const bool same_outcome = r.passed == h.passed && r.property == h.failed_property;
  if (r.passed) {
    std::printf("outcome now: PASS%s\n",
                h.passed ? "" : (" (property '" + h.failed_property + "' now holds)").c_str());
  } else {
    std::printf("outcome now: FAIL property '%s': %s%s\n", r.property.c_str(), r.detail.c_str(),
                (!h.passed && r.property == h.failed_property) ? " (still fails)" : "");
  }
  if (report->same_build) return report->identical ? kExitOk : kExitFailed;
  return same_outcome ? kExitOk : kExitFailed;
}

int cmd_shrink(const scenarios::Registry& registry, const std::string& path, std::string out,
               int runs_max) {
  auto trace = sim::read_trace(path);
  if (!trace) return usage_error(trace.error().what);
  if (trace->header.passed)
    return usage_error(path + ": this run passed; there is nothing to shrink");
  auto spec = scenarios::scenario_of(*trace, registry);
  if (!spec) return usage_error(path + ": " + spec.error().what);
  auto plan = sim::parse_fault_plan_text(trace->header.fault_plan_toml, "<fault plan in trace>");
  if (!plan) return usage_error(path + ": " + plan.error().what);
  if (out.empty()) {
    out = path;
    if (out.size() > 6 && out.compare(out.size() - 6, 6, ".trace") == 0) out.resize(out.size() - 6);
    out += ".shrunk.trace";
  }
  const std::string property = trace->header.failed_property;
  std::printf("shrinking %s: seed %" PRIu64 ", property '%s', %zu fault(s): %s\n", path.c_str(),
              trace->header.seed, property.c_str(), plan->size(), plan_summary(*plan).c_str());
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  scenarios::ShrinkOptions options;
  options.runs_max = runs_max;
  options.branch = trace->header.branch;
  options.progress = [tty](int run, std::size_t units, bool fails) {
    std::fprintf(stderr, "%sshrink: run %d, trying %zu fault(s): %s%s", tty ? "\r\033[K" : "", run,
                 units, fails ? "still fails" : "passes", tty ? "" : "\n");
  };
  scenarios::ShrinkResult s =
      scenarios::shrink(*spec, registry, trace->header.seed, *plan, property, options);
  if (tty) std::fprintf(stderr, "\n");
  if (s.result.passed || s.result.property != property) {
    std::printf("shrink: the trace's failure does not reproduce with this build (now: %s)\n",
                s.result.passed ? "PASS" : s.result.property.c_str());
    return kExitFailed;
  }
  const std::string toml_path = out.size() > 6 && out.compare(out.size() - 6, 6, ".trace") == 0
                                    ? out.substr(0, out.size() - 6) + ".toml"
                                    : out + ".toml";
  // The plan says how it was shrunk, in the trace too (TOML comments: it still parses).
  std::string story = "# shrunk from " + std::to_string(plan->size()) + " fault(s) in " +
                      std::to_string(s.runs) + " runs\n";
  for (const std::string& r : s.removed) story += "# removed: " + r + "\n";
  for (const std::string& w : s.weakened) story += "# weakened: " + w + "\n";
  sim::TraceFile shrunk = scenarios::make_trace(*spec, trace->header.seed, s.result);
  shrunk.header.fault_plan_toml = story + shrunk.header.fault_plan_toml;
  Status ws = sim::write_trace(out, shrunk);
  std::ofstream plan_out(toml_path);
  plan_out << shrunk.header.fault_plan_toml;
  if (!ws || !plan_out) return usage_error("cannot write " + (ws ? toml_path : out));
  std::printf("shrunk: %zu fault(s) -> %zu in %d runs%s\n", plan->size(), s.plan.size(), s.runs,
              s.hit_run_limit ? " (stopped at the run limit)" : "");
  std::printf("  faults: %s\n", plan_summary(s.plan).c_str());
  for (const std::string& r : s.removed) std::printf("  removed: %s\n", r.c_str());
  for (const std::string& w : s.weakened) std::printf("  weakened: %s\n", w.c_str());
  std::printf("  left:\n");
  for (const auto& e : s.plan.events) std::printf("    %s\n", sim::describe(e).c_str());
  std::printf("still fails: property '%s': %s\n", s.result.property.c_str(),
              s.result.detail.c_str());
  std::printf("trace: %s\nplan: %s\nreplay: doppel sim replay %s\n", out.c_str(), toml_path.c_str(),
              out.c_str());
  return kExitOk;
}

}  // namespace

Result<std::pair<std::uint64_t, std::uint64_t>> parse_seed_range(const std::string& text) {
  const auto dots = text.find("..");
  auto number = [](const std::string& s, std::uint64_t& out) {
    if (s.empty() || s.size() > 19) return false;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
    }
    out = std::stoull(s);
    return true;
  };
  std::uint64_t a = 0, b = 0;
  if (dots == std::string::npos || !number(text.substr(0, dots), a) ||
      !number(text.substr(dots + 2), b)) {
    return make_error(Errc::invalid_argument,
                      "--seeds: expected A..B (seeds A to B-1), got '" + text + "'");
  }
  if (b <= a) return make_error(Errc::invalid_argument, "--seeds: the range " + text + " is empty");
  return std::make_pair(a, b);
}

void add_sim_explore(CLI::App& sim, Commands& commands);  // sim_explore.cc

void add_sim_commands(CLI::App& app, Commands& commands) {
  CLI::App* sim = app.add_subcommand(
      "sim", "Deterministic simulation: run, swarm, merge, explore, replay, shrink");
  sim->require_subcommand(1);

  auto run_args = std::make_shared<RunArgs>();
  CLI::App* run =
      sim->add_subcommand("run", "Run one seed of a scenario; prints trace-hash: <hex> last");
  run->add_option("scenario", run_args->scenario, "Scenario file (scenarios/*.toml)")->required();
  run->add_option("--seed", run_args->seed, "The seed (default 0)");
  run->add_option("--trace", run_args->trace,
                  "Write the run's trace here (a failing run always writes one)");
  run->add_option("--plan", run_args->plan_file,
                  "Use this fault plan (TOML, as shrink writes) instead");
  run->add_flag("--check-determinism", run_args->check_determinism,
                "Run the seed twice and compare traces");
  run->add_flag("--print-plan", run_args->print_plan, "Print the fault plan as TOML");
  run->callback([&commands, run_args] {
    commands.action = [&commands, run_args] { return cmd_run(commands.registry, *run_args); };
  });

  auto swarm_args = std::make_shared<SwarmArgs>();
  CLI::App* swarm =
      sim->add_subcommand("swarm", "Run many seeds in worker processes; exit 1 if any failed");
  swarm->add_option("scenarios", swarm_args->scenarios, "Scenario files")->required();
  swarm->add_option("--seeds", swarm_args->seeds,
                    "Seed range A..B: seeds A to B-1 (default 0..100)");
  swarm->add_option("--jobs,-j", swarm_args->jobs, "Worker processes (default: one per CPU)");
  swarm->add_option("--shard", swarm_args->shard, "Run only shard I of N: I/N (default 0/1)");
  swarm->add_option("--out", swarm_args->out,
                    "Directory for traces of failures (default swarm-out)");
  swarm
      ->add_option(
          "--time", swarm_args->time_s,
          "Start no run after S seconds of wall time (seed-major: every scenario gets seed A "
          "before any gets A+1)")
      ->check(CLI::Range(0.0, 1e7));
  swarm->add_option(
      "--probes", swarm_args->probes,
      "Write every coverage probe (faults, BUGGIFY sites, events, op: reach) with its count");
  swarm->add_flag("--quiet", swarm_args->quiet, "No live progress line");
  swarm->callback([&commands, swarm_args] {
    commands.action = [&commands, swarm_args] { return cmd_swarm(commands.registry, *swarm_args); };
  });

  add_sim_explore(*sim, commands);

  auto merge_dirs = std::make_shared<std::vector<std::string>>();
  auto merge_probes = std::make_shared<std::string>();
  CLI::App* merge = sim->add_subcommand(
      "merge", "Put the --out directories of a swarm's shards together into one summary");
  merge->add_option("dirs", *merge_dirs, "The shards' --out directories")->required();
  merge->add_option("--probes", *merge_probes,
                    "Write every coverage probe with its count here (as swarm --probes)");
  merge->callback([&commands, merge_dirs, merge_probes] {
    commands.action = [&commands, merge_dirs, merge_probes] {
      return cmd_merge(commands.registry, *merge_dirs, *merge_probes);
    };
  });

  auto replay_path = std::make_shared<std::string>();
  CLI::App* replay =
      sim->add_subcommand("replay", "Rerun a trace; report the first diverging event");
  replay->add_option("trace", *replay_path, "Trace file")->required();
  replay->callback([&commands, replay_path] {
    commands.action = [&commands, replay_path] {
      return cmd_replay(commands.registry, *replay_path);
    };
  });

  auto shrink_path = std::make_shared<std::string>();
  auto shrink_out = std::make_shared<std::string>();
  auto shrink_runs = std::make_shared<int>(300);
  CLI::App* shrink =
      sim->add_subcommand("shrink", "Find a smaller fault plan that fails the same property");
  shrink->add_option("trace", *shrink_path, "A failing trace")->required();
  shrink->add_option("-o,--output", *shrink_out,
                     "The smaller trace (default: TRACE.shrunk.trace; plan beside it as .toml)");
  shrink->add_option("--runs", *shrink_runs, "At most this many runs (default 300)")
      ->check(CLI::Range(1, 100000));
  shrink->callback([&commands, shrink_path, shrink_out, shrink_runs] {
    commands.action = [&commands, shrink_path, shrink_out, shrink_runs] {
      return cmd_shrink(commands.registry, *shrink_path, *shrink_out, *shrink_runs);
    };
  });
}

}  // namespace doppel::cli
