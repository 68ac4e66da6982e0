// doppel trace show TRACE [--html OUT.html] [--limit N]
// doppel trace diff A B [--html OUT.html]: exit 0 if the traces are the same event for event,
// 1 if they part (the report says where), 2 for a missing or damaged trace.

#include <cinttypes>
#include <cstdio>
#include <fstream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/trace_diff.h"
#include "cli/trace_page.h"
#include "sim/trace_file.h"
#include "sim/trace_log.h"

namespace doppel::cli {
namespace {

int cmd_show(const std::string& path, const std::string& html, std::uint64_t limit) {
  auto trace = sim::read_trace(path);
  if (!trace) return usage_error(trace.error().what);
  const sim::TraceHeader& h = trace->header;
  char hash[24];
  std::snprintf(hash, sizeof hash, "%016" PRIx64, h.trace_hash);
  if (!html.empty()) {
    if (Status st = write_page(html, trace_page(*trace)); !st) return usage_error(st.error().what);
    std::printf("wrote %s (%zu events)\n", html.c_str(), trace->records.size());
    return kExitOk;
  }
  std::printf("trace: %s\nformat: %u\nbuild: %s\nscenario: %s (%s)\nseed: %" PRIu64 "\n",
              path.c_str(), h.format_version, h.build_id.c_str(), h.scenario_name.c_str(),
              h.scenario_path.c_str(), h.seed);
  if (h.branch) {
    std::printf("branch: at %.6f s, fresh random streams from seed %" PRIu64 "\n",
                static_cast<double>(h.branch->at.count()) / 1e9, h.branch->seed);
  }
  std::printf("outcome: %s\n",
              h.passed
                  ? "PASS"
                  : ("FAIL property '" + h.failed_property + "': " + h.failure_detail).c_str());
  std::printf("events: %" PRIu64 "\ntrace-hash: %s\n--- fault plan\n%s--- events\n", h.event_count,
              hash, h.fault_plan_toml.c_str());
  for (std::size_t i = 0; i < trace->records.size() && i < limit; ++i) {
    std::printf("#%zu %s\n", i, sim::format_record(trace->records[i]).c_str());
  }
  if (trace->records.size() > limit) {
    std::printf("... %zu more (use --limit)\n",
                trace->records.size() - static_cast<std::size_t>(limit));
  }
  return kExitOk;
}

int cmd_diff(const std::string& path_a, const std::string& path_b, const std::string& html) {
  auto a = sim::read_trace(path_a);
  if (!a) return usage_error(path_a + ": " + a.error().what);
  auto b = sim::read_trace(path_b);
  if (!b) return usage_error(path_b + ": " + b.error().what);
  const TraceDiff diff = diff_traces(*a, *b);
  std::printf("%s", format_diff(diff, path_a, path_b).c_str());
  if (!html.empty()) {
    if (Status st = write_page(html, diff_page(*a, path_a, *b, path_b, diff)); !st) {
      return usage_error(st.error().what);
    }
    std::printf("wrote %s\n", html.c_str());
  }
  return diff.identical() ? kExitOk : kExitFailed;
}

}  // namespace

void add_trace_commands(CLI::App& app, Commands& commands) {
  CLI::App* trace = app.add_subcommand("trace", "Inspect trace files");
  trace->require_subcommand(1);
  struct Args {
    std::string path, html;
    std::uint64_t limit = 1000;
  };
  auto args = std::make_shared<Args>();
  CLI::App* show =
      trace->add_subcommand("show", "Print a trace's header and events (or write HTML)");
  show->add_option("trace", args->path, "Trace file")->required();
  show->add_option("--html", args->html,
                   "Write the trace viewer instead: one self-contained HTML page (timeline, "
                   "faults, operations, filters), opened on the failure");
  show->add_option("--limit", args->limit, "Print at most this many events (default 1000)");
  show->callback([&commands, args] {
    commands.action = [args] { return cmd_show(args->path, args->html, args->limit); };
  });
  struct DiffArgs {
    std::string a, b, html;
  };
  auto diff_args = std::make_shared<DiffArgs>();
  CLI::App* diff = trace->add_subcommand(
      "diff",
      "Where two traces of a scenario part, and which event counts differ; exit 1 if "
      "they differ");
  diff->add_option("a", diff_args->a, "First trace")->required();
  diff->add_option("b", diff_args->b, "Second trace")->required();
  diff->add_option("--html", diff_args->html,
                   "Also write a page with both timelines, aligned, the divergence marked");
  diff->callback([&commands, diff_args] {
    commands.action = [diff_args] { return cmd_diff(diff_args->a, diff_args->b, diff_args->html); };
  });
}

}  // namespace doppel::cli
