#include "sim/fault_plan.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "base/toml.h"

namespace doppel::sim {
namespace {

constexpr std::array<std::string_view, kFaultKinds> kNames = {
    "latency",        "split_reads", "disk_latency", "disk_eio",     "disk_bitflip",
    "disk_fsyncgate", "buggify",     "reset",        "partition",    "partition_oneway",
    "crash",          "clock_skew",  "core_stall",   "disk_corrupt", "disk_full",
};

constexpr std::int64_t kUs = 1000;
constexpr std::size_t kPlanEventsMax = 10'000;
// Times, durations and clock steps in a plan: at most a day (a scenario's
// phases are at most a day each).
constexpr std::int64_t kPlanUsMax = 86'400'000'000;
constexpr std::int64_t kNodeNumberMax = 1000;
constexpr std::int64_t kCoreNumberMax = 1023;

std::vector<NodeId> pick_some(Prng& rng, const std::vector<NodeId>& from, std::size_t max_count) {
  std::vector<NodeId> pool = from;
  std::vector<NodeId> out;
  const std::size_t n = 1 + static_cast<std::size_t>(rng.below(std::min(max_count, pool.size())));
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t j = static_cast<std::size_t>(rng.below(pool.size()));
    out.push_back(pool[j]);
    pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(j));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Duration between_ms(Prng& rng, std::int64_t lo, std::int64_t hi) {
  return Duration(rng.between(lo * 1'000'000, hi * 1'000'000));
}

// Most partitions are short (a switch reboots, a route flaps); one in four
// lasts long enough for connections across it to time out (FaultBounds).
Duration partition_length(Prng& rng, const FaultBounds& bounds) {
  if (!rng.chance(1, 4)) return between_ms(rng, 50, 3000);
  const std::int64_t timeout_ms = to_ns(bounds.tcp_timeout) / 1'000'000;
  return between_ms(rng, std::max<std::int64_t>(1, timeout_ms / 2), 2 * timeout_ms + 1);
}

}  // namespace

std::string_view fault_name(FaultKind kind) {
  return kNames[static_cast<int>(kind)];
}

std::optional<FaultKind> parse_fault_name(std::string_view name) {
  for (int i = 0; i < kFaultKinds; ++i) {
    if (kNames[i] == name) return static_cast<FaultKind>(i);
  }
  return std::nullopt;
}

bool is_ambient(FaultKind kind) {
  return static_cast<int>(kind) <= static_cast<int>(FaultKind::buggify);
}

std::string_view disk_model_name(DiskModel model) {
  switch (model) {
    case DiskModel::instant:
      return "instant";
    case DiskModel::ssd:
      return "ssd";
    case DiskModel::hdd:
      return "hdd";
  }
  return "instant";
}

std::size_t FaultPlan::size() const {
  return events.size() + ambient.latency + ambient.split_reads +
         (ambient.disk_model != DiskModel::instant) + ambient.disk_eio + ambient.disk_bitflip +
         ambient.disk_fsyncgate + ambient.buggify;
}

namespace {

// The timed events of one kind, `count` of them, spread over the phase.
void add_events(FaultPlan& plan, FaultKind kind, const FaultBounds& bounds,
                const ClusterShape& shape, bool bad_clocks, Duration phase, Prng& rng) {
  const std::vector<NodeId>& servers = shape.servers;
  auto at = [&] { return Duration(rng.between(0, to_ns(phase) - 1)); };
  const int count = 1 + static_cast<int>(rng.below(4));  // 1-4 events per kind
  for (int i = count; i > 0; --i) {
    FaultEvent e;
    e.at = at();
    e.kind = kind;
    switch (kind) {
      case FaultKind::reset:
      case FaultKind::disk_corrupt:
        e.nodes = pick_some(rng, servers, 1);
        break;
      case FaultKind::partition:
        e.nodes = pick_some(rng, shape.all, std::max<std::size_t>(1, shape.all.size() / 2));
        e.duration = partition_length(rng, bounds);
        break;
      case FaultKind::partition_oneway: {
        e.nodes = pick_some(rng, shape.all, 1);
        std::vector<NodeId> rest;
        for (NodeId n : shape.all) {
          if (n != e.nodes[0]) rest.push_back(n);
        }
        e.to = pick_some(rng, rest, rest.size());
        e.duration = partition_length(rng, bounds);
        break;
      }
      case FaultKind::crash:
        e.nodes = pick_some(rng, shape.crashable, 1);
        e.duration = between_ms(rng, 10, 2000);
        break;
      case FaultKind::clock_skew: {
        e.nodes = pick_some(rng, servers, 1);
        const std::int64_t step_ms =
            to_ns(bad_clocks ? FaultBounds::kBadClockStepMax : bounds.clock_step_max) / 1'000'000;
        const std::int64_t ppm =
            bad_clocks ? FaultBounds::kBadClockDriftPpmMax : bounds.clock_drift_ppm_max;
        e.offset = Duration(rng.between(-step_ms, step_ms) * 1'000'000);
        e.drift_ppm = rng.between(-ppm, ppm);
        break;
      }
      case FaultKind::core_stall:
        e.nodes = pick_some(rng, servers, 1);
        e.core = static_cast<CoreId>(rng.below(shape.cores));
        e.duration = between_ms(rng, 1, 500);
        break;
      case FaultKind::disk_full:
        e.nodes = pick_some(rng, servers, 1);
        e.duration = between_ms(rng, 100, 5000);
        break;
      default:
        DOPPEL_ASSERT_MSG(false, "an ambient fault as a timed event");
    }
    plan.events.push_back(std::move(e));
  }
}

}  // namespace

FaultPlan generate_plan(const FaultSwitches& switches, const FaultBounds& bounds,
                        const ClusterShape& shape, Duration fault_phase, Prng& rng) {
  FaultPlan plan;
  auto enabled = [&](FaultMode mode) {
    switch (mode) {
      case FaultMode::off:
        return false;
      case FaultMode::on:
        return true;
      case FaultMode::swarm:
        return rng.chance(1, 2);
    }
    return false;
  };
  // Decide every kind first, in a fixed order, so one switch does not shift
  // the random choices of the others.
  std::array<bool, kFaultKinds> on{};
  for (int i = 0; i < kFaultKinds; ++i) on[i] = enabled(switches[static_cast<FaultKind>(i)]);
  const bool bad_clocks = enabled(bounds.bad_clocks);
  auto is_on = [&](FaultKind k) { return on[static_cast<int>(k)]; };

  plan.ambient.latency = is_on(FaultKind::latency);
  plan.ambient.split_reads = is_on(FaultKind::split_reads);
  if (is_on(FaultKind::disk_latency))
    plan.ambient.disk_model = rng.chance(1, 2) ? DiskModel::ssd : DiskModel::hdd;
  plan.ambient.disk_eio = is_on(FaultKind::disk_eio);
  plan.ambient.disk_bitflip = is_on(FaultKind::disk_bitflip);
  plan.ambient.disk_fsyncgate = is_on(FaultKind::disk_fsyncgate);
  plan.ambient.buggify = is_on(FaultKind::buggify);

  if (to_ns(fault_phase) <= 0) return plan;
  for (int i = 0; i < kFaultKinds; ++i) {
    const auto kind = static_cast<FaultKind>(i);
    if (is_ambient(kind) || !is_on(kind)) continue;
    const bool needs_two = kind == FaultKind::partition_oneway;
    const std::vector<NodeId>& pool = kind == FaultKind::crash                    ? shape.crashable
                                      : kind == FaultKind::partition || needs_two ? shape.all
                                                                                  : shape.servers;
    if (pool.size() < (needs_two ? 2u : 1u)) continue;
    add_events(plan, kind, bounds, shape, bad_clocks, fault_phase, rng);
  }
  // Plans are printed in microseconds: keep them exact in that unit.
  auto to_us = [](Duration d) { return Duration(d.count() / kUs * kUs); };
  for (FaultEvent& e : plan.events) {
    e.at = to_us(e.at);
    e.duration = to_us(e.duration);
    e.offset = to_us(e.offset);
  }
  std::stable_sort(plan.events.begin(), plan.events.end(),
                   [](const FaultEvent& a, const FaultEvent& b) { return a.at < b.at; });
  return plan;
}

namespace {

toml::array node_array(const std::vector<NodeId>& ids) {
  toml::array a;
  for (NodeId id : ids) a.push_back(static_cast<std::int64_t>(id));
  return a;
}

}  // namespace

std::string to_toml(const FaultPlan& plan) {
  toml::table ambient{
      {"latency", plan.ambient.latency},
      {"split_reads", plan.ambient.split_reads},
      {"disk_latency", std::string(disk_model_name(plan.ambient.disk_model))},
      {"disk_eio", plan.ambient.disk_eio},
      {"disk_bitflip", plan.ambient.disk_bitflip},
      {"disk_fsyncgate", plan.ambient.disk_fsyncgate},
      {"buggify", plan.ambient.buggify},
  };
  toml::array events;
  for (const FaultEvent& e : plan.events) {
    toml::table t{{"at_us", e.at.count() / kUs},
                  {"kind", std::string(fault_name(e.kind))},
                  {"nodes", node_array(e.nodes)}};
    if (!e.to.empty()) t.insert("to", node_array(e.to));
    if (e.kind == FaultKind::core_stall) t.insert("core", static_cast<std::int64_t>(e.core));
    if (e.duration.count() != 0) t.insert("duration_us", e.duration.count() / kUs);
    if (e.kind == FaultKind::clock_skew) {
      t.insert("offset_us", e.offset.count() / kUs);
      t.insert("drift_ppm", e.drift_ppm);
    }
    events.push_back(std::move(t));
  }
  toml::table root{{"ambient", std::move(ambient)}, {"event", std::move(events)}};
  std::ostringstream out;
  out << root << '\n';
  return out.str();
}

namespace {

std::uint32_t line_of(const toml::node& n) {
  return n.source().begin ? static_cast<std::uint32_t>(n.source().begin.line) : 0;
}

Result<std::vector<NodeId>> read_nodes(const toml::table& t, std::string_view key,
                                       std::string_view source) {
  std::vector<NodeId> out;
  const toml::node* n = t.get(key);
  if (n == nullptr) return out;
  const toml::array* a = n->as_array();
  if (a == nullptr) return toml_error(source, n, key, "expected an array of node numbers");
  for (const toml::node& item : *a) {
    auto v = item.value<std::int64_t>();
    if (item.type() != toml::node_type::integer || !v || *v < 0 || *v > kNodeNumberMax) {
      return toml_error(source, &item, key, "expected a node number (0 to 1000)");
    }
    if (std::find(out.begin(), out.end(), static_cast<NodeId>(*v)) != out.end()) {
      return toml_error(source, &item, key, "node " + std::to_string(*v) + " listed twice");
    }
    out.push_back(static_cast<NodeId>(*v));
  }
  return out;
}

Status read_ambient(const toml::node& a, std::string_view source, AmbientFaults& out) {
  const toml::table* t = a.as_table();
  if (t == nullptr) return toml_error(source, &a, "ambient", "expected a table");
  if (Status s = toml_known_keys(*t, source,
                                 {"latency", "split_reads", "disk_latency", "disk_eio",
                                  "disk_bitflip", "disk_fsyncgate", "buggify"});
      !s) {
    return s;
  }
  auto model = toml_choice(*t, "disk_latency", source, {"instant", "ssd", "hdd"}, "instant");
  if (!model) return model.error();
  out.disk_model = *model == "ssd"   ? DiskModel::ssd
                   : *model == "hdd" ? DiskModel::hdd
                                     : DiskModel::instant;
  const std::pair<std::string_view, bool*> flags[] = {{"latency", &out.latency},
                                                      {"split_reads", &out.split_reads},
                                                      {"disk_eio", &out.disk_eio},
                                                      {"disk_bitflip", &out.disk_bitflip},
                                                      {"disk_fsyncgate", &out.disk_fsyncgate},
                                                      {"buggify", &out.buggify}};
  for (const auto& [key, flag] : flags) {
    auto b = toml_bool(*t, key, source, false);
    if (!b) return b.error();
    *flag = *b;
  }
  return {};
}

Result<FaultEvent> read_event(const toml::node& item, std::string_view source) {
  const toml::table* t = item.as_table();
  if (t == nullptr) return toml_error(source, &item, "event", "expected a table");
  if (Status s = toml_known_keys(
          *t, source,
          {"at_us", "kind", "nodes", "to", "core", "duration_us", "offset_us", "drift_ppm"});
      !s) {
    return s.error();
  }
  FaultEvent ev;
  ev.line = line_of(item);
  const toml::node* kind = t->get("kind");
  auto kind_name = kind != nullptr && kind->type() == toml::node_type::string
                       ? kind->value<std::string>()
                       : std::nullopt;
  if (!kind_name) return toml_error(source, kind ? kind : &item, "kind", "missing or not a string");
  auto k = parse_fault_name(*kind_name);
  if (!k || is_ambient(*k))
    return toml_error(source, kind, "kind", "not a timed fault: " + *kind_name);
  ev.kind = *k;
  if (t->get("at_us") == nullptr) return toml_error(source, &item, "at_us", "missing");
  auto at = toml_int(*t, "at_us", source, 0, kPlanUsMax, 0);
  auto core = toml_int(*t, "core", source, 0, kCoreNumberMax, 0);
  auto duration = toml_int(*t, "duration_us", source, 0, kPlanUsMax, 0);
  auto offset = toml_int(*t, "offset_us", source, -kPlanUsMax, kPlanUsMax, 0);
  auto drift = toml_int(*t, "drift_ppm", source, -FaultBounds::kDriftPpmLimit,
                        FaultBounds::kDriftPpmLimit, 0);
  for (auto* r : {&at, &core, &duration, &offset, &drift}) {
    if (!*r) return r->error();
  }
  ev.at = Duration(*at * kUs);
  ev.core = static_cast<CoreId>(*core);
  ev.duration = Duration(*duration * kUs);
  ev.offset = Duration(*offset * kUs);
  ev.drift_ppm = *drift;
  auto nodes = read_nodes(*t, "nodes", source);
  if (!nodes) return nodes.error();
  if (nodes->empty()) return toml_error(source, &item, "nodes", "missing or empty");
  ev.nodes = std::move(*nodes);
  auto to = read_nodes(*t, "to", source);
  if (!to) return to.error();
  ev.to = std::move(*to);
  const bool partition = ev.kind == FaultKind::partition || ev.kind == FaultKind::partition_oneway;
  if (ev.kind == FaultKind::partition_oneway && ev.to.empty()) {
    return toml_error(source, &item, "to", "a one-way partition needs receivers");
  }
  if (!partition && !ev.to.empty()) {
    return toml_error(source, t->get("to"), "to", "only partitions have receivers");
  }
  for (NodeId n : ev.to) {
    if (std::find(ev.nodes.begin(), ev.nodes.end(), n) != ev.nodes.end()) {
      return toml_error(source, t->get("to"), "to",
                        "node " + std::to_string(n) + " is on both sides");
    }
  }
  return ev;
}

}  // namespace

Result<FaultPlan> parse_fault_plan(const toml::table& root, std::string_view source) {
  FaultPlan plan;
  if (Status s = toml_known_keys(root, source, {"ambient", "event"}); !s) return s.error();
  if (const toml::node* a = root.get("ambient")) {
    if (Status s = read_ambient(*a, source, plan.ambient); !s) return s.error();
  }
  if (const toml::node* e = root.get("event")) {
    const toml::array* events = e->as_array();
    if (events == nullptr) return toml_error(source, e, "event", "expected [[event]] tables");
    if (events->size() > kPlanEventsMax) return toml_error(source, e, "event", "too many events");
    for (const toml::node& item : *events) {
      auto ev = read_event(item, source);
      if (!ev) return ev.error();
      plan.events.push_back(std::move(*ev));
    }
  }
  std::stable_sort(plan.events.begin(), plan.events.end(),
                   [](const FaultEvent& a, const FaultEvent& b) { return a.at < b.at; });
  return plan;
}

Result<FaultPlan> parse_fault_plan_text(std::string_view text, std::string_view source) {
  auto root = parse_toml(text, source);
  if (!root) return root.error();
  return parse_fault_plan(*root, source);
}

namespace {

Error event_error(std::string_view source, const FaultEvent& e, std::string_view key,
                  std::string_view what) {
  std::string msg(source);
  if (e.line != 0) msg += ":" + std::to_string(e.line);
  msg += ": '" + std::string(key) + "': " + std::string(fault_name(e.kind)) +
         " event: " + std::string(what);
  return make_error(Errc::invalid_argument, msg);
}

bool contains(const std::vector<NodeId>& v, NodeId n) {
  return std::find(v.begin(), v.end(), n) != v.end();
}

}  // namespace

Status validate_plan(const FaultPlan& plan, const ClusterShape& shape, Duration fault_phase,
                     std::string_view source) {
  for (const FaultEvent& e : plan.events) {
    if (is_ambient(e.kind)) return event_error(source, e, "kind", "not a timed fault");
    if (e.nodes.empty()) return event_error(source, e, "nodes", "no node");
    if (e.at >= fault_phase) {
      return event_error(source, e, "at_us",
                         "at " + std::to_string(to_ns(e.at) / kUs) +
                             " us, not inside the fault phase (" +
                             std::to_string(to_ns(fault_phase) / kUs) + " us)");
    }
    for (const auto* list : {&e.nodes, &e.to}) {
      for (NodeId n : *list) {
        if (!contains(shape.all, n)) {
          return event_error(source, e, list == &e.nodes ? "nodes" : "to",
                             "node " + std::to_string(n) + " does not exist (this cluster has " +
                                 std::to_string(shape.all.size()) + " nodes)");
        }
        if (e.kind == FaultKind::crash && !contains(shape.crashable, n)) {
          return event_error(source, e, "nodes", "node " + std::to_string(n) + " may not crash");
        }
        if (e.kind == FaultKind::clock_skew && !contains(shape.servers, n)) {
          // A client's clock times its history: it must keep true time.
          return event_error(
              source, e, "nodes",
              "node " + std::to_string(n) + " is not a server; only servers' clocks skew");
        }
      }
    }
    if (e.kind == FaultKind::core_stall && e.core >= shape.cores) {
      return event_error(source, e, "core",
                         "core " + std::to_string(e.core) + " does not exist (" +
                             std::to_string(shape.cores) + " per node)");
    }
    if (std::abs(e.drift_ppm) > FaultBounds::kDriftPpmLimit) {
      return event_error(source, e, "drift_ppm", "beyond +-100000 ppm");
    }
  }
  return {};
}

std::string describe(const FaultEvent& e) {
  auto list = [](const std::vector<NodeId>& ids) {
    std::string s;
    for (NodeId id : ids) s += (s.empty() ? "n" : ",n") + std::to_string(id);
    return s;
  };
  auto ms = [](Duration d) { return std::to_string(d.count() / 1'000'000) + "ms"; };
  std::string out = "at " + ms(e.at) + ": " + std::string(fault_name(e.kind)) + " " + list(e.nodes);
  if (!e.to.empty()) out += " -> " + list(e.to);
  if (e.kind == FaultKind::core_stall) out += " core " + std::to_string(e.core);
  if (e.duration.count() != 0) out += " for " + ms(e.duration);
  if (e.kind == FaultKind::clock_skew) {
    out += " by " + ms(e.offset) + ", drifting " + std::to_string(e.drift_ppm) + " ppm";
  }
  return out;
}

}  // namespace doppel::sim
