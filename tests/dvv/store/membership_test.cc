// Membership at the node level, in the simulator: a node joins a running
// ring and a member (the claimant itself) leaves, while a client writes; every
// write survives, the ring settles on every node, and the node that left
// holds nothing. Also: the admin's errors, and a node with an old ring that
// learns the new one from the old owner that refuses its PUT.

#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "components/dvv/store/node.h"
#include "sim/world.h"
#include "tests/dvv/store/sim_cluster.h"
#include "tests/support/checks.h"

using namespace doppel;
using namespace doppel::dvv;
using doppel::test::on_node;
using namespace std::chrono_literals;

namespace {

Sibling value(std::string body) {
  Sibling s;
  s.body = std::move(body);
  return s;
}

DvvSettings three_of_four() {
  DvvSettings s = test::small_ring_settings();
  s.members = 3;
  s.gossip_interval = 500ms;
  s.handoff_interval = 500ms;
  return s;
}

// Runs until every node holds the same settled ring (at most 60 s).
void settle(sim::World& world, const std::vector<DvvNode*>& nodes) {
  world.run_until(world.now() + 60s, [&] {
    for (DvvNode* n : nodes) {
      if (n->membership().state().pending() ||
          !(n->membership().state() == nodes[0]->membership().state())) {
        return false;
      }
    }
    return true;
  });
  for (DvvNode* n : nodes) {
    INFO("node " << n->self());
    REQUIRE_FALSE(n->membership().state().pending());
    REQUIRE(n->membership().state() == nodes[0]->membership().state());
  }
}

}  // namespace

TEST_CASE(
    "dvv membership: a node joins and the claimant leaves while writes go on; every write "
    "survives, the ring settles everywhere, and the node that left holds nothing",
    "[sim]") {
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    INFO("seed " << seed);
    sim::World world(sim::WorldOptions{seed});
    std::vector<DvvNode*> nodes;
    const auto ids = test::boot_dvv_cluster(world, nodes, three_of_four(), false, 4);
    REQUIRE(nodes[0]->membership().state().claimant() == 0u);
    REQUIRE(nodes[3]->membership().state().members[3] == MemberStatus::none);
    std::map<std::string, std::string> latest;
    const auto write_some = [&](int from, int to, NodeIndex via) {
      on_node(world, ids[via], [&](Runtime&) {
        for (int i = from; i < to; ++i) {
          const ObjectKey key{"b", "k" + std::to_string(i % 40)};
          const std::string v = "v" + std::to_string(i);
          auto put = nodes[via]->put(key, value(v), std::nullopt, RequestOptions{});
          // Blind PUTs of one key by one client: the newest keeps every older one in its past,
          // so a read shows the newest acknowledged (plus any concurrent ones).
          if (put.ok()) latest[key.key] = v;
        }
      });
    };
    write_some(0, 60, 1);
    // Staged at a node that is not the claimant (forwarded), committed at the joiner.
    on_node(world, ids[2], [&](Runtime&) {
      auto staged = nodes[2]->cluster(ClusterOp::stage, MemberChange{MemberChange::Kind::join, 3});
      REQUIRE(staged.ok());
      auto refused = nodes[2]->cluster(ClusterOp::stage, MemberChange{MemberChange::Kind::join, 3});
      REQUIRE(refused.code() == Errc::invalid_argument);
    });
    on_node(world, ids[3], [&](Runtime&) {
      auto committed = nodes[3]->cluster(ClusterOp::commit);
      INFO((committed ? *committed : committed.error().message()));
      REQUIRE(committed.ok());
    });
    write_some(60, 120, 3);
    settle(world, nodes);
    REQUIRE(nodes[0]->membership().state().members[3] == MemberStatus::valid);
    REQUIRE(nodes[0]->ring().owners() == 4);
    REQUIRE(nodes[3]->replica_id() != initial_replica_id(3));  // a joiner's fresh id
    on_node(world, ids[1], [&](Runtime&) {
      REQUIRE(nodes[1]->cluster(ClusterOp::stage, MemberChange{MemberChange::Kind::leave, 0}).ok());
      REQUIRE(nodes[1]->cluster(ClusterOp::commit).ok());
    });
    write_some(120, 180, 2);
    settle(world, nodes);
    world.run_for(5s);  // the release rounds of the node that left
    REQUIRE(nodes[1]->membership().state().claimant() == 1u);
    REQUIRE(nodes[1]->membership().state().members[0] == MemberStatus::none);
    REQUIRE(nodes[0]->log().objects() == 0);
    REQUIRE(!world.failed());
    on_node(world, ids[0], [&](Runtime&) {
      RequestOptions all;
      all.r = 3;
      for (const auto& [key, v] : latest) {
        auto got = nodes[0]->get(ObjectKey{"b", key}, all);
        REQUIRE(got.ok());
        REQUIRE(got->found);
        bool seen = false;
        for (const Sibling& s : got->siblings) seen = seen || s.body == v;
        INFO(key << " should show " << v);
        REQUIRE(seen);
      }
    });
    INFO(world.failure().detail);
    REQUIRE(!world.failed());
  }
}

