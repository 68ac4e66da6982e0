// The replicated store's parts, each on its own: the ring and preference
// lists, the durable object log (crashes, torn tails, compaction), bucket
// properties, and RPC frames.

#include <catch2/catch.hpp>
#include <set>

#include "components/dvv/store/bucket_props.h"
#include "components/dvv/store/messages.h"
#include "components/dvv/store/object_log.h"
#include "components/dvv/store/ring.h"
#include "components/dvv/store/rpc.h"
#include "components/dvv/store/sibling.h"
#include "sim/world.h"
#include "tests/support/checks.h"

using namespace doppel;
using namespace doppel::dvv;
using doppel::test::on_node;

TEST_CASE("dvv ring: primaries are n_val distinct nodes and fallbacks stand in for the down ones",
          "[unit]") {
  Ring ring(64, 5);
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto p = ring.partition_of("b", "k" + std::to_string(i));
    REQUIRE(p < 64);
    seen.insert(p);
    REQUIRE(p == ring.partition_of("b", "k" + std::to_string(i)));
  }
  REQUIRE(seen.size() > 50);  // keys spread over the partitions
  const auto prim = ring.primaries(7, 3);
  REQUIRE(prim.size() == 3);
  REQUIRE(std::set<NodeIndex>(prim.begin(), prim.end()).size() == 3);
  auto pref = ring.preference_list(7, 3, [&](NodeIndex n) { return n != prim[1]; });
  REQUIRE(pref.size() == 3);
  int fallbacks = 0;
  for (const Replica& r : pref) {
    REQUIRE(r.node != prim[1]);
    if (!r.primary) {
      ++fallbacks;
      REQUIRE(r.hinted_for == prim[1]);
      REQUIRE(std::find(prim.begin(), prim.end(), r.node) == prim.end());
    }
  }
  REQUIRE(fallbacks == 1);
  REQUIRE(Ring(64, 2).primaries(3, 3).size() == 2);  // never more replicas than nodes
}

namespace {

Object object_with(const std::string& value, const std::string& id) {
  Write w;
  Sibling s;
  s.body = value;
  w.value = encode_sibling(s);
  w.coordinator = id;
  w.client_id = "c";
  return put(Object::empty(ClockKind::dvvset), w, ClockOptions{});
}

// Runs `body` in a fiber of a crashable node "n"; returns the world for more.
ObjectLog::Partitioner zero() {
  return [](const ObjectKey&) { return 0u; };
}

}  // namespace

TEST_CASE("dvv object log: durable objects survive a crash; the log reopens after a torn tail",
          "[sim]") {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    sim::World world(sim::WorldOptions{seed});
    const auto n = world.add_node(sim::NodeSpec{"n", 1, true, {}});
    on_node(world, n, [&](Runtime& rt) {
      auto log = ObjectLog::open(rt, rt.fs(), "objects.log", zero());
      REQUIRE(log.ok());
      for (int i = 0; i < 10; ++i) {
        REQUIRE((*log)
                    ->put(ObjectKey{"b", "k" + std::to_string(i)},
                          object_with("v" + std::to_string(i), "n0"), true)
                    .ok());
      }
      // Unsynced: may be lost or torn by the crash.
      REQUIRE((*log)
                  ->put(ObjectKey{"b", "late"}, object_with(std::string(3000, 'x'), "n0"), false)
                  .ok());
    });
    world.crash(n, Duration(0));
    world.run_for(std::chrono::milliseconds(10));
    on_node(world, n, [&](Runtime& rt) {
      auto log = ObjectLog::open(rt, rt.fs(), "objects.log", zero());
      REQUIRE(log.ok());
      for (int i = 0; i < 10; ++i) {
        const StoredObject* s = (*log)->find(ObjectKey{"b", "k" + std::to_string(i)});
        REQUIRE(s != nullptr);
        REQUIRE(decode_sibling(s->object.siblings()[0])->body == "v" + std::to_string(i));
      }
      const StoredObject* late = (*log)->find(ObjectKey{"b", "late"});
      if (late != nullptr)
        REQUIRE(decode_sibling(late->object.siblings()[0])->body == std::string(3000, 'x'));
      // And it takes new writes after the cut.
      REQUIRE((*log)->put(ObjectKey{"b", "after"}, object_with("a", "n0"), true).ok());
    });
  }
}

TEST_CASE("dvv object log: compaction keeps every object and hint", "[sim]") {
  sim::World world(sim::WorldOptions{1});
  const auto n = world.add_node(sim::NodeSpec{"n", 1, true, {}});
  on_node(world, n, [&](Runtime& rt) {
    auto log = ObjectLog::open(rt, rt.fs(), "objects.log", zero());
    REQUIRE(log.ok());
    const std::string big(20000, 'y');
    for (int round = 0; round < 120; ++round) {  // overwrite: lots of dead bytes
      REQUIRE((*log)
                  ->put(ObjectKey{"b", "k" + std::to_string(round % 5)},
                        object_with(big + std::to_string(round), "n0"), false)
                  .ok());
    }
    REQUIRE((*log)->put_hint(3, ObjectKey{"b", "h"}, object_with("hint", "n1")).ok());
    const std::uint64_t before = (*log)->log_bytes();
    REQUIRE((*log)->maybe_compact().ok());
    REQUIRE((*log)->log_bytes() < before);
    REQUIRE((*log)->objects() == 5);
    REQUIRE((*log)->hints_for(3) != nullptr);
  });
  world.crash(n, Duration(0));
  world.run_for(std::chrono::milliseconds(10));
  on_node(world, n, [&](Runtime& rt) {
    auto log = ObjectLog::open(rt, rt.fs(), "objects.log", zero());
    REQUIRE(log.ok());
    REQUIRE((*log)->objects() == 5);
    REQUIRE((*log)->hints_for(3) != nullptr);
  });
}

