#pragma once
// Three dvv nodes in a simulated world, every one a primary of every key (n_val 3), up and
// pinging each other: what the store's node-level tests start from.

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "components/dvv/store/node.h"
#include "sim/world.h"

namespace doppel::test {

inline constexpr std::uint32_t kDvvClusterNodes = 3;

// A ring of 8 partitions: small, so every node owns several.
inline dvv::DvvSettings small_ring_settings() {
  dvv::DvvSettings s;
  s.partitions = 8;
  return s;
}

// Boots `count` nodes (each `crashable` or not) and runs 3 s; `nodes[i]` points at node i's DvvNode
// and is set again by each boot (a crashed node's restart).
inline std::vector<sim::NodeId> boot_dvv_cluster(
    sim::World& world, std::vector<dvv::DvvNode*>& nodes,
    const dvv::DvvSettings& settings = small_ring_settings(), bool crashable = false,
    std::uint32_t count = kDvvClusterNodes) {
  using namespace std::chrono_literals;
  std::vector<Endpoint> peers;
  for (std::uint32_t i = 0; i < count; ++i)
    peers.push_back(Endpoint{"dvv" + std::to_string(i), 8087});
  nodes.assign(count, nullptr);
  std::vector<sim::NodeId> ids;
  for (std::uint32_t i = 0; i < count; ++i) {
    NodeConfig c;
    c.name = "dvv" + std::to_string(i);
    c.node_id = i;
    c.component = "dvv";
    c.listen = Endpoint{c.name, 8098};
    c.peers = peers;
    sim::SimBootFn boot = [&nodes, i, c,
                           settings](Runtime& rt) -> Result<std::unique_ptr<Service>> {
      auto node = std::make_unique<dvv::DvvNode>(rt, c, settings);
      if (Status s = node->start(); !s) return s.error();
      nodes[i] = node.get();
      return std::unique_ptr<Service>(std::move(node));
    };
    ids.push_back(world.add_node(sim::NodeSpec{c.name, 1, crashable, boot}));
  }
  world.run_for(3s);  // booted, and each has seen the others answer a ping
  for (dvv::DvvNode* n : nodes) REQUIRE(n != nullptr);
  return ids;
}

}  // namespace doppel::test
