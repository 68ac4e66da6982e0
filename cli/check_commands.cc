// doppel check linearizable [--model kv|cas-register] [--steps-max N]
//                           [--clock-error-ms MS] [--item-size-max BYTES] [--html OUT]
//                           HISTORY.jsonl
//
// Exit codes: 0 linearizable (one summary line); 1 not linearizable (the
// summary and the counter-example), or unknown because a key's search hit
// the step limit (not shown to hold, so not a pass); 2 bad usage, an
// unreadable or malformed file, or an operation the model does not know (one
// line naming the file and the line).
//
// doppel check causal HISTORY.jsonl
//
// A Riak-style store's history (properties/dvv/causal_jsonl.h) against the causal
// oracle. Exit codes: 0 nothing found; 1 values lost, resurrected, unwritten or kept
// beside a value that superseded them (each listed with its line); 2 as above.

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/trace_page.h"
#include "components/kv/store/item.h"
#include "properties/dvv/causal_jsonl.h"
#include "properties/history/jsonl.h"
#include "properties/linearizability/checker.h"

namespace doppel::cli {
namespace {

namespace lin = properties::linearizability;

struct CheckArgs {
  std::string history;
  std::string model = "kv";
  std::uint64_t steps_max = lin::CheckOptions{}.steps_max;
  std::int64_t clock_error_ms = 0;
  std::uint32_t item_size_max = 0;
  std::string html;
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
  options.clock_error_ns = a.clock_error_ms * 1'000'000;
  options.item_bytes_max = a.item_size_max;
  options.item_header_bytes_max = kv::kItemHeaderBytesMax;  // our server's items
  auto result = lin::check_linearizable(*history, options);
  if (!result) return usage_error(a.history + ": " + result.error().what);  // "FILE: line N: what"
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s, in %.2f s\n", lin::summarize(*result, *model).c_str(), seconds);
  if (result->counter_example) {
    std::printf("%s", lin::format_counter_example(*result->counter_example).c_str());
  }
  if (!a.html.empty()) {
    const std::string detail =
        result->counter_example ? lin::format_counter_example(*result->counter_example) : "";
    const std::string page =
        history_page("doppel check linearizable " + a.history, lin::summarize(*result, *model),
                     detail, result->counter_example ? &*result->counter_example : nullptr);
    if (Status st = write_page(a.html, page); !st) return usage_error(st.error().what);
    std::printf("wrote %s\n", a.html.c_str());
  }
  return result->verdict == lin::Verdict::linearizable ? kExitOk : kExitFailed;
}

int cmd_check_causal(const std::string& path) {
  const auto start = std::chrono::steady_clock::now();
  auto report = properties::dvv::check_causal_file(path);
  if (!report) return usage_error(report.error().what);  // "FILE:LINE: what"
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto& r = *report;
  std::printf(
      "%s: %llu operations over %llu keys: %llu writes (%llu acknowledged), %llu reads (%llu "
      "final); %llu keys with acknowledged writes had no final read; %s, in %.2f s\n",
      path.c_str(), static_cast<unsigned long long>(r.operations),
      static_cast<unsigned long long>(r.keys), static_cast<unsigned long long>(r.writes),
      static_cast<unsigned long long>(r.acked), static_cast<unsigned long long>(r.reads),
      static_cast<unsigned long long>(r.final_reads),
      static_cast<unsigned long long>(r.keys_unjudged), r.ok() ? "causally consistent" : "FAILED",
      seconds);
  std::fputs(properties::dvv::describe(r).c_str(), stdout);
  return r.ok() ? kExitOk : kExitFailed;
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
                  "kv (every memcached verb, evict, restart; default) or "
                  "cas-register (read/write/cas)");
  lin->add_option("--steps-max", args->steps_max,
                  "Search steps per key before answering unknown (default 10000000)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  lin->add_option("--clock-error-ms", args->clock_error_ms,
                  "kv: how far the server's clock may stray from the history's time (expiry "
                  "windows widen by it; default 0)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
  lin->add_option("--item-size-max", args->item_size_max,
                  "kv: the server's item_size_max, to check TOO_LARGE answers (default: not "
                  "checked)");
  lin->add_option("--html", args->html,
                  "Also write a page drawing the counter-example's window: each client's "
                  "operations in time, the longest linearization, the point where none works");
  lin->callback(
      [&commands, args] { commands.action = [args] { return cmd_check_linearizable(*args); }; });

  auto causal_path = std::make_shared<std::string>();
  CLI::App* causal = check->add_subcommand(
      "causal",
      "A DVV store's history (doppel load dvv --history) against the causal oracle: no "
      "acknowledged write lost or deleted one resurrected at a final read, no sibling beside "
      "one that superseded it, none that no client wrote; exit 1 if any");
  causal->add_option("history", *causal_path, "History file: one JSON operation per line")
      ->required();
  causal->callback([&commands, causal_path] {
    commands.action = [causal_path] { return cmd_check_causal(*causal_path); };
  });
}

}  // namespace doppel::cli
