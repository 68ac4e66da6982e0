#include "sim/fault_plan.h"

#include <algorithm>
#include <toml++/toml.h>

namespace doppel::sim {
namespace {

constexpr std::array<std::string_view, kFaultKinds> kNames = {
    "latency", "split_reads", "disk_latency", "disk_eio",  "disk_bitflip",
    "buggify", "reset",       "partition",    "partition_oneway", "crash",
    "clock_skew", "core_stall", "disk_corrupt",
};

constexpr std::int64_t kUs = 1000;
constexpr std::size_t kPlanEventsMax = 10'000;

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

}  // namespace

std::string_view fault_name(FaultKind kind) { return kNames[static_cast<int>(kind)]; }

std::optional<FaultKind> parse_fault_name(std::string_view name) {
  for (int i = 0; i < kFaultKinds; ++i) {
    if (kNames[i] == name) return static_cast<FaultKind>(i);
  }
  return std::nullopt;
}

bool is_ambient(FaultKind kind) { return static_cast<int>(kind) <= static_cast<int>(FaultKind::buggify); }

std::string_view disk_model_name(DiskModel model) {
  switch (model) {
    case DiskModel::instant: return "instant";
    case DiskModel::ssd: return "ssd";
    case DiskModel::hdd: return "hdd";
  }
  return "instant";
}

std::size_t FaultPlan::size() const {
  return events.size() + ambient.latency + ambient.split_reads +
         (ambient.disk_model != DiskModel::instant) + ambient.disk_eio + ambient.disk_bitflip +
         ambient.buggify;
}

FaultPlan generate_plan(const FaultSwitches& switches, const ClusterShape& shape,
                        Duration fault_phase, Prng& rng) {
  FaultPlan plan;
  auto enabled = [&](FaultKind k) {
    switch (switches[k]) {
      case FaultMode::off: return false;
      case FaultMode::on: return true;
      case FaultMode::swarm: return rng.chance(1, 2);
    }
    return false;
  };
  // Decide every kind first, in a fixed order, so one switch does not shift
  // the random choices of the others.
  std::array<bool, kFaultKinds> on{};
  for (int i = 0; i < kFaultKinds; ++i) on[i] = enabled(static_cast<FaultKind>(i));
  auto is_on = [&](FaultKind k) { return on[static_cast<int>(k)]; };

  plan.ambient.latency = is_on(FaultKind::latency);
  plan.ambient.split_reads = is_on(FaultKind::split_reads);
  if (is_on(FaultKind::disk_latency)) plan.ambient.disk_model = rng.chance(1, 2) ? DiskModel::ssd : DiskModel::hdd;
  plan.ambient.disk_eio = is_on(FaultKind::disk_eio);
  plan.ambient.disk_bitflip = is_on(FaultKind::disk_bitflip);
  plan.ambient.buggify = is_on(FaultKind::buggify);

  const std::int64_t phase_ns = fault_phase.count();
  if (phase_ns <= 0) return plan;
  auto at = [&] { return Duration(rng.between(0, phase_ns - 1)); };
  auto count = [&] { return 1 + static_cast<int>(rng.below(4)); };  // 1-4 events per kind

  const std::vector<NodeId>& servers = shape.servers;
  if (is_on(FaultKind::reset) && !servers.empty()) {
    for (int i = count(); i > 0; --i) {
      plan.events.push_back(FaultEvent{at(), FaultKind::reset, pick_some(rng, servers, 1)});
    }
  }
  if (is_on(FaultKind::partition) && !shape.all.empty()) {
    for (int i = count(); i > 0; --i) {
      FaultEvent e{at(), FaultKind::partition, pick_some(rng, shape.all, std::max<std::size_t>(1, shape.all.size() / 2))};
      e.duration = between_ms(rng, 50, 3000);
      plan.events.push_back(std::move(e));
    }
  }
  if (is_on(FaultKind::partition_oneway) && shape.all.size() >= 2) {
    for (int i = count(); i > 0; --i) {
      FaultEvent e{at(), FaultKind::partition_oneway, pick_some(rng, shape.all, 1)};
      std::vector<NodeId> rest;
      for (NodeId n : shape.all) {
        if (n != e.nodes[0]) rest.push_back(n);
      }
      e.to = pick_some(rng, rest, rest.size());
      e.duration = between_ms(rng, 50, 3000);
      plan.events.push_back(std::move(e));
    }
  }
  if (is_on(FaultKind::crash) && !shape.crashable.empty()) {
    for (int i = count(); i > 0; --i) {
      FaultEvent e{at(), FaultKind::crash, pick_some(rng, shape.crashable, 1)};
      e.duration = between_ms(rng, 10, 2000);
      plan.events.push_back(std::move(e));
    }
  }
  if (is_on(FaultKind::clock_skew) && !servers.empty()) {
    for (int i = count(); i > 0; --i) {
      FaultEvent e{at(), FaultKind::clock_skew, pick_some(rng, servers, 1)};
      e.offset = Duration(rng.between(-30'000, 30'000) * 1'000'000);  // up to 30 s either way
      e.drift_ppm = rng.between(-500, 500);  // crystal error; NTP would cap it at 500 ppm
      plan.events.push_back(std::move(e));
    }
  }
  if (is_on(FaultKind::core_stall) && !servers.empty()) {
    for (int i = count(); i > 0; --i) {
      FaultEvent e{at(), FaultKind::core_stall, pick_some(rng, servers, 1)};
      e.core = static_cast<CoreId>(rng.below(shape.cores));
      e.duration = between_ms(rng, 1, 500);
      plan.events.push_back(std::move(e));
    }
  }
  if (is_on(FaultKind::disk_corrupt) && !servers.empty()) {
    for (int i = count(); i > 0; --i) {
      plan.events.push_back(FaultEvent{at(), FaultKind::disk_corrupt, pick_some(rng, servers, 1)});
    }
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
      {"buggify", plan.ambient.buggify},
  };
  toml::array events;
  for (const FaultEvent& e : plan.events) {
    toml::table t{{"at_us", e.at.count() / kUs}, {"kind", std::string(fault_name(e.kind))},
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

Error plan_error(std::string_view source, const toml::node* node, std::string_view key,
                 std::string_view what) {
  std::string msg(source);
  if (node != nullptr && node->source().begin) {
    msg += ":" + std::to_string(node->source().begin.line);
  }
  msg += ": ";
  if (!key.empty()) msg += "'" + std::string(key) + "': ";
  msg += what;
  return make_error(Errc::invalid_argument, msg);
}

Result<std::vector<NodeId>> read_nodes(const toml::table& t, std::string_view key, std::string_view source) {
  std::vector<NodeId> out;
  const toml::node* n = t.get(key);
  if (n == nullptr) return out;
  const toml::array* a = n->as_array();
  if (a == nullptr) return plan_error(source, n, key, "expected an array of node numbers");
  for (const toml::node& item : *a) {
    auto v = item.value<std::int64_t>();
    if (!v || *v < 0 || *v > 1000) return plan_error(source, &item, key, "expected a node number");
    out.push_back(static_cast<NodeId>(*v));
  }
  return out;
}

Result<std::int64_t> read_int(const toml::table& t, std::string_view key, std::string_view source,
                              std::int64_t lo, std::int64_t hi, std::int64_t fallback) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return fallback;
  auto v = n->value<std::int64_t>();
  if (!v || n->type() != toml::node_type::integer) return plan_error(source, n, key, "expected an integer");
  if (*v < lo || *v > hi) {
    return plan_error(source, n, key, "out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return *v;
}

}  // namespace

Result<FaultPlan> parse_fault_plan(const toml::table& root, std::string_view source) {
  FaultPlan plan;
  for (const auto& [k, v] : root) {
    if (k != "ambient" && k != "event") return plan_error(source, &v, k.str(), "unknown key");
  }
  if (const toml::node* a = root.get("ambient")) {
    const toml::table* t = a->as_table();
    if (t == nullptr) return plan_error(source, a, "ambient", "expected a table");
    for (const auto& [k, v] : *t) {
      const std::string_view key = k.str();
      if (key == "disk_latency") {
        auto s = v.value<std::string>();
        if (!s || (*s != "instant" && *s != "ssd" && *s != "hdd")) {
          return plan_error(source, &v, key, "expected \"instant\", \"ssd\" or \"hdd\"");
        }
        plan.ambient.disk_model = *s == "ssd" ? DiskModel::ssd : *s == "hdd" ? DiskModel::hdd : DiskModel::instant;
        continue;
      }
      bool* flag = key == "latency"        ? &plan.ambient.latency
                   : key == "split_reads"  ? &plan.ambient.split_reads
                   : key == "disk_eio"     ? &plan.ambient.disk_eio
                   : key == "disk_bitflip" ? &plan.ambient.disk_bitflip
                   : key == "buggify"      ? &plan.ambient.buggify
                                           : nullptr;
      if (flag == nullptr) return plan_error(source, &v, key, "unknown ambient fault");
      auto b = v.value<bool>();
      if (!b || v.type() != toml::node_type::boolean) return plan_error(source, &v, key, "expected true or false");
      *flag = *b;
    }
  }
  if (const toml::node* e = root.get("event")) {
    const toml::array* events = e->as_array();
    if (events == nullptr) return plan_error(source, e, "event", "expected [[event]] tables");
    if (events->size() > kPlanEventsMax) return plan_error(source, e, "event", "too many events");
    for (const toml::node& item : *events) {
      const toml::table* t = item.as_table();
      if (t == nullptr) return plan_error(source, &item, "event", "expected a table");
      for (const auto& [k, v] : *t) {
        static constexpr std::array<std::string_view, 8> kKeys = {
            "at_us", "kind", "nodes", "to", "core", "duration_us", "offset_us", "drift_ppm"};
        if (std::find(kKeys.begin(), kKeys.end(), k.str()) == kKeys.end()) {
          return plan_error(source, &v, k.str(), "unknown key in a fault event");
        }
      }
      FaultEvent ev;
      const toml::node* kind = t->get("kind");
      auto kind_name = kind ? kind->value<std::string>() : std::nullopt;
      if (!kind_name) return plan_error(source, kind ? kind : &item, "kind", "missing or not a string");
      auto k = parse_fault_name(*kind_name);
      if (!k || is_ambient(*k)) return plan_error(source, kind, "kind", "not a timed fault: " + *kind_name);
      ev.kind = *k;
      auto at = read_int(*t, "at_us", source, 0, INT64_MAX / 1000, -1);
      if (!at) return at.error();
      if (*at < 0) return plan_error(source, &item, "at_us", "missing");
      ev.at = Duration(*at * kUs);
      auto nodes = read_nodes(*t, "nodes", source);
      if (!nodes) return nodes.error();
      if (nodes->empty()) return plan_error(source, &item, "nodes", "missing or empty");
      ev.nodes = std::move(*nodes);
      auto to = read_nodes(*t, "to", source);
      if (!to) return to.error();
      ev.to = std::move(*to);
      if (ev.kind == FaultKind::partition_oneway && ev.to.empty()) {
        return plan_error(source, &item, "to", "a one-way partition needs receivers");
      }
      auto core = read_int(*t, "core", source, 0, 1023, 0);
      if (!core) return core.error();
      ev.core = static_cast<CoreId>(*core);
      auto duration = read_int(*t, "duration_us", source, 0, INT64_MAX / 1000, 0);
      if (!duration) return duration.error();
      ev.duration = Duration(*duration * kUs);
      auto offset = read_int(*t, "offset_us", source, -(INT64_MAX / 1000), INT64_MAX / 1000, 0);
      if (!offset) return offset.error();
      ev.offset = Duration(*offset * kUs);
      auto drift = read_int(*t, "drift_ppm", source, -100'000, 100'000, 0);
      if (!drift) return drift.error();
      ev.drift_ppm = *drift;
      plan.events.push_back(std::move(ev));
    }
  }
  std::stable_sort(plan.events.begin(), plan.events.end(),
                   [](const FaultEvent& a, const FaultEvent& b) { return a.at < b.at; });
  return plan;
}

Result<FaultPlan> parse_fault_plan_text(std::string_view text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& err) {
    return make_error(Errc::invalid_argument, std::string(source) + ":" +
                                                  std::to_string(err.source().begin.line) + ": " +
                                                  std::string(err.description()));
  }
  return parse_fault_plan(root, source);
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
