// doppel check linearizable [--model kv|cas-register] [--steps-max N] HISTORY.jsonl
//
// Exit codes: 0 linearizable (one summary line); 1 not linearizable (the
// summary and the counter-example), or unknown because a key's search hit
// the step limit (not shown to hold, so not a pass); 2 bad usage, an
// unreadable or malformed file, or an operation the model does not know (one
// line naming the file and the line).

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/cli.h"
#include "cli/commands.h"
#include "properties/history/jsonl.h"
#include "properties/linearizability/checker.h"

namespace doppel::cli {
namespace {

namespace lin = properties::linearizability;

struct CheckArgs {
  std::string history;
  std::string model = "kv";
  std::uint64_t steps_max = lin::CheckOptions{}.steps_max;
};

int cmd_check_linearizable(const CheckArgs& a) {
  const std::optional<lin::ModelKind> model = lin::parse_model(a.model);
  if (!model) return usage_error("--model: expected kv or cas-register, got '" + a.model + "'");
  const auto start = std::chrono::steady_clock::now();
  auto history = properties::read_jsonl_file(a.history);
  if (!history) return usage_error(history.error().what);  // "FILE:LINE: what"
  lin::CheckOptions options;
  options.model = *model;
  options.steps_max = a.steps_max;
  auto result = lin::check_linearizable(*history, options);
  if (!result) return usage_error(a.history + ": " + result.error().what);  // "FILE: line N: what"
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s, in %.2f s\n", lin::summarize(*result, *model).c_str(), seconds);
  if (result->counter_example) {
    std::printf("%s", lin::format_counter_example(*result->counter_example).c_str());
  }
  return result->verdict == lin::Verdict::linearizable ? kExitOk : kExitFailed;
}

}  // namespace

void add_check_commands(CLI::App& app, Commands& commands) {
  CLI::App* check = app.add_subcommand("check", "Check recorded histories");
  check->require_subcommand(1);
  auto args = std::make_shared<CheckArgs>();
  CLI::App* lin = check->add_subcommand(
      "linearizable", "Per-key linearizability of a JSONL history (Jepsen's shape); exit 1 if not");
  lin->add_option("history", args->history, "History file: one JSON operation per line")
      ->required();
  lin->add_option("--model", args->model,
                  "kv (get/set/append/delete/evict/restart, default) or "
                  "cas-register (read/write/cas)");
  lin->add_option("--steps-max", args->steps_max,
                  "Search steps per key before answering unknown (default 10000000)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  lin->callback(
      [&commands, args] { commands.action = [args] { return cmd_check_linearizable(*args); }; });
}

}  // namespace doppel::cli
