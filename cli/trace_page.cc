#include "cli/trace_page.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <unordered_map>

#include "base/json.h"
#include "sim/fault_plan.h"
#include "sim/trace_log.h"
#include "viewer_assets.h"  // generated: cli/viewer/embed.cmake

namespace doppel::cli {

namespace lin = properties::linearizability;

namespace {

std::string node_name(sim::NodeId id) {
  return "n" + std::to_string(id);
}

std::string lane_name(const sim::DecodedRecord& e) {
  return e.node ? node_name(*e.node) + "/c" + std::to_string(e.core) : std::string("world");
}

// "key=\"a\" n=3": the details as the text trace show prints them. An operation's client,
// invocation and outcome are left out: the page has them apart (and without them, the texts
// of many operations are the same, written once).
std::string details_text(const sim::DecodedRecord& e, bool operation) {
  std::string out;
  for (const auto& d : e.details) {
    if (operation && (d.key == "client" || d.key == "start" || d.key == "outcome")) continue;
    if (!out.empty()) out += ' ';
    out += d.key + "=" + (d.is_text ? "\"" + d.text + "\"" : std::to_string(d.number));
  }
  return out;
}

const sim::DecodedDetail* detail(const sim::DecodedRecord& e, std::string_view key) {
  for (const auto& d : e.details) {
    if (d.key == key) return &d;
  }
  return nullptr;
}

std::int64_t number(const sim::DecodedRecord& e, std::string_view key, std::int64_t otherwise) {
  const auto* d = detail(e, key);
  return d && !d->is_text ? d->number : otherwise;
}

std::string text(const sim::DecodedRecord& e, std::string_view key) {
  const auto* d = detail(e, key);
  return d && d->is_text ? d->text : std::string();
}

// Interns strings: each distinct one is written to the page once.
class StringTable {
 public:
  std::uint32_t id(const std::string& s) {
    auto [it, added] = ids_.try_emplace(s, static_cast<std::uint32_t>(all_.size()));
    if (added) all_.push_back(s);
    return it->second;
  }
  const std::vector<std::string>& all() const { return all_; }
  void write(JsonWriter& w) const {
    w.begin_array();
    for (const auto& s : all_) w.value(s);
    w.end_array();
  }

 private:
  std::unordered_map<std::string, std::uint32_t> ids_;
  std::vector<std::string> all_;
};

template <class T>
void write_numbers(JsonWriter& w, std::string_view name, const std::vector<T>& v) {
  w.key(name).begin_array();
  for (T x : v) w.value(static_cast<std::int64_t>(x));
  w.end_array();
}

// Whether `word` occurs in `text` on its own (not inside a longer name: k1 is not in k10).
bool names(std::string_view text, std::string_view word) {
  if (word.empty()) return false;
  const auto is_name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  };
  for (std::size_t at = text.find(word); at != std::string_view::npos;
       at = text.find(word, at + 1)) {
    const bool left = at == 0 || !is_name_char(text[at - 1]);
    const std::size_t end = at + word.size();
    const bool right = end >= text.size() || !is_name_char(text[end]) || text[end] == '.';
    if (left && right) return true;
  }
  return false;
}

struct Fault {
  std::string kind;
  std::int64_t start = 0, end = 0;
  std::vector<sim::NodeId> nodes, to;
  std::uint32_t core = 0;
  std::string label;
};

std::string node_list(const std::vector<sim::NodeId>& nodes) {
  std::string out;
  for (sim::NodeId n : nodes) out += (out.empty() ? "" : ",") + node_name(n);
  return out;
}

std::string seconds(std::int64_t ns) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%+.3f s", static_cast<double>(ns) / 1e9);
  return buf;
}

