#pragma once
// A scenario is data, as FoundationDB's test specs: which component, how
// many nodes, cores and clients, the workload, which faults (each on, off, or
// "swarm" = chosen per seed), an optional explicit fault plan, the
// properties to check, and how long the fault and quiet phases last.
// Unknown keys, wrong types and impossible values are errors that name the
// file, the line and the key.

#include <toml++/toml.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "base/toml.h"
#include "runtime/node.h"
#include "runtime/result.h"
#include "sim/fault_plan.h"
#include "sim/world.h"

namespace doppel::scenarios {

// A planted bug that lives outside the component, in test code: it decorates the runtime of
// every server node (a FileSystemWrapper whose syncs lie, say), so the component itself
// carries no flag for it. The wrapper lives as long as the node's service.
using RuntimeDecorator = std::function<std::unique_ptr<Runtime>(Runtime& node)>;

struct ScenarioSpec {
  std::string path;  // where it was read from
  std::string text;  // the whole file, carried into traces
  std::string name;
  std::string description;
  std::string component;
  std::uint32_t nodes = 1;
  std::uint32_t cores = 1;
  std::uint32_t clients = 1;
  Duration duration{0};  // the fault phase
  Duration quiet{0};     // then every fault heals; liveness is checked at its end
  sim::FaultSwitches faults;
  sim::FaultBounds bounds;             // [faults] keys beside the switches
  std::optional<sim::FaultPlan> plan;  // explicit: replaces generation
  std::vector<std::string> properties;
  std::string bug;                 // a test-only planted bug
  RuntimeDecorator bug_decorator;  // set when `bug` is one planted by decoration
  toml::table workload;
};

// Drives one run of a scenario in a World: builds the cluster, runs the
// clients, and checks the properties (calling World::fail).
class ScenarioDriver {
 public:
  virtual ~ScenarioDriver() = default;
  // Adds nodes and starts clients, at time zero.
  virtual void setup(sim::World& world) = 0;
  // The nodes faults may hit (called after setup).
  virtual sim::ClusterShape shape() const = 0;
  // The fault phase is over: every fault is healed.
  virtual void on_quiet(sim::World& /*world*/) {}
  // True once the workload has finished; ends the quiet phase early.
  virtual bool finished() const { return false; }
  // At the end: check the properties that need the whole history or
  // progress; report each violation with World::fail.
  virtual void check(sim::World& world) = 0;
};

// A component as the simulator's scenarios see it: its driver, its properties and its planted
// bugs. (What `doppel serve` needs of a component is in components/registry.h.)
struct ComponentDef {
  std::string name;
  std::vector<std::string> properties;  // every property it can check
  std::vector<std::string> bugs;        // planted bugs it knows
  std::vector<std::string> probes;      // events a good swarm should see
  // The components whose BUGGIFY sites its scenarios can reach: its own and
  // the libraries it runs on ("http"). Empty: its own name only.
  std::vector<std::string> buggify_components;
  // Validates the [workload] table; errors name the key and line.
  std::function<Status(const toml::table& workload, std::string_view source)> validate;
  std::function<std::unique_ptr<ScenarioDriver>(const ScenarioSpec& spec, std::uint64_t seed)> make;
};

class Registry {
 public:
  void add(ComponentDef def);
  // A planted bug of `component` made by decorating its nodes' runtimes (test code only).
  void add_decorated_bug(std::string_view component, std::string name, RuntimeDecorator decorator);
  const RuntimeDecorator* decorated_bug(std::string_view component, std::string_view name) const;
  // Every planted bug of the component: its own flags (ComponentDef::bugs) and decorated ones.
  std::vector<std::string> planted_bugs(std::string_view component) const;
  const ComponentDef* find(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  std::vector<ComponentDef> defs_;
  std::vector<std::tuple<std::string, std::string, RuntimeDecorator>> decorated_;
};

Result<ScenarioSpec> parse_scenario(std::string_view text, std::string_view path,
                                    const Registry& registry);
// The nodes faults may hit in this scenario's cluster (its driver's setup, in
// a World that never runs).
sim::ClusterShape cluster_shape(const ScenarioSpec& spec, const Registry& registry);
// Whether `plan` can run in this scenario: sim::validate_plan against its
// cluster and fault phase. Errors name `source`, the event's line and the key.
Status check_plan(const ScenarioSpec& spec, const Registry& registry, const sim::FaultPlan& plan,
                  std::string_view source);
// A plan file (TOML, as sim shrink writes) that can run in this scenario; errors name the file.
Result<sim::FaultPlan> load_plan(const ScenarioSpec& spec, const Registry& registry,
                                 const std::string& path);
Result<ScenarioSpec> load_scenario(const std::string& path, const Registry& registry);

}  // namespace doppel::scenarios
