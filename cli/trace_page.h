#pragma once
// The trace viewer's pages: each one self-contained HTML file (its script, styles and data
// inline; nothing is loaded from anywhere), drawn by cli/viewer/timeline.js:
//   trace_page    one trace in virtual time, opened on its failure;
//   diff_page     two traces of one scenario, one above the other, the divergence marked;
//   history_page  a linearizability check of a recorded history: its counter-example's window.
//
// What the page knows of a trace comes from its events. Conventions the drivers keep:
//   - a client operation is an event with the details `client` (number), `start` (its
//     invocation, ns of virtual time), `outcome` ("ok", "fail" or "unknown") and, if it has
//     one, `key`; the event itself is its completion;
//   - a linearizability counter-example is a `LinWindow` event (key, initial states) and a
//     `LinWindowOp` event per operation of its window (see properties/linearizability).
// Fault spans come from the trace's fault plan, their ends from the events (a crashed node's
// next boot, the quiet phase).

#include <optional>
#include <string>

#include "cli/trace_diff.h"
#include "properties/linearizability/checker.h"
#include "runtime/result.h"
#include "sim/trace_file.h"

namespace doppel::cli {

std::string trace_page(const sim::TraceFile& trace);
std::string diff_page(const sim::TraceFile& a, const std::string& label_a, const sim::TraceFile& b,
                      const std::string& label_b, const TraceDiff& diff);
std::string history_page(const std::string& title, const std::string& summary,
                         const std::string& detail,
                         const properties::linearizability::CounterExample* counter_example);

// Writes a page (to a temporary name, then renamed: never half a page).
Status write_page(const std::string& path, const std::string& html);

}  // namespace doppel::cli
