#pragma once
// Two traces of one scenario side by side: where they part and what differs in sum. Two runs
// of one build, seed and plan are the same event for event; anything else (another seed, a
// mutated plan, a branch, a changed build) parts somewhere, and the first differing event is
// where to look. Events are compared as recorded (time, node, core, name, details), not by
// the running hash, which differs at every event after the first difference.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/trace_file.h"

namespace doppel::cli {

struct TraceDiff {
  static constexpr std::size_t kContextEvents = 4;

  bool same_scenario = true;                    // by name
  std::size_t common_prefix = 0;                // events equal in both, from the first
  std::optional<std::size_t> first_a, first_b;  // the first differing event of each (if any)
  std::int64_t first_a_ns = -1, first_b_ns = -1;
  // Formatted events around the divergence ("> " marks the differing one).
  std::vector<std::string> context_a, context_b;
  // Event kinds whose counts differ: name -> (count in a, count in b).
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> kind_counts;
  std::size_t events_a = 0, events_b = 0;

  bool identical() const { return !first_a && !first_b; }
};

TraceDiff diff_traces(const sim::TraceFile& a, const sim::TraceFile& b);
// The report `doppel trace diff` prints.
std::string format_diff(const TraceDiff& diff, const std::string& label_a,
                        const std::string& label_b);

}  // namespace doppel::cli
