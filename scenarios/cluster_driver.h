#pragma once
// What every component's scenario driver shares: a cluster of server nodes
// (named <prefix>0, <prefix>1, ...; all crashable), one client node that
// faults never touch, the properties the scenario asked for, and the shape
// the fault plan is drawn over. A driver adds its workload, its client and
// its oracle (properties/<component>/).

#include <algorithm>
#include <string>
#include <vector>

#include "scenarios/scenario.h"

namespace doppel::scenarios {

class ClusterDriver : public ScenarioDriver {
 public:
  sim::ClusterShape shape() const override {
    sim::ClusterShape s;
    s.servers = servers_;
    s.crashable = servers_;
    s.all = servers_;
    s.all.push_back(client_node_);
    s.cores = spec_.cores;
    return s;
  }

 protected:
  explicit ClusterDriver(const ScenarioSpec& spec) : spec_(spec) {}

  // Adds the spec's server nodes, each booted by boot_of(index, name), then the client node.
  // Servers from index `powered` on are racked unplugged (World::power_on adds them later).
  template <class BootOf>
  void add_cluster(sim::World& world, std::string_view prefix, BootOf boot_of,
                   std::uint32_t powered = ~0u) {
    world_ = &world;
    for (std::uint32_t i = 0; i < spec_.nodes; ++i) {
      const std::string name = server_name(prefix, i);
      NodeBoot boot = boot_of(i, name);
      if (spec_.bug_decorator) boot = decorated(spec_.bug_decorator, std::move(boot));
      servers_.push_back(world.add_node(sim::NodeSpec{.name = name,
                                                      .cores = spec_.cores,
                                                      .crashable = true,
                                                      .boot = std::move(boot),
                                                      .powered = i < powered}));
    }
    client_node_ = world.add_node(sim::NodeSpec{"clients", 1, false, {}});
  }

  // The planted bug the component itself carries: "" when there is none, or when the bug is
  // planted by decorating the nodes' runtimes instead (scenario.h, RuntimeDecorator).
  std::string_view component_bug() const {
    return spec_.bug_decorator ? std::string_view() : std::string_view(spec_.bug);
  }
  static std::string server_name(std::string_view prefix, std::uint32_t i) {
    return std::string(prefix) + std::to_string(i);
  }
  bool wants(std::string_view property) const {
    return std::find(spec_.properties.begin(), spec_.properties.end(), property) !=
           spec_.properties.end();
  }
  // Counts one operation the workload sent ("get", "put?w=all"...), as the probe
  // "op:<component>:<op>": the swarm's reach table (scripts/coverage.sh) shows what ran.
  void reached(std::string_view op) {
    std::string probe = "op:" + spec_.component + ":";
    probe += op;
    world_->coverage().hit(probe);
  }
  // The client node's runtime (it never crashes).
  Runtime& client_runtime() { return world_->runtime(client_node_); }
  // Fails `property` if the scenario checks it; true if it did.
  bool violated(std::string_view property, std::string detail) {
    if (!wants(property)) return false;
    world_->fail(property, std::move(detail));
    return true;
  }

  // A node booted on a decorated runtime, which lives as long as the node's service.
  static NodeBoot decorated(RuntimeDecorator decorator, NodeBoot boot) {
    class DecoratedService final : public Service {
     public:
      DecoratedService(std::unique_ptr<Runtime> rt, std::unique_ptr<Service> inner)
          : rt_(std::move(rt)), inner_(std::move(inner)) {}
      void stop() override { inner_->stop(); }

     private:
      std::unique_ptr<Runtime> rt_;  // declared first: destroyed after inner_
      std::unique_ptr<Service> inner_;
    };
    return [decorator = std::move(decorator),
            boot = std::move(boot)](Runtime& rt) -> Result<std::unique_ptr<Service>> {
      std::unique_ptr<Runtime> wrapped = decorator(rt);
      auto service = boot(*wrapped);
      if (!service) return service.error();
      return std::unique_ptr<Service>(
          new DecoratedService(std::move(wrapped), std::move(*service)));
    };
  }

  const ScenarioSpec& spec_;
  sim::World* world_ = nullptr;
  std::vector<sim::NodeId> servers_;
  sim::NodeId client_node_ = 0;
};

}  // namespace doppel::scenarios
