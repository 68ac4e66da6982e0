// A node that lost a record from its log at boot takes a new replica id, so
// that it never mints a dot it already handed out (Riak's kv679): the value
// that dot named and the new write both survive, as siblings.

#include "components/dvv/store/replica_id.h"

#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <set>
#include <vector>

#include "components/dvv/store/node.h"
#include "properties/dvv/clock_size.h"
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

// Flips a bit in the last byte of the node's log, on its disk: the newest
// record, synced, is damaged (and a boot cannot tell it from a torn tail).
void damage_last_record(sim::World& world, sim::NodeId n) {
  on_node(world, n, [&](Runtime& rt) {
    auto f = rt.fs().open("objects.log", OpenOptions{});
    REQUIRE(f.ok());
    auto size = (*f)->size();
    REQUIRE(size.ok());
    REQUIRE(*size > 0);
    std::string last(1, '\0');
    REQUIRE((*f)->pread(std::span<char>(last.data(), 1), *size - 1).ok());
    last[0] = static_cast<char>(last[0] ^ 0x10);
    REQUIRE((*f)->pwrite(last, *size - 1).ok());
    REQUIRE((*f)->datasync().ok());
  });
}

std::set<std::string> bodies(const GetReply& r) {
  std::set<std::string> out;
  for (const Sibling& s : r.siblings) out.insert(s.body);
  return out;
}

}  // namespace

TEST_CASE("dvv replica id: a renewed id names its node, any other id names itself", "[unit]") {
  REQUIRE(initial_replica_id(3) == "n3");
  const ReplicaId renewed = renewed_replica_id(3, 0x1234);
  REQUIRE(renewed == "n3~0000000000001234");
  REQUIRE(replica_node_name(renewed) == "n3");
  REQUIRE(replica_node_name("n3") == "n3");
  REQUIRE(replica_node_name("n0.5") == "n0.5");
  REQUIRE(renewed.size() <= kReplicaIdBytesMax);
}

TEST_CASE(
    "dvv replica id: a node that lost its newest dot of a key mints under a new id, and "
    "the value that dot named survives the next write",
    "[sim]") {
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    sim::World world(sim::WorldOptions{seed});
    std::vector<DvvNode*> nodes;
    const auto ids =
        test::boot_dvv_cluster(world, nodes, test::small_ring_settings(), /*crashable=*/true);
    const ObjectKey key{"b", "k"};
    RequestOptions all;
    all.r = kNodes;
    all.w = kNodes;
    all.dw = kNodes;
    REQUIRE(nodes[0]->replica_id() == "n0");
    on_node(world, ids[0], [&](Runtime&) {
      REQUIRE(nodes[0]->put(key, value("one"), std::nullopt, all).ok());
      auto got = nodes[0]->get(key, all);
      REQUIRE(got.ok());
      // "two" replaces "one": n0 holds only its newest dot of the key, in its last record.
      REQUIRE(nodes[0]->put(key, value("two"), got->context, all).ok());
    });
    damage_last_record(world, ids[0]);
    world.crash(ids[0], 1s);
    nodes[0] = nullptr;
    // The write goes in as soon as n0 is back, before anti-entropy could hand it "two" again.
    world.run_until(world.now() + 5s, [&] { return nodes[0] != nullptr; });
    REQUIRE(nodes[0] != nullptr);
    INFO("seed " << seed << ": " << world.failure().detail);
    REQUIRE(!world.failed());
    CHECK(nodes[0]->replica_id() != "n0");
    CHECK(replica_node_name(nodes[0]->replica_id()) == "n0");
    // A blind write through n0: concurrent with "two", which the other replicas still hold.
    on_node(world, ids[0],
            [&](Runtime&) { REQUIRE(nodes[0]->put(key, value("three"), std::nullopt, all).ok()); });
    world.run_for(2s);
    on_node(world, ids[1], [&](Runtime&) {
      auto got = nodes[1]->get(key, all);
      REQUIRE(got.ok());
      CHECK(bodies(*got) == std::set<std::string>{"two", "three"});
    });
    REQUIRE(!world.failed());
    // A clean restart keeps the renewed id: nothing was lost this time.
    const ReplicaId renewed = nodes[0]->replica_id();
    world.run_for(30s);  // whatever read repair or anti-entropy wrote is synced by now
    on_node(world, ids[0], [&](Runtime& rt) {
      auto f = rt.fs().open("objects.log", OpenOptions{});
      REQUIRE(f.ok());
      REQUIRE((*f)->datasync().ok());
    });
    world.crash(ids[0], 1s);
    world.run_for(5s);
    REQUIRE(world.node_up(ids[0]));
    CHECK(nodes[0]->replica_id() == renewed);
  }
}

TEST_CASE("dvv clock bound: a clock names at most n_val nodes, and a node at most once per boot",
          "[unit]") {
  using properties::dvv::dvvset_ids_beyond_bound;
  const auto booted = [](std::uint32_t times) {
    return [times](std::size_t) -> std::optional<std::uint32_t> { return times; };
  };
  CHECK(!dvvset_ids_beyond_bound({"n0", "n1", "n2"}, 3, booted(1)));
  CHECK(dvvset_ids_beyond_bound({"n0", "n1", "n2", "n3"}, 3, booted(1)));
  CHECK(dvvset_ids_beyond_bound({"n0", "n0~00000000000000ab"}, 3, booted(1)));
  CHECK(!dvvset_ids_beyond_bound({"n0", "n0~00000000000000ab"}, 3, booted(2)));
  // A planted coordinator that mints a fresh id per write names a new "node" each time.
  CHECK(dvvset_ids_beyond_bound({"n0.1", "n0.2", "n0.3", "n0.4"}, 3, booted(9)));
  CHECK(dvvset_ids_beyond_bound({"x", "x~1"}, 3, booted(9)));  // not a node's name: no boots
}