// The plan's timed events as spans of virtual time; `boots` holds each node's boot times.
std::vector<Fault> fault_spans(const sim::TraceHeader& h, std::int64_t quiesce_ns,
                               std::int64_t end_ns,
                               const std::map<sim::NodeId, std::vector<std::int64_t>>& boots) {
  std::vector<Fault> out;
  auto plan = sim::parse_fault_plan_text(h.fault_plan_toml, "the trace's plan");
  if (!plan) return out;
  const std::int64_t quiet = quiesce_ns >= 0 ? quiesce_ns : end_ns;
  for (const sim::FaultEvent& e : plan->events) {
    Fault f;
    f.kind = std::string(sim::fault_name(e.kind));
    f.start = e.at.count();
    f.nodes = e.nodes;
    f.to = e.to;
    f.core = e.core;
    const std::int64_t lasting = e.duration.count() > 0 ? f.start + e.duration.count() : quiet;
    f.end = std::min(lasting, quiet);
    switch (e.kind) {
      case sim::FaultKind::partition:
        f.label = "partition " + node_list(e.nodes) + " | " +
                  (e.to.empty() ? "the rest" : node_list(e.to));
        break;
      case sim::FaultKind::partition_oneway:
        f.label = "one-way: " + node_list(e.nodes) + " -> " +
                  (e.to.empty() ? "the rest" : node_list(e.to)) + " dropped";
        break;
      case sim::FaultKind::crash: {
        f.label = node_list(e.nodes) + " down";
        // Down until the node's next boot (a failed boot retries later than planned).
        f.end = quiet;
        for (sim::NodeId n : e.nodes) {
          auto it = boots.find(n);
          if (it == boots.end()) continue;
          for (std::int64_t b : it->second) {
            if (b > f.start) {
              f.end = std::min(f.end, b);
              break;
            }
          }
        }
        break;
      }
      case sim::FaultKind::core_stall:
        f.label = node_list(e.nodes) + "/c" + std::to_string(e.core) + " stalled";
        break;
      case sim::FaultKind::disk_full:
        f.label = node_list(e.nodes) + " disk full";
        break;
      case sim::FaultKind::clock_skew:
        f.label = node_list(e.nodes) + " clock " + seconds(e.offset.count()) + ", " +
                  std::to_string(e.drift_ppm) + " ppm";
        f.end = quiet;
        break;
      case sim::FaultKind::disk_corrupt:
        f.label = node_list(e.nodes) + " stored bit flipped";
        f.end = f.start;
        break;
      case sim::FaultKind::reset:
        f.label = node_list(e.nodes) + " connections reset";
        f.end = f.start;
        break;
      default:
        continue;
    }
    out.push_back(std::move(f));
  }
  return out;
}

void write_window(JsonWriter& w, const lin::WindowView& v) {
  w.begin_object().field("key", v.key).key("initial").begin_array();
  for (const auto& s : v.initial) w.value(s);
  w.end_array().field("note", v.note).key("ops").begin_array();
  for (const auto& op : v.ops) {
    w.begin_object()
        .field("process", op.process)
        .field("op", op.op)
        .field("start", op.start_ns)
        .field("end", op.end_ns)
        .field("culprit", op.culprit)
        .field("order", static_cast<std::uint64_t>(op.order))
        .field("state", op.state)
        .end_object();
  }
  w.end_array().end_object();
}