TEST_CASE("dvv bucket props: JSON in and out, bad fields named", "[unit]") {
  auto p = props_from_json(
      R"({"props":{"n_val":5,"allow_mult":false,"clock":"vv","r":"one","w":"all"}})",
      BucketProps{});
  REQUIRE(p.ok());
  REQUIRE(p->n_val == 5);
  REQUIRE_FALSE(p->allow_mult);
  REQUIRE(p->clock == ClockKind::vv);
  REQUIRE(p->r == 1);
  REQUIRE(p->w == 5);
  auto back = props_from_json(props_to_json(*p), BucketProps{});
  REQUIRE(back.ok());
  REQUIRE(back->n_val == 5);
  REQUIRE(back->clock == ClockKind::vv);
  REQUIRE_THAT(props_from_json(R"({"props":{"colour":1}})", BucketProps{}).error().what,
               Catch::Contains("colour"));
  REQUIRE_THAT(props_from_json(R"({"props":{"n_val":0}})", BucketProps{}).error().what,
               Catch::Contains("n_val"));
  REQUIRE_THAT(props_from_json(R"({"props":{"clock":"lamport"}})", BucketProps{}).error().what,
               Catch::Contains("clock"));
  REQUIRE_FALSE(props_from_json("{nope", BucketProps{}).ok());
  auto decoded = decode_props(encode_props({{"b", *p}}));
  REQUIRE(decoded.ok());
  REQUIRE(decoded->at("b") == *p);
}

TEST_CASE("dvv siblings: encoding round trips and last write wins keeps the newest", "[unit]") {
  Sibling s{"body\0bytes", "text/plain", 1234, false};
  auto back = decode_sibling(encode_sibling(s));
  REQUIRE(back.has_value());
  REQUIRE(back->body == s.body);
  REQUIRE(back->timestamp_ms == 1234);
  // Two concurrent writes: a sync keeps both; LWW keeps the later one.
  Sibling older{"old", "text/plain", 1, false}, newer{"new", "text/plain", 2, false};
  Write w1{encode_sibling(older), std::nullopt, "n0", "c1", 0},
      w2{encode_sibling(newer), std::nullopt, "n1", "c2", 0};
  Object both = sync(put(Object::empty(ClockKind::dvvset), w1, ClockOptions{}),
                     put(Object::empty(ClockKind::dvvset), w2, ClockOptions{}));
  REQUIRE(both.sibling_count() == 2);
  Object one = last_write_wins(both);
  REQUIRE(one.sibling_count() == 1);
  REQUIRE(decode_sibling(one.siblings()[0])->body == "new");
}

TEST_CASE("dvv messages: a forwarded PUT keeps its quorums, \"quorum\" included", "[unit]") {
  RequestOptions o;
  o.w = 1;
  o.dw = BucketProps::kQuorum;
  o.pw = BucketProps::kQuorum;
  o.client_id = "c";
  Sibling value;
  value.body = "v";
  auto q = decode_coordinate_request(
      encode_coordinate_request(ObjectKey{"b", "k"}, value, std::nullopt, o));
  REQUIRE(q.ok());
  REQUIRE(q->options.w == std::optional<std::uint32_t>(1));
  REQUIRE(q->options.dw == std::optional<std::uint32_t>(BucketProps::kQuorum));
  REQUIRE(q->options.pw == std::optional<std::uint32_t>(BucketProps::kQuorum));
  REQUIRE_FALSE(q->options.r.has_value());
  REQUIRE_FALSE(q->options.pr.has_value());
}

TEST_CASE("dvv messages: a repairs batch round trips, and a malformed one is refused", "[unit]") {
  Sibling value;
  value.body = "v";
  Write w{encode_sibling(value), std::nullopt, "n0", "c1", 0};
  const Object o = put(Object::empty(ClockKind::dvvset), w, ClockOptions{});
  const std::vector<std::string> items{encode_keyed_object(ObjectKey{"b", "k1"}, o),
                                       encode_keyed_object(ObjectKey{"b", "k2"}, o)};
  auto back = decode_repairs(encode_repairs(items));
  REQUIRE(back.ok());
  REQUIRE(back->size() == 2);
  REQUIRE((*back)[1].key == ObjectKey{"b", "k2"});
  REQUIRE(*(*back)[1].object == o);
  // Cut short, or claiming more items than the limit: an error, never an assertion.
  const std::string whole = encode_repairs(items);
  REQUIRE_FALSE(decode_repairs(whole.substr(0, whole.size() - 1)).ok());
  WireWriter too_many;
  too_many.varint(kRepairsMax + 1);
  REQUIRE_FALSE(decode_repairs(too_many.take()).ok());
  // The reply: one flag per item, no more and no less.
  REQUIRE(*decode_repairs_reply(encode_repairs_reply({true, false}), 2) ==
          std::vector<bool>{true, false});
  REQUIRE_FALSE(decode_repairs_reply(encode_repairs_reply({true}), 2).ok());
  REQUIRE_FALSE(decode_repairs_reply("\x02", 1).ok());
}
