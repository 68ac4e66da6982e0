// doppel bench fidelity SCENARIO --seeds A..B [--out DIR]
//
// The same seeds in both worlds, side by side: each seed runs in the simulator (in this
// process) and for real (doppel real run, a child process: root), and the report compares
// what each saw: the verdicts, the clients' operations by outcome (ok, failed, unknown: a
// write with no answer), their latency quantiles (answered operations; simulated time against
// real time), the fault events applied (and, for real, skipped with their reason), and the
// outcomes seen in one world only. The final reads of a real run are left out: the
// simulator's are not client operations.

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/json.h"
#include "cli/child_process.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"
#include "sim/trace_log.h"

namespace doppel::cli {
namespace {

struct FidelityArgs {
  std::string scenario;
  std::string seeds = "1..21";
  std::string out;
};

// What one world saw of one seed.
struct Seen {
  bool passed = false;
  bool error = false;                                     // the run itself failed, no verdict
  std::string why;                                        // the failure, if any
  std::map<std::string, std::uint64_t> outcomes;          // "ok", "fail", "unknown"
  std::vector<std::int64_t> latency_ns;                   // answered operations
  std::map<std::string, std::uint64_t> applied, skipped;  // faults by kind

  void add(const Seen& o) {
    for (const auto& [k, n] : o.outcomes) outcomes[k] += n;
    latency_ns.insert(latency_ns.end(), o.latency_ns.begin(), o.latency_ns.end());
    for (const auto& [k, n] : o.applied) applied[k] += n;
    for (const auto& [k, n] : o.skipped) skipped[k] += n;
  }
  std::uint64_t ops() const {
    std::uint64_t n = 0;
    for (const auto& [k, c] : outcomes) n += c;
    return n;
  }
  std::string shares() const {
    const double total = std::max<double>(1, static_cast<double>(ops()));
    char buf[96];
    const auto at = [&](const char* k) {
      const auto it = outcomes.find(k);
      return 100.0 * static_cast<double>(it == outcomes.end() ? 0 : it->second) / total;
    };
    std::snprintf(buf, sizeof buf, "%5llu %5.1f/%4.1f/%4.1f",
                  static_cast<unsigned long long>(ops()), at("ok"), at("fail"), at("unknown"));
    return buf;
  }
  double quantile_ms(double q) {
    if (latency_ns.empty()) return 0;
    std::sort(latency_ns.begin(), latency_ns.end());
    const auto i = std::min(latency_ns.size() - 1,
                            static_cast<std::size_t>(q * static_cast<double>(latency_ns.size())));
    return static_cast<double>(latency_ns[i]) / 1e6;
  }
};

std::string detail_text(const sim::DecodedRecord& r, std::string_view key) {
  for (const auto& d : r.details) {
    if (d.key == key) return d.is_text ? d.text : std::to_string(d.number);
  }
  return "";
}
std::int64_t detail_number(const sim::DecodedRecord& r, std::string_view key) {
  for (const auto& d : r.details) {
    if (d.key == key && !d.is_text) return d.number;
  }
  return -1;
}

Seen simulate(const scenarios::ScenarioSpec& spec, const scenarios::Registry& registry,
              std::uint64_t seed) {
  const scenarios::RunResult r =
      scenarios::run_scenario(spec, registry, scenarios::RunOptions{seed, std::nullopt, true});
  Seen s;
  s.passed = r.passed;
  if (!r.passed) s.why = r.property + ": " + r.detail.substr(0, 160);
  for (const std::string& bytes : r.records) {
    const auto rec = sim::decode_record(bytes);
    if (!rec || rec->name.rfind("DvvClient", 0) != 0) continue;
    const std::string outcome = detail_text(*rec, "outcome");
    if (outcome.empty()) continue;
    ++s.outcomes[outcome];
    const std::int64_t start = detail_number(*rec, "start");
    if (outcome != "unknown" && start >= 0) {
      s.latency_ns.push_back(static_cast<std::int64_t>(rec->t_ns) - start);
    }
  }
  for (const sim::FaultEvent& e : r.plan.events) ++s.applied[std::string(sim::fault_name(e.kind))];
  const sim::AmbientFaults& am = r.plan.ambient;
  for (const auto& [on, name] : std::vector<std::pair<bool, const char*>>{
           {am.latency, "latency"},
           {am.split_reads, "split_reads"},
           {am.disk_model != sim::DiskModel::instant, "disk_latency"},
           {am.disk_eio, "disk_eio"},
           {am.disk_bitflip, "disk_bitflip"},
           {am.disk_fsyncgate, "disk_fsyncgate"},
           {am.buggify, "buggify"}}) {
    if (on) ++s.applied[name];
  }
  return s;
}

// The real run's history (its clients' operations, final reads left out) and faults.txt.
void read_real(const std::string& dir, Seen& s) {
  std::ifstream history(dir + "/history.jsonl");
  std::map<std::int64_t, std::pair<std::int64_t, bool>> pending;  // process -> time, final
  std::string line;
  while (std::getline(history, line)) {
    auto op = JsonValue::parse(line);
    if (!op) continue;
    auto process = op->i64("process");
    auto type = op->string("type");
    auto time = op->i64("time");
    if (!process || !type || !time) continue;
    if (*type == "invoke") {
      const JsonValue* fin = op->get("final");
      pending[*process] = {*time, fin != nullptr && fin->flag()};
      continue;
    }
    const auto it = pending.find(*process);
    if (it == pending.end()) continue;
    const auto [start, final] = it->second;
    pending.erase(it);
    if (final) continue;
    const std::string outcome = *type == "info" ? "unknown" : *type;
    ++s.outcomes[outcome];
    if (outcome != "unknown") s.latency_ns.push_back(*time - start);
  }
  std::ifstream faults(dir + "/faults.txt");
  while (std::getline(faults, line)) {
    const bool applied = line.find("applied  ") != std::string::npos;
    const bool skipped = line.find("skipped  ") != std::string::npos;
    if (!applied && !skipped) continue;
    // "applied  at 2739ms: partition n1,n2 ..." or "skipped  latency: why"
    std::string rest = line.substr(line.find(applied ? "applied  " : "skipped  ") + 9);
    if (rest.rfind("at ", 0) == 0) rest = rest.substr(rest.find(": ") + 2);
    const std::string kind = rest.substr(0, rest.find_first_of(" :"));
    ++(applied ? s.applied : s.skipped)[kind];
  }
}

int run_real(const FidelityArgs& a, std::uint64_t seed, Seen& s) {
  const std::string dir = a.out + "/seed-" + std::to_string(seed);
  ChildOptions o;
  o.log = dir + ".log";
  auto done = run_child(
      {self_exe(), "real", "run", a.scenario, "--seed", std::to_string(seed), "--out", dir}, o);
  if (!done) {
    s.why = done.error().what;
    return kExitFailed;
  }
  if (done->exit_code == kExitUsage) return kExitUsage;
  s.passed = done->exit_code == kExitOk;
  if (!s.passed) {
    std::ifstream verdict(dir + "/verdict.txt");
    std::string first, second;
    std::getline(verdict, first);
    std::getline(verdict, second);
    s.error = first.empty() || first.rfind("error:", 0) == 0;  // no verdict: the run failed
    s.why = second.empty() ? first : second.substr(second.find_first_not_of(' '));
  }
  read_real(dir, s);
  return kExitOk;
}

std::string verdict(const Seen& s) {
  return s.passed ? "pass" : s.error ? "error" : "FAIL";
}

int cmd_fidelity(const scenarios::Registry& registry, const FidelityArgs& args) {
  auto range = parse_seed_range(args.seeds);
  if (!range) return usage_error(range.error().what);
  auto spec = scenarios::load_scenario(args.scenario, registry);
  if (!spec) return usage_error(spec.error().what);
  if (::geteuid() != 0) return usage_error("bench fidelity: needs root (it runs real runs)");
  FidelityArgs a = args;
  if (a.out.empty()) a.out = "fidelity-" + spec->name;
  std::error_code ec;
  if (std::filesystem::exists(a.out, ec) && !std::filesystem::is_empty(a.out, ec)) {
    return usage_error("bench fidelity: " + a.out + " exists and is not empty");
  }
  std::filesystem::create_directories(a.out, ec);
  if (ec) return usage_error("bench fidelity: " + a.out + ": " + ec.message());
  a.out = std::filesystem::absolute(a.out).string();
  a.scenario = std::filesystem::absolute(a.scenario).string();

  std::string report;
  const auto say = [&](const std::string& text) {
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
    report += text;
  };
  say("bench fidelity " + spec->name + " seeds " + a.seeds + "\n" +
      "seed  sim   real   sim ops ok/fail/unknown %   real ops ok/fail/unknown %   p50 ms "
      "sim/real    faults sim/real(skipped)\n");
  Seen sim_all, real_all;
  std::vector<std::string> disagreements, errors;
  for (std::uint64_t seed = range->first; seed < range->second; ++seed) {
    Seen sim = simulate(*spec, registry, seed);
    Seen real;
    if (run_real(a, seed, real) == kExitUsage) {
      return usage_error("bench fidelity: " +
                         log_tail(a.out + "/seed-" + std::to_string(seed) + ".log"));
    }
    std::uint64_t sim_faults = 0, real_faults = 0, real_skipped = 0;
    for (const auto& [k, n] : sim.applied) sim_faults += n;
    for (const auto& [k, n] : real.applied) real_faults += n;
    for (const auto& [k, n] : real.skipped) real_skipped += n;
    char line[256];
    std::snprintf(
        line, sizeof line, "%-5llu %-5s %-5s  %-27s  %-27s  %6.1f/%-8.1f  %llu/%llu(%llu)\n",
        static_cast<unsigned long long>(seed), verdict(sim).c_str(), verdict(real).c_str(),
        sim.shares().c_str(), real.shares().c_str(), sim.quantile_ms(0.5), real.quantile_ms(0.5),
        static_cast<unsigned long long>(sim_faults), static_cast<unsigned long long>(real_faults),
        static_cast<unsigned long long>(real_skipped));
    say(line);
    if (real.error) {
      errors.push_back("seed " + std::to_string(seed) + ": " + real.why);
    } else if (sim.passed != real.passed) {
      disagreements.push_back("seed " + std::to_string(seed) + ": sim " + verdict(sim) +
                              (sim.why.empty() ? "" : " (" + sim.why + ")") + ", real " +
                              verdict(real) + (real.why.empty() ? "" : " (" + real.why + ")"));
    }
    sim_all.add(sim);
    real_all.add(real);
  }
  const std::uint64_t seeds = range->second - range->first - errors.size();
  std::string summary = "\nverdicts: the same in " + std::to_string(seeds - disagreements.size()) +
                        " of " + std::to_string(seeds) + " seeds that ran in both worlds\n";
  for (const std::string& d : disagreements) summary += "  " + d + "\n";
  if (!errors.empty()) {
    summary += std::to_string(errors.size()) + " real runs did not run to a verdict:\n";
    for (const std::string& e : errors) summary += "  " + e + "\n";
  }
  summary += "operations ok/fail/unknown %: sim " + sim_all.shares() + ", real " +
             real_all.shares() + "\n";
  char q[200];
  std::snprintf(q, sizeof q,
                "latency ms (answered) p50/p90/p99: sim %.1f/%.1f/%.1f, real %.1f/%.1f/%.1f\n",
                sim_all.quantile_ms(0.5), sim_all.quantile_ms(0.9), sim_all.quantile_ms(0.99),
                real_all.quantile_ms(0.5), real_all.quantile_ms(0.9), real_all.quantile_ms(0.99));
  summary += q;
  std::string one_world;
  for (const char* k : {"ok", "fail", "unknown"}) {
    const bool in_sim = sim_all.outcomes[k] > 0, in_real = real_all.outcomes[k] > 0;
    if (in_sim != in_real) one_world += std::string(" ") + k + (in_sim ? " (sim)" : " (real)");
  }
  summary += "outcomes seen in one world only:" + (one_world.empty() ? " none" : one_world) + "\n";
  summary += "faults by kind, sim applied / real applied / real skipped:\n";
  std::map<std::string, int> kinds;
  for (const auto* m : {&sim_all.applied, &real_all.applied, &real_all.skipped}) {
    for (const auto& [k, n] : *m) kinds[k] = 0;
  }
  for (const auto& [k, unused] : kinds) {
    summary += "  " + k + ": " + std::to_string(sim_all.applied[k]) + " / " +
               std::to_string(real_all.applied[k]) + " / " + std::to_string(real_all.skipped[k]) +
               "\n";
  }
  say(summary);
  std::ofstream(a.out + "/fidelity.txt") << report;
  std::printf("each real run's plan, logs, history and verdict: %s/seed-N\n", a.out.c_str());
  return kExitOk;
}

}  // namespace

void add_bench_fidelity(CLI::App& bench, Commands& commands) {
  auto a = std::make_shared<FidelityArgs>();
  CLI::App* cmd = bench.add_subcommand(
      "fidelity",
      "The same seeds in the simulator and for real (doppel real run; root): verdicts, "
      "operations by outcome, latency, faults applied and skipped, side by side");
  cmd->add_option("scenario", a->scenario, "Scenario file (one doppel real run can play)")
      ->required();
  cmd->add_option("--seeds", a->seeds, "A..B: seeds A to B-1")->capture_default_str();
  cmd->add_option("--out", a->out,
                  "Directory for each real run and the report (new or empty; default "
                  "fidelity-<scenario>)");
  cmd->callback([&commands, a] {
    commands.action = [&commands, a] { return cmd_fidelity(commands.registry, *a); };
  });
}

}  // namespace doppel::cli
