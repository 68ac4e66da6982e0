#include "scenarios/scenario.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

namespace doppel::scenarios {

void Registry::add(ComponentDef def) {
  DOPPEL_ASSERT(find(def.name) == nullptr);
  defs_.push_back(std::move(def));
}

const ComponentDef* Registry::find(std::string_view name) const {
  for (const ComponentDef& d : defs_) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

void Registry::add_decorated_bug(std::string_view component, std::string name,
                                 RuntimeDecorator decorator) {
  DOPPEL_ASSERT_MSG(find(component) != nullptr, "a decorated bug of an unknown component");
  DOPPEL_ASSERT_MSG(decorated_bug(component, name) == nullptr, "two planted bugs of one name");
  decorated_.emplace_back(std::string(component), std::move(name), std::move(decorator));
}

const RuntimeDecorator* Registry::decorated_bug(std::string_view component,
                                                std::string_view name) const {
  for (const auto& [c, n, d] : decorated_) {
    if (c == component && n == name) return &d;
  }
  return nullptr;
}

std::vector<std::string> Registry::planted_bugs(std::string_view component) const {
  std::vector<std::string> out;
  if (const ComponentDef* def = find(component)) out = def->bugs;
  for (const auto& [c, n, d] : decorated_) {
    if (c == component) out.push_back(n);
  }
  return out;
}

std::vector<std::string> Registry::names() const {
  std::vector<std::string> out;
  for (const ComponentDef& d : defs_) out.push_back(d.name);
  return out;
}

namespace {

Status read_mode(const toml::node& v, std::string_view key, std::string_view source,
                 sim::FaultMode& out) {
  auto mode = v.value<std::string>();
  if (v.type() != toml::node_type::string ||
      (*mode != "on" && *mode != "off" && *mode != "swarm")) {
    return toml_error(source, &v, key, "expected \"on\", \"off\" or \"swarm\"");
  }
  out = *mode == "on"      ? sim::FaultMode::on
        : *mode == "swarm" ? sim::FaultMode::swarm
                           : sim::FaultMode::off;
  return {};
}

// The bounds of generated faults, beside the switches.
Status read_bounds(const toml::table& t, std::string_view source, sim::FaultBounds& out) {
  auto tcp = toml_ms(t, "tcp_timeout_ms", source, 100, 3'600'000, out.tcp_timeout);
  if (!tcp) return tcp.error();
  out.tcp_timeout = *tcp;
  auto drift = toml_int(t, "clock_drift_ppm_max", source, 0, sim::FaultBounds::kDriftPpmLimit,
                        out.clock_drift_ppm_max);
  if (!drift) return drift.error();
  out.clock_drift_ppm_max = *drift;
  auto step = toml_ms(t, "clock_step_ms_max", source, 0, 86'400'000, out.clock_step_max);
  if (!step) return step.error();
  out.clock_step_max = *step;
  if (const toml::node* v = t.get("bad_clocks")) {
    if (Status s = read_mode(*v, "bad_clocks", source, out.bad_clocks); !s) return s;
  }
  return {};
}

constexpr std::string_view kBoundKeys[] = {"tcp_timeout_ms", "clock_drift_ppm_max",
                                           "clock_step_ms_max", "bad_clocks"};

Status read_faults(const toml::table& t, std::string_view source, sim::FaultSwitches& out,
                   sim::FaultBounds& bounds) {
  for (const auto& [k, v] : t) {
    if (std::find(std::begin(kBoundKeys), std::end(kBoundKeys), k.str()) != std::end(kBoundKeys)) {
      continue;
    }
    auto kind = sim::parse_fault_name(k.str());
    if (!kind) {
      std::string list;
      for (int i = 0; i < sim::kFaultKinds; ++i) {
        list += (i ? ", " : "") + std::string(sim::fault_name(static_cast<sim::FaultKind>(i)));
      }
      for (std::string_view b : kBoundKeys) list += ", " + std::string(b);
      return toml_error(source, &v, k.str(), "unknown fault (expected one of: " + list + ")");
    }
    if (Status s = read_mode(v, k.str(), source, out[*kind]); !s) return s;
  }
  return read_bounds(t, source, bounds);
}

}  // namespace

Result<ScenarioSpec> parse_scenario(std::string_view text, std::string_view path,
                                    const Registry& registry) {
  auto parsed = parse_toml(text, path);
  if (!parsed) return parsed.error();
  const toml::table& root = *parsed;
  if (Status s = toml_known_keys(
          root, path,
          {"name", "description", "component", "nodes", "cores", "clients", "duration_ms",
           "quiet_ms", "faults", "plan", "properties", "bug", "workload"});
      !s) {
    return s.error();
  }
  ScenarioSpec spec;
  spec.path = path;
  spec.text = text;
  auto name = toml_string(root, "name", path, true);
  if (!name) return name.error();
  spec.name = *name;
  auto description = toml_string(root, "description", path, false);
  if (!description) return description.error();
  spec.description = *description;
  auto component = toml_string(root, "component", path, true);
  if (!component) return component.error();
  const ComponentDef* def = registry.find(*component);
  if (def == nullptr) {
    std::string known;
    for (const auto& n : registry.names()) known += (known.empty() ? "" : ", ") + n;
    return toml_error(path, root.get("component"), "component",
                      "unknown component '" + *component + "' (this build has: " + known + ")");
  }
  spec.component = *component;

  auto nodes = toml_int(root, "nodes", path, 1, 16, 1);
  auto cores = toml_int(root, "cores", path, 1, 64, 1);
  auto clients = toml_int(root, "clients", path, 0, 256, 1);
  auto duration = toml_int(root, "duration_ms", path, 0, 86'400'000, 10'000);
  auto quiet = toml_int(root, "quiet_ms", path, 0, 86'400'000, 10'000);
  for (auto* r : {&nodes, &cores, &clients, &duration, &quiet}) {
    if (!*r) return r->error();
  }
  spec.nodes = static_cast<std::uint32_t>(*nodes);
  spec.cores = static_cast<std::uint32_t>(*cores);
  spec.clients = static_cast<std::uint32_t>(*clients);
  spec.duration = std::chrono::milliseconds(*duration);
  spec.quiet = std::chrono::milliseconds(*quiet);

  if (const toml::node* f = root.get("faults")) {
    if (!f->is_table()) return toml_error(path, f, "faults", "expected a table");
    if (Status s = read_faults(*f->as_table(), path, spec.faults, spec.bounds); !s) {
      return s.error();
    }
  }
  if (const toml::node* p = root.get("plan")) {
    if (!p->is_table()) return toml_error(path, p, "plan", "expected a table");
    auto plan = sim::parse_fault_plan(*p->as_table(), path);
    if (!plan) return plan.error();
    spec.plan = std::move(*plan);  // checked against the cluster below
  }
  if (const toml::node* p = root.get("properties")) {
    const toml::array* a = p->as_array();
    if (a == nullptr) return toml_error(path, p, "properties", "expected an array of strings");
    for (const toml::node& item : *a) {
      auto s = item.value<std::string>();
      if (!s || item.type() != toml::node_type::string) {
        return toml_error(path, &item, "properties", "expected a string");
      }
      if (std::find(def->properties.begin(), def->properties.end(), *s) == def->properties.end()) {
        std::string known;
        for (const auto& n : def->properties) known += (known.empty() ? "" : ", ") + n;
        return toml_error(path, &item, "properties",
                          "component " + spec.component + " has no property '" + *s +
                              "' (it has: " + known + ")");
      }
      spec.properties.push_back(*s);
    }
  } else {
    spec.properties = def->properties;
  }
  auto bug = toml_string(root, "bug", path, false);
  if (!bug) return bug.error();
  const RuntimeDecorator* decorator = registry.decorated_bug(spec.component, *bug);
  if (decorator != nullptr) spec.bug_decorator = *decorator;
  if (!bug->empty() && decorator == nullptr &&
      std::find(def->bugs.begin(), def->bugs.end(), *bug) == def->bugs.end()) {
    return toml_error(path, root.get("bug"), "bug",
                      "component " + spec.component + " has no planted bug '" + *bug + "'");
  }
  spec.bug = *bug;
  if (const toml::node* w = root.get("workload")) {
    if (!w->is_table()) return toml_error(path, w, "workload", "expected a table");
    spec.workload = *w->as_table();
  }
  // Validated on the parsed table: a copy of a toml++ table loses its source positions.
  if (def->validate) {
    const toml::table* w = root.get_as<toml::table>("workload");
    if (Status s = def->validate(w != nullptr ? *w : spec.workload, path); !s) return s.error();
  }
  if (spec.plan) {
    if (Status s = check_plan(spec, registry, *spec.plan, path); !s) return s.error();
  }
  return spec;
}

sim::ClusterShape cluster_shape(const ScenarioSpec& spec, const Registry& registry) {
  const ComponentDef* def = registry.find(spec.component);
  DOPPEL_ASSERT(def != nullptr);
  sim::World world(sim::WorldOptions{});
  std::unique_ptr<ScenarioDriver> driver = def->make(spec, 0);
  driver->setup(world);
  sim::ClusterShape shape = driver->shape();
  // The world outlives the driver here, and its shutdown still records events: nothing may
  // reach the driver's observer then.
  world.set_observer({});
  return shape;
}

Status check_plan(const ScenarioSpec& spec, const Registry& registry, const sim::FaultPlan& plan,
                  std::string_view source) {
  return sim::validate_plan(plan, cluster_shape(spec, registry), spec.duration, source);
}

Result<sim::FaultPlan> load_plan(const ScenarioSpec& spec, const Registry& registry,
                                 const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::not_found, "cannot open plan " + path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto plan = sim::parse_fault_plan_text(text, path);
  if (!plan) return plan.error();
  if (Status s = check_plan(spec, registry, *plan, path); !s) return s.error();
  return plan;
}

Result<ScenarioSpec> load_scenario(const std::string& path, const Registry& registry) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::not_found, "cannot open scenario " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > (1u << 20))
    return make_error(Errc::too_large, path + ": larger than 1 MiB");
  return parse_scenario(text.str(), path, registry);
}

}  // namespace doppel::scenarios
