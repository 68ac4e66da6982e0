// doppel trace show TRACE [--html OUT.html] [--limit N]

#include <cinttypes>
#include <cstdio>
#include <fstream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "sim/trace_file.h"
#include "sim/trace_log.h"

namespace doppel::cli {
namespace {

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

int cmd_show(const std::string& path, const std::string& html, std::uint64_t limit) {
  auto trace = sim::read_trace(path);
  if (!trace) return usage_error(trace.error().what);
  const sim::TraceHeader& h = trace->header;
  char hash[24];
  std::snprintf(hash, sizeof hash, "%016" PRIx64, h.trace_hash);
  if (!html.empty()) {
    std::ofstream out(html);
    if (!out) return usage_error("cannot write " + html);
    out << "<!doctype html><meta charset=utf-8><title>doppel trace " << html_escape(h.scenario_name)
        << "</title><style>body{font:13px monospace}td{padding:0 8px;white-space:pre}"
           "tr.err{background:#fdd}tr:hover{background:#eef}</style>"
        << "<h1>" << html_escape(h.scenario_name) << " seed " << h.seed << "</h1><p>outcome: "
        << (h.passed
                ? "PASS"
                : "FAIL " + html_escape(h.failed_property) + ": " + html_escape(h.failure_detail))
        << "<br>build " << html_escape(h.build_id) << ", trace hash " << hash << "</p><pre>"
        << html_escape(h.fault_plan_toml) << "</pre><table><tr><th>#<th>event";
    for (std::size_t i = 0; i < trace->records.size(); ++i) {
      const std::string text = sim::format_record(trace->records[i]);
      out << "<tr" << (text.find(" ERROR ") != std::string::npos ? " class=err" : "") << "><td>"
          << i << "<td>" << html_escape(text);
    }
    out << "</table>\n";
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
  show->add_option("--html", args->html, "Write an HTML page instead");
  show->add_option("--limit", args->limit, "Print at most this many events (default 1000)");
  show->callback([&commands, args] {
    commands.action = [args] { return cmd_show(args->path, args->html, args->limit); };
  });
}

}  // namespace doppel::cli