TEST_CASE("dvv membership: the admin hears why a change cannot be made, at any node", "[sim]") {
  sim::World world(sim::WorldOptions{7});
  std::vector<DvvNode*> nodes;
  const auto ids = test::boot_dvv_cluster(world, nodes, three_of_four(), false, 4);
  on_node(world, ids[3], [&](Runtime&) {
    auto none = nodes[3]->cluster(ClusterOp::commit);
    REQUIRE(none.code() == Errc::invalid_argument);
    REQUIRE_THAT(none.error().what, Catch::Contains("no changes"));
    auto leave = nodes[3]->cluster(ClusterOp::stage, MemberChange{MemberChange::Kind::leave, 3});
    REQUIRE(leave.code() == Errc::invalid_argument);
    REQUIRE_THAT(leave.error().what, Catch::Contains("no valid member"));
    auto unknown = nodes[1]->cluster(ClusterOp::stage, MemberChange{MemberChange::Kind::join, 9});
    REQUIRE(unknown.code() == Errc::invalid_argument);
    REQUIRE_THAT(unknown.error().what, Catch::Contains("nodes 0..3"));
    // Nothing was staged by the refused ones: a plan has nothing to plan.
    REQUIRE(nodes[2]->cluster(ClusterOp::plan).code() == Errc::invalid_argument);
  });
  REQUIRE(nodes[0]->membership().state().version == 0);
  REQUIRE(!world.failed());
}

TEST_CASE(
    "dvv membership: a PUT through a node that missed a change is stored by the new owners: "
    "the old owner that refuses it hands over its newer ring",
    "[sim]") {
  sim::World world(sim::WorldOptions{11});
  DvvSettings settings = test::small_ring_settings();
  settings.members = 4;
  settings.gossip_interval = 1h;  // no gossip: node 4 can learn the ring only from a refusal
  settings.handoff_interval = 500ms;
  std::vector<DvvNode*> nodes;
  const auto ids = test::boot_dvv_cluster(world, nodes, settings, false, 5);
  world.power_off(ids[4]);  // a node that is no member, away while node 3 leaves
  on_node(world, ids[1], [&](Runtime&) {
    REQUIRE(nodes[1]->cluster(ClusterOp::stage, MemberChange{MemberChange::Kind::leave, 3}).ok());
    REQUIRE(nodes[1]->cluster(ClusterOp::commit).ok());
  });
  settle(world, {nodes[0], nodes[1], nodes[2], nodes[3]});
  world.run_for(10s);  // the pushes of the settled ring to node 4 have given up
  world.power_on(ids[4]);
  world.run_for(3s);
  REQUIRE(nodes[4]->membership().state().version == 0);
  REQUIRE(nodes[0]->membership().state().members[3] == MemberStatus::none);
  // A key whose first primary in node 4's ring is node 3, which serves it no more.
  std::string key;
  for (int i = 0; key.empty(); ++i) {
    REQUIRE(i < 1000);
    const std::string k = "k" + std::to_string(i);
    if (nodes[4]->ring().primaries(nodes[4]->ring().partition_of("b", k), 3).front() == 3) key = k;
  }
  on_node(world, ids[4], [&](Runtime&) {
    RequestOptions all;
    all.w = 3;
    auto put = nodes[4]->put(ObjectKey{"b", key}, value("after"), std::nullopt, all);
    INFO((put ? "" : put.error().message()));
    REQUIRE(put.ok());
  });
  REQUIRE(nodes[4]->membership().state() == nodes[0]->membership().state());
  on_node(world, ids[0], [&](Runtime&) {
    RequestOptions all;
    all.r = 3;
    auto got = nodes[0]->get(ObjectKey{"b", key}, all);
    REQUIRE(got.ok());
    REQUIRE(got->siblings.size() == 1);
    REQUIRE(got->siblings[0].body == "after");
  });
  REQUIRE(nodes[3]->log().objects() == 0);
  INFO(world.failure().detail);
  REQUIRE(!world.failed());
}
