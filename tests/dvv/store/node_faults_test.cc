// The store's nodes under the simulator's faults as the real world has them:
// a node's clock that runs fast or slow moves its failure detector's verdicts
// (its timeouts run on its own clock), and a partition that outlasts the TCP
// timeout breaks the nodes' connections, which they open again after the heal.

#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "components/dvv/store/node.h"
#include "sim/world.h"
#include "tests/dvv/store/sim_cluster.h"

using namespace doppel;
using namespace doppel::dvv;
using namespace std::chrono_literals;

namespace {

constexpr std::uint32_t kNodes = test::kDvvClusterNodes;

// The cluster, with every node seeing every other up.
std::vector<sim::NodeId> boot_cluster(sim::World& world, std::vector<DvvNode*>& nodes,
                                      const DvvSettings& settings) {
  const auto ids = test::boot_dvv_cluster(world, nodes, settings);
  for (DvvNode* n : nodes) {
    for (NodeIndex p = 0; p < kNodes; ++p) REQUIRE(n->peer_up(p));
  }
  return ids;
}

sim::FaultEvent cut_off(sim::NodeId node, Duration length) {
  sim::FaultEvent e;
  e.kind = sim::FaultKind::partition;
  e.nodes = {node};
  e.duration = length;
  return e;
}

sim::FaultEvent drift(sim::NodeId node, std::int64_t ppm) {
  sim::FaultEvent e;
  e.kind = sim::FaultKind::clock_skew;
  e.nodes = {node};
  e.drift_ppm = ppm;
  return e;
}

}  // namespace

TEST_CASE("dvv node: a node whose clock runs fast declares a silent peer down sooner", "[sim]") {
  DvvSettings settings;
  settings.partitions = 8;
  settings.down_after = 10s;
  sim::World world(sim::WorldOptions{1});
  std::vector<DvvNode*> nodes;
  const auto ids = boot_cluster(world, nodes, settings);
  world.apply(drift(ids[0], 100'000));   // 10 % fast
  world.apply(drift(ids[1], -100'000));  // 10 % slow
  const Instant cut_at = world.now();
  world.apply(cut_off(ids[2], Duration(0)));
  std::optional<Instant> fast_verdict, slow_verdict;
  while (world.now() < cut_at + 30s && !(fast_verdict && slow_verdict)) {
    world.run_for(10ms);
    if (!fast_verdict && !nodes[0]->peer_up(2)) fast_verdict = world.now();
    if (!slow_verdict && !nodes[1]->peer_up(2)) slow_verdict = world.now();
  }
  REQUIRE(fast_verdict);
  REQUIRE(slow_verdict);
  // 10 s on each node's clock: 9.09 s of true time on the fast one, 11.1 s
  // on the slow one, counted from its last answered ping (under 0.56 s before the cut).
  const double fast_s = to_ns(*fast_verdict - cut_at) / 1e9;
  const double slow_s = to_ns(*slow_verdict - cut_at) / 1e9;
  INFO("fast node: " << fast_s << " s, slow node: " << slow_s << " s");
  REQUIRE(fast_s > 9.09 - 0.5);
  REQUIRE(fast_s < 9.09 + 0.05);
  REQUIRE(slow_s > 11.11 - 0.6);
  REQUIRE(slow_s < 11.11 + 0.05);
  REQUIRE(!world.failed());
}

TEST_CASE(
    "dvv node: after a partition longer than the TCP timeout, nodes reconnect and serve writes",
    "[sim]") {
  DvvSettings settings;
  settings.partitions = 8;
  sim::WorldOptions options{2};
  options.tcp_timeout = 2s;
  sim::World world(options);
  std::vector<DvvNode*> nodes;
  const auto ids = boot_cluster(world, nodes, settings);
  world.apply(cut_off(ids[2], 6s));
  world.run_for(5900ms);
  // The connections to and from dvv2 timed out during the cut; none could open again.
  REQUIRE(world.coverage().count("fault:tcp_timeout") >= 2);
  const std::uint64_t connects_before = world.coverage().count("event:SimConnect");
  world.run_for(600ms);  // healed
  bool written = false;
  world.spawn(ids[0], 0, "writer", [&] {
    RequestOptions all;
    all.w = kNodes;  // dvv2 must take it too: over a new connection
    Sibling v;
    v.body = "after the heal";
    written = nodes[0]->put(ObjectKey{"b", "k"}, v, std::nullopt, all).ok();
  });
  world.run_for(5s);
  REQUIRE(written);
  REQUIRE(world.coverage().count("event:SimConnect") > connects_before);
  const StoredObject* stored = nodes[2]->log().find(ObjectKey{"b", "k"});
  REQUIRE(stored != nullptr);
  for (DvvNode* n : nodes) REQUIRE(n->peer_up(2));
  REQUIRE(!world.failed());
}