// One trace's data, as timeline.js's TraceModel reads it.
void write_trace(JsonWriter& w, const sim::TraceFile& trace, const std::string& label) {
  const sim::TraceHeader& h = trace.header;
  StringTable lanes, kinds, texts, keys;
  lanes.id("world");
  std::vector<std::int64_t> dt, lane, kind, text_id, errors;
  std::vector<std::int64_t> op_client, op_start, op_end, op_outcome, op_ev, op_key;
  std::map<sim::NodeId, std::vector<std::int64_t>> boots;
  std::int64_t last_t = 0, quiesce_ns = -1, first_error = -1;
  lin::WindowView window;
  bool has_window = false;
  dt.reserve(trace.records.size());
  for (std::size_t i = 0; i < trace.records.size(); ++i) {
    auto e = sim::decode_record(trace.records[i]);
    if (!e) {
      // Listed as what it is; the page never drops an event.
      dt.push_back(0);
      lane.push_back(0);
      kind.push_back(kinds.id("<undecodable>"));
      text_id.push_back(texts.id(""));
      continue;
    }
    const auto t = static_cast<std::int64_t>(e->t_ns);
    dt.push_back(t - last_t);
    last_t = t;
    lane.push_back(lanes.id(lane_name(*e)));
    kind.push_back(kinds.id(e->name));
    const std::string outcome = text(*e, "outcome");
    const std::int64_t start = number(*e, "start", -1);
    const bool operation = detail(*e, "client") != nullptr && start >= 0 && !outcome.empty() &&
                           e->name != "LinWindowOp";
    text_id.push_back(texts.id(details_text(*e, operation)));
    const auto at = static_cast<std::int64_t>(i);
    if (e->error) {
      errors.push_back(at);
      if (first_error < 0) first_error = at;
    }
    if (e->name == "SimQuiesce" && quiesce_ns < 0) quiesce_ns = t;
    if (e->name == "SimNodeBoot")
      boots[static_cast<sim::NodeId>(number(*e, "node", 0))].push_back(t);
    if (e->name == "LinWindow") {
      has_window = true;
      window.key = text(*e, "key");
      window.note = text(*e, "note");
      const std::string initial = text(*e, "initial");
      if (!initial.empty()) window.initial.push_back(initial);
    }
    if (e->name == "LinWindowOp") {
      lin::WindowOp op;
      op.process = number(*e, "client", 0);
      op.op = text(*e, "op");
      op.start_ns = number(*e, "start", 0);
      op.end_ns = number(*e, "end", -1);
      op.culprit = number(*e, "culprit", 0) != 0;
      op.order = static_cast<std::size_t>(number(*e, "order", 0));
      op.state = text(*e, "state");
      window.ops.push_back(std::move(op));
    }
    if (operation) {
      op_client.push_back(number(*e, "client", 0));
      op_start.push_back(std::min(start, t));
      op_end.push_back(t);
      op_outcome.push_back(outcome == "ok" ? 0 : outcome == "fail" ? 1 : 2);
      op_ev.push_back(at);
      const std::string key = text(*e, "key");
      op_key.push_back(key.empty() ? -1 : keys.id(key));
    }
  }
  const std::vector<Fault> faults = fault_spans(h, quiesce_ns, last_t, boots);

  w.begin_object().field("label", label);
  w.key("header")
      .begin_object()
      .field("scenario", h.scenario_name)
      .field("seed", std::to_string(h.seed))
      .field("build", h.build_id)
      .field("outcome", h.passed ? "PASS" : "FAIL")
      .field("property", h.failed_property)
      .field("detail", h.failure_detail)
      .field("plan", h.fault_plan_toml)
      .field("hash",
             [&] {
               char buf[24];
               std::snprintf(buf, sizeof buf, "%016llx",
                             static_cast<unsigned long long>(h.trace_hash));
               return std::string(buf);
             }())
      .field("events", static_cast<std::uint64_t>(trace.records.size()))
      .field("branch", h.branch ? "branched at " + std::to_string(h.branch->at.count()) +
                                      " ns, seed " + std::to_string(h.branch->seed)
                                : std::string())
      .end_object();
  w.key("lanes");
  lanes.write(w);
  w.key("kinds");
  kinds.write(w);
  w.key("texts");
  texts.write(w);
  w.key("keys");
  keys.write(w);
  w.key("ev").begin_object();
  write_numbers(w, "dt", dt);
  write_numbers(w, "lane", lane);
  write_numbers(w, "kind", kind);
  write_numbers(w, "text", text_id);
  w.end_object();
  write_numbers(w, "errors", errors);
  w.key("ops").begin_object();
  write_numbers(w, "client", op_client);
  write_numbers(w, "start", op_start);
  write_numbers(w, "end", op_end);
  write_numbers(w, "outcome", op_outcome);
  write_numbers(w, "ev", op_ev);
  write_numbers(w, "key", op_key);
  w.end_object();
  w.key("faults").begin_array();
  for (const Fault& f : faults) {
    w.begin_object().field("kind", f.kind).field("start", f.start).field("end", f.end);
    write_numbers(w, "nodes", f.nodes);
    write_numbers(w, "to", f.to);
    w.field("core", f.core).field("label", f.label).end_object();
  }
  w.end_array();
  w.field("end_ns", last_t);
  w.key("failure");
  if (h.passed) {
    w.null();
  } else {
    // The operations it names: keys of the run's operations the failure's text mentions.
    std::set<std::string> named;
    if (has_window && !window.key.empty()) named.insert(window.key);
    for (const auto& k : keys.all()) {
      if (names(h.failure_detail, k)) named.insert(k);
    }
    const std::int64_t fail_event =
        first_error >= 0 ? first_error : static_cast<std::int64_t>(trace.records.size()) - 1;
    w.begin_object().field("at", last_t).field("event", fail_event).key("keys").begin_array();
    for (const auto& k : named) w.value(k);
    w.end_array().key("window");
    if (has_window) {
      write_window(w, window);
    } else {
      w.null();
    }
    w.end_object();
  }
  w.end_object();
}

