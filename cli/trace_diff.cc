#include "cli/trace_diff.h"

#include <algorithm>

#include "sim/trace_log.h"

namespace doppel::cli {

namespace {

// The recorded event, without the running hash after it.
std::string_view event_bytes(const std::string& record) {
  const std::string_view r(record);
  return r.size() < sim::kRecordHashBytes ? r : r.substr(0, r.size() - sim::kRecordHashBytes);
}

std::map<std::string, std::uint64_t> kind_counts(const sim::TraceFile& t) {
  std::map<std::string, std::uint64_t> out;
  for (const std::string& r : t.records) {
    auto e = sim::decode_record(r);
    ++out[e ? e->name : std::string("<undecodable>")];
  }
  return out;
}

std::vector<std::string> context(const sim::TraceFile& t, std::size_t at) {
  std::vector<std::string> out;
  const std::size_t from = at > TraceDiff::kContextEvents ? at - TraceDiff::kContextEvents : 0;
  const std::size_t to = std::min(t.records.size(), at + TraceDiff::kContextEvents + 1);
  for (std::size_t i = from; i < to; ++i) {
    out.push_back(std::string(i == at ? "> #" : "  #") + std::to_string(i) + " " +
                  sim::format_record(t.records[i]));
  }
  return out;
}

std::int64_t time_of(const sim::TraceFile& t, std::size_t i) {
  auto e = sim::decode_record(t.records[i]);
  return e ? static_cast<std::int64_t>(e->t_ns) : -1;
}

}  // namespace

TraceDiff diff_traces(const sim::TraceFile& a, const sim::TraceFile& b) {
  TraceDiff d;
  d.same_scenario = a.header.scenario_name == b.header.scenario_name;
  d.events_a = a.records.size();
  d.events_b = b.records.size();
  const std::size_t n = std::min(d.events_a, d.events_b);
  std::size_t i = 0;
  while (i < n && event_bytes(a.records[i]) == event_bytes(b.records[i])) ++i;
  d.common_prefix = i;
  if (i < d.events_a) {
    d.first_a = i;
    d.first_a_ns = time_of(a, i);
  }
  if (i < d.events_b) {
    d.first_b = i;
    d.first_b_ns = time_of(b, i);
  }
  if (d.identical()) return d;
  // Where one trace simply ends, its context is its last events.
  d.context_a = context(a, std::min(i, d.events_a == 0 ? 0 : d.events_a - 1));
  d.context_b = context(b, std::min(i, d.events_b == 0 ? 0 : d.events_b - 1));
  if (d.first_a_ns < 0 && d.events_a > 0) d.first_a_ns = time_of(a, d.events_a - 1);
  if (d.first_b_ns < 0 && d.events_b > 0) d.first_b_ns = time_of(b, d.events_b - 1);
  const auto ca = kind_counts(a), cb = kind_counts(b);
  for (const auto& [name, count] : ca) {
    auto it = cb.find(name);
    const std::uint64_t other = it == cb.end() ? 0 : it->second;
    if (other != count) d.kind_counts[name] = {count, other};
  }
  for (const auto& [name, count] : cb) {
    if (ca.count(name) == 0) d.kind_counts[name] = {0, count};
  }
  return d;
}

std::string format_diff(const TraceDiff& d, const std::string& label_a,
                        const std::string& label_b) {
  std::string out = "a: " + label_a + " (" + std::to_string(d.events_a) + " events)\n" +
                    "b: " + label_b + " (" + std::to_string(d.events_b) + " events)\n";
  if (!d.same_scenario) out += "note: the traces are of different scenarios\n";
  if (d.identical()) return out + "identical: every event is the same\n";
  out += "the first " + std::to_string(d.common_prefix) + " events are the same; ";
  if (!d.first_a) {
    out += "a ends there, b goes on\n";
  } else if (!d.first_b) {
    out += "b ends there, a goes on\n";
  } else {
    out += "they part at event #" + std::to_string(d.common_prefix) + "\n";
  }
  out += "--- a\n";
  for (const auto& l : d.context_a) out += l + "\n";
  out += "--- b\n";
  for (const auto& l : d.context_b) out += l + "\n";
  if (d.kind_counts.empty()) {
    out += "every event kind occurs as often in both\n";
  } else {
    out += "event kinds whose counts differ (a, b):\n";
    for (const auto& [name, counts] : d.kind_counts) {
      out += "  " + name + " " + std::to_string(counts.first) + " " +
             std::to_string(counts.second) + "\n";
    }
  }
  return out;
}

}  // namespace doppel::cli
