#include "cli/real_dvv.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "properties/dvv/causal_jsonl.h"

namespace doppel::cli {
namespace {

constexpr std::uint16_t kHttpPort = 8098;
constexpr std::uint16_t kRpcPort = 8087;

// What the causal oracle's findings are, as the scenario's properties.
const std::map<std::string, std::string>& property_of_finding() {
  static const std::map<std::string, std::string> m = {{"lost", "acknowledged-writes-survive"},
                                                       {"false-sibling", "no-false-conflicts"},
                                                       {"unwritten", "no-invented-values"},
                                                       {"resurrected", "deleted-stays-deleted"}};
  return m;
}

}  // namespace

std::string real_dvv_unsupported(const scenarios::DvvWorkload& w) {
  if (w.mode != "register") return "mode \"" + w.mode + "\" (only register)";
  if (w.clock != "dvvset" || !w.allow_mult || w.n_val != 3) {
    return "bucket props other than the server's defaults (clock dvvset, allow_mult, n_val 3)";
  }
  if (w.allow_mult_switch_ms > 0 || w.clock_switch_ms > 0) return "bucket props switched mid-run";
  if (w.members > 0 || w.membership_change_ms > 0) return "membership changes";
  return "";
}

std::string real_dvv_node_config(const RealDvvRun& run, std::uint32_t i) {
  const scenarios::ScenarioSpec& spec = run.spec;
  std::string peers;
  for (std::uint32_t j = 0; j < spec.nodes; ++j) {
    peers += (j ? ", \"" : "\"") + run.address(j) + ":" + std::to_string(kRpcPort) + "\"";
  }
  const std::string component = spec.bug.empty() ? "dvv" : "dvv-planted";
  std::string table = "[" + component + "]\n";
  if (!spec.bug.empty()) table += "bug = \"" + spec.bug + "\"\n";
  return "[node]\nname = \"dvv" + std::to_string(i) + "\"\ncomponent = \"" + component +
         "\"\nnode_id = " + std::to_string(i) + "\nlisten = \"" + run.address(i) + ":" +
         std::to_string(kHttpPort) + "\"\npeers = [" + peers + "]\ndata_dir = \"" + run.out +
         "/data-" + std::to_string(i) + "\"\ncores = " + std::to_string(spec.cores) +
         "\npin = false\nbackend = \"" + run.backend + "\"\n\n" + table +
         "partitions = 16\naae_interval_ms = 1000\nhandoff_interval_ms = 500\n"
         "request_timeout_ms = 1000\n"
         "insecure = true  # the run's own namespaces: a private network\n";
}

std::int64_t real_dvv_pause_ms(const RealDvvRun& run) {
  return std::max<std::int64_t>(
      1, std::chrono::duration_cast<std::chrono::milliseconds>(run.spec.duration).count() /
             std::max<std::int64_t>(1, run.workload.ops_per_client));
}

std::vector<std::string> real_dvv_client_args(const RealDvvRun& run, bool final) {
  const scenarios::DvvWorkload& w = run.workload;
  std::vector<std::string> argv = {"load", "dvv"};
  for (std::uint32_t i = 0; i < run.spec.nodes; ++i) {
    argv.emplace_back("--server");
    argv.push_back("http://" + run.address(i) + ":" + std::to_string(kHttpPort));
  }
  const auto opt = [&](const char* name, const std::string& v) {
    argv.emplace_back(name);
    argv.push_back(v);
  };
  opt("--history", run.out + "/history.jsonl");
  opt("--keys", std::to_string(w.keys));
  opt("--timeout-ms", std::to_string(w.timeout_ms));
  if (final) {
    argv.emplace_back("--final");
    return argv;
  }
  opt("--clients", std::to_string(run.spec.clients));
  opt("--ops", std::to_string(w.ops_per_client));
  opt("--pause-ms", std::to_string(real_dvv_pause_ms(run)));
  opt("--seed", std::to_string(run.seed));
  opt("--tag", "s" + std::to_string(run.seed));
  // The simulator's mix: blind writes, updates (a GET, then a PUT or a DELETE with its
  // context), and GETs for the rest.
  const std::int64_t writes = w.update_percent + w.blind_percent;
  opt("--read-percent", std::to_string(100 - writes));
  opt("--blind-percent", std::to_string(writes > 0 ? w.blind_percent * 100 / writes : 0));
  opt("--delete-percent", std::to_string(w.delete_percent));
  return argv;
}

RealJudgement judge_real_dvv_history(const RealDvvRun& run) {
  RealJudgement j;
  const auto& wanted = run.spec.properties;
  auto report = properties::dvv::check_causal_file(run.out + "/history.jsonl");
  if (!report) {
    j.failed.push_back("history: " + report.error().what);
    return j;
  }
  for (const auto& [kind, property] : property_of_finding()) {
    if (std::find(wanted.begin(), wanted.end(), property) == wanted.end()) continue;
    j.checked.insert(property);
    const auto n = report->counts.find(kind);
    if (n != report->counts.end()) {
      j.failed.push_back(property + ": " + std::to_string(n->second) + " " + kind);
    }
  }
  j.text = properties::dvv::describe(*report) + std::to_string(report->operations) +
           " operations, " + std::to_string(report->acked) + " writes acknowledged, " +
           std::to_string(report->final_reads) + " final reads\n";
  return j;
}

}  // namespace doppel::cli