// The page around its data: styles, the data as JSON (never closing the script element), the
// viewer's script.
std::string page(const std::string& title, std::string data_json) {
  for (std::size_t at = data_json.find("</"); at != std::string::npos;
       at = data_json.find("</", at + 2)) {
    data_json.replace(at, 2, "<\\/");
  }
  std::string out = "<!doctype html>\n<html lang=en><head><meta charset=utf-8><title>";
  for (char c : title) {
    if (c == '<')
      out += "&lt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  out += "</title><style>";
  out += kViewerCss;
  out +=
      "</style></head><body><div id=top></div><div id=failure hidden></div>"
      "<div id=divergence hidden></div><div id=controls></div><div id=timelines></div>"
      "<div id=window></div><div id=bottom><div id=list></div><div id=details>"
      "Click an operation, an event or a fault band.</div></div>"
      "<script type=\"application/json\" id=data>";
  out += data_json;
  out += "</script><script>";
  out += kViewerJs;
  out += "</script></body></html>\n";
  return out;
}

}  // namespace

std::string trace_page(const sim::TraceFile& trace) {
  JsonWriter w;
  w.begin_object().field("mode", "trace").key("traces").begin_array();
  write_trace(w, trace, trace.header.scenario_name);
  w.end_array().end_object();
  return page(
      "doppel trace " + trace.header.scenario_name + " seed " + std::to_string(trace.header.seed),
      w.take());
}

std::string diff_page(const sim::TraceFile& a, const std::string& label_a, const sim::TraceFile& b,
                      const std::string& label_b, const TraceDiff& diff) {
  JsonWriter w;
  w.begin_object().field("mode", "diff").key("traces").begin_array();
  write_trace(w, a, "a: " + label_a);
  write_trace(w, b, "b: " + label_b);
  w.end_array().key("divergence");
  if (diff.identical()) {
    w.null();
  } else {
    std::string detail;
    for (const auto& l : diff.context_a) detail += "a " + l + "\n";
    for (const auto& l : diff.context_b) detail += "b " + l + "\n";
    w.begin_object()
        .field("title",
               "the traces part after " + std::to_string(diff.common_prefix) + " equal events")
        .field("text", detail + format_diff(diff, label_a, label_b))
        .field("a", diff.first_a ? static_cast<std::int64_t>(*diff.first_a) : std::int64_t{-1})
        .field("b", diff.first_b ? static_cast<std::int64_t>(*diff.first_b) : std::int64_t{-1})
        .field("a_ns", diff.first_a_ns)
        .field("b_ns", diff.first_b_ns)
        .end_object();
  }
  w.end_object();
  return page("doppel trace diff " + label_a + " " + label_b, w.take());
}

std::string history_page(const std::string& title, const std::string& summary,
                         const std::string& detail, const lin::CounterExample* counter_example) {
  JsonWriter w;
  w.begin_object().field("mode", "history").key("history").begin_object();
  w.field("title", title).field("summary", summary).field("detail", detail).key("window");
  if (counter_example != nullptr) {
    write_window(w, lin::window_view(*counter_example));
  } else {
    w.null();
  }
  w.end_object().end_object();
  return page(title, w.take());
}

Status write_page(const std::string& path, const std::string& html) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return make_error(Errc::io_error, "cannot write " + path);
    out.write(html.data(), static_cast<std::streamsize>(html.size()));
    if (!out.flush()) return make_error(Errc::io_error, "cannot write " + path);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return make_error(Errc::io_error, "cannot write " + path);
  }
  return {};
}

}  // namespace doppel::cli
