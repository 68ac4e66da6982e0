// The store's node as a whole, in the simulator, on the paths the scenarios'
// workloads never take: DELETE and tombstone reaping. A fired assertion
// fails the world (property "assertion"), so these also run the reap path's
// assertions (every primary held exactly the tombstone; the reap under its
// key's lock; what a store leaves is what it stored).

#include "components/dvv/store/node.h"

#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "sim/world.h"
#include "tests/dvv/store/sim_cluster.h"
#include "tests/support/checks.h"

using namespace doppel;
using namespace doppel::dvv;
using doppel::test::on_node;
using namespace std::chrono_literals;

namespace {

constexpr std::uint32_t kNodes = test::kDvvClusterNodes;

Sibling value(std::string body) {
  Sibling s;
  s.body = std::move(body);
  return s;
}

}  // namespace

TEST_CASE("dvv node: a DELETE every replica acked is reaped from every primary", "[sim]") {
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    sim::World world(sim::WorldOptions{seed});
    std::vector<DvvNode*> nodes;
    const auto ids = test::boot_dvv_cluster(world, nodes);
    const ObjectKey key{"b", "k"};
    RequestOptions all;
    all.w = kNodes;  // every replica acks: the coordinator hands the tombstone to the reaper
    on_node(world, ids[seed % kNodes], [&](Runtime&) {
      DvvNode& n = *nodes[seed % kNodes];
      REQUIRE(n.put(key, value("one"), std::nullopt, all).ok());
      REQUIRE(n.remove(key, std::nullopt, all).ok());
    });
    world.run_for(10s);  // reap_delay, then the reaper's reads and reaps
    INFO("seed " << seed << ": " << world.failure().detail);
    REQUIRE(!world.failed());
    for (DvvNode* n : nodes) REQUIRE(n->log().find(key) == nullptr);
    // The key takes writes again, and reads find the new value.
    on_node(world, ids[0], [&](Runtime&) {
      REQUIRE(nodes[0]->put(key, value("two"), std::nullopt, all).ok());
      auto got = nodes[1]->get(key, RequestOptions{});
      REQUIRE(got.ok());
      REQUIRE(got->siblings.size() == 1);
      REQUIRE(got->siblings[0].body == "two");
    });
    REQUIRE(!world.failed());
  }
}

TEST_CASE("dvv node: a GET that finds a tombstone on every replica has it reaped", "[sim]") {
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    sim::World world(sim::WorldOptions{seed});
    std::vector<DvvNode*> nodes;
    const auto ids = test::boot_dvv_cluster(world, nodes);
    const ObjectKey key{"b", "gone"};
    RequestOptions all;
    all.r = kNodes;
    all.w = kNodes;
    on_node(world, ids[1], [&](Runtime&) {
      DvvNode& n = *nodes[1];
      REQUIRE(n.put(key, value("x"), std::nullopt, all).ok());
      auto got = n.get(key, all);
      REQUIRE(got.ok());
      // A DELETE with the read's context, acked by a quorum only.
      REQUIRE(n.remove(key, got->context, RequestOptions{}).ok());
    });
    world.run_for(1s);  // the third replica takes the tombstone too
    on_node(world, ids[2], [&](Runtime&) {
      auto got = nodes[2]->get(key, all);
      REQUIRE(got.ok());
      REQUIRE(!got->found);
    });
    world.run_for(10s);
    INFO("seed " << seed << ": " << world.failure().detail);
    REQUIRE(!world.failed());
    for (DvvNode* n : nodes) REQUIRE(n->log().find(key) == nullptr);
  }
}
