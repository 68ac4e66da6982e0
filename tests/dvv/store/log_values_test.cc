// pw-dw-durable reads the nodes' logs with a decoder of its own
// (properties/dvv/log_values.h): here it reads what the store's ObjectLog
// wrote, from the simulated disk, and must find each key's values, a node's
// own replica apart from its hints, and in the durable bytes only what was
// synced; a bit the simulator says it flipped is put back.

#include "properties/dvv/log_values.h"

#include <catch2/catch.hpp>
#include <set>

#include "components/dvv/store/object_log.h"
#include "components/dvv/store/sibling.h"
#include "sim/world.h"
#include "tests/support/checks.h"

using namespace doppel;
using namespace doppel::dvv;
using doppel::test::on_node;
using namespace std::chrono_literals;
using doppel::properties::dvv::LogValues;

namespace {

Object object_of(ClockKind kind, const std::vector<std::string>& bodies, bool tombstone = false) {
  Object o = Object::empty(kind);
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    Write w;
    Sibling s;
    s.body = bodies[i];
    s.tombstone = tombstone;
    s.timestamp_ms = 1000 + static_cast<std::int64_t>(i);
    w.value = encode_sibling(s);
    w.coordinator = "n" + std::to_string(i);  // concurrent: siblings
    w.client_id = "c" + std::to_string(i);
    o = put(o, w, ClockOptions{kind, {}});
  }
  return o;
}

using Bodies = std::set<std::string>;

}  // namespace

TEST_CASE("dvv log values: the oracle's reader finds what the store's log wrote, synced or not",
          "[sim]") {
  sim::World world(sim::WorldOptions{3});
  const auto n = world.add_node(sim::NodeSpec{"n", 1, true, {}});
  on_node(world, n, [&](Runtime& rt) {
    auto log = ObjectLog::open(rt, rt.fs(), "objects.log", [](const ObjectKey&) { return 0u; });
    REQUIRE(log.ok());
    ObjectLog& l = **log;
    REQUIRE(l.put({"b", "k0"}, object_of(ClockKind::dvvset, {"a", "b"}), true).ok());
    REQUIRE(l.put_hint(2, {"b", "k1"}, object_of(ClockKind::vv, {"h"})).ok());
    REQUIRE(l.put({"b", "k2"}, object_of(ClockKind::dvvset, {"gone"}, true), true).ok());
    REQUIRE(l.put({"other", "k0"}, object_of(ClockKind::dvvset, {"x"}), true).ok());
    REQUIRE(l.put({"b", "k0"}, object_of(ClockKind::vv, {"c"}), false).ok());  // not synced
  });
  const sim::SimDisk& disk = world.disk(n);
  LogValues written, durable;
  written.read(disk.inode_number_at("objects.log", false), disk.inode_at("objects.log")->data);
  durable.read(disk.inode_number_at("objects.log", true),
               disk.durable_inode_at("objects.log")->durable);

  // Every record counts, not only the latest.
  REQUIRE(written.find("b", "k0")->own_bodies == Bodies{"a", "b", "c"});
  REQUIRE(durable.find("b", "k0")->own_bodies == Bodies{"a", "b"});
  REQUIRE(written.find("b", "k0")->hint_bodies.empty());
  // A hint is not the node's own replica.
  REQUIRE(durable.find("b", "k1")->own_bodies.empty());
  REQUIRE(durable.find("b", "k1")->hint_bodies == Bodies{"h"});
  // A tombstone names no write; another bucket's key is another key.
  REQUIRE(durable.find("b", "k2") != nullptr);
  REQUIRE(durable.find("b", "k2")->own_bodies.empty());
  REQUIRE(durable.find("other", "k0")->own_bodies == Bodies{"x"});
  REQUIRE(durable.find("b", "k9") == nullptr);
}

TEST_CASE("dvv log values: a torn record is not read, and values read are never forgotten",
          "[sim]") {
  sim::World world(sim::WorldOptions{4});
  const auto n = world.add_node(sim::NodeSpec{"n", 1, true, {}});
  on_node(world, n, [&](Runtime& rt) {
    auto log = ObjectLog::open(rt, rt.fs(), "objects.log", [](const ObjectKey&) { return 0u; });
    REQUIRE(log.ok());
    for (int i = 0; i < 5; ++i) {
      const std::string v = "v" + std::to_string(i);
      REQUIRE((*log)->put({"b", "k"}, object_of(ClockKind::dvvset, {v}), true).ok());
    }
  });
  const std::string image = world.disk(n).inode_at("objects.log")->data;
  // Read as it grows, byte by byte: a record is read once it is whole, and only then.
  LogValues grown;
  for (std::size_t size = 0; size <= image.size(); ++size) {
    grown.read(1, std::string_view(image).substr(0, size));
    LogValues fresh;
    fresh.read(1, std::string_view(image).substr(0, size));
    const auto* g = grown.find("b", "k");
    const auto* f = fresh.find("b", "k");
    REQUIRE((g == nullptr) == (f == nullptr));
    if (g != nullptr) REQUIRE(g->own_bodies == f->own_bodies);
  }
  REQUIRE(grown.find("b", "k")->own_bodies == Bodies{"v0", "v1", "v2", "v3", "v4"});
  // A damaged first record does not check; what was read of it before stays.
  std::string damaged = image;
  damaged[6] = static_cast<char>(damaged[6] ^ 0x01);
  LogValues fresh;
  fresh.read(1, damaged);
  REQUIRE(fresh.find("b", "k")->own_bodies == Bodies{"v1", "v2", "v3", "v4"});
  grown.read(2, damaged);  // another file: read from the start
  REQUIRE(grown.find("b", "k")->own_bodies == Bodies{"v0", "v1", "v2", "v3", "v4"});
  // A bit the simulator flipped, where it says it did, is read as the store wrote it.
  LogValues mended;
  mended.read(1, damaged, {6});
  REQUIRE(mended.find("b", "k")->own_bodies == Bodies{"v0", "v1", "v2", "v3", "v4"});
  LogValues elsewhere;
  elsewhere.read(1, damaged, {7});  // not the byte that flipped: still damaged
  REQUIRE(elsewhere.find("b", "k")->own_bodies == Bodies{"v1", "v2", "v3", "v4"});
}

TEST_CASE("dvv log values: a record that lands after a later one, in a hole, is read", "[sim]") {
  sim::World world(sim::WorldOptions{5});
  const auto n = world.add_node(sim::NodeSpec{"n", 1, true, {}});
  on_node(world, n, [&](Runtime& rt) {
    auto log = ObjectLog::open(rt, rt.fs(), "objects.log", [](const ObjectKey&) { return 0u; });
    REQUIRE(log.ok());
    for (int i = 0; i < 4; ++i) {
      const std::string v = "v" + std::to_string(i);
      REQUIRE((*log)
                  ->put({"b", "k" + std::to_string(i)}, object_of(ClockKind::dvvset, {v}), true)
                  .ok());
    }
  });
  const std::string image = world.disk(n).inode_at("objects.log")->data;
  // Where the records start: the reader finds them in a log that holds only the first.
  std::vector<std::size_t> starts{0};
  for (int i = 0; i < 4; ++i) {
    LogValues probe;
    for (std::size_t size = starts.back() + 1; size <= image.size(); ++size) {
      probe.read(1, std::string_view(image).substr(0, size));
      if (probe.find("b", "k" + std::to_string(i)) != nullptr) {
        starts.push_back(size);
        break;
      }
    }
  }
  REQUIRE(starts.size() == 5);
  // Concurrent appends: each reserves its range, and the second and fourth land first, the
  // first and third still on their way (zeros where they will be).
  std::string landing(image.size(), '\0');
  auto land = [&](int i) {
    std::copy(image.begin() + starts[i], image.begin() + starts[i + 1],
              landing.begin() + starts[i]);
  };
  LogValues reader;
  land(1);
  land(3);
  reader.read(1, landing);
  REQUIRE(reader.find("b", "k0") == nullptr);
  REQUIRE(reader.find("b", "k1")->own_bodies == Bodies{"v1"});
  REQUIRE(reader.find("b", "k2") == nullptr);
  REQUIRE(reader.find("b", "k3")->own_bodies == Bodies{"v3"});
  land(2);
  reader.read(1, landing);
  REQUIRE(reader.find("b", "k2")->own_bodies == Bodies{"v2"});
  REQUIRE(reader.find("b", "k0") == nullptr);
  land(0);
  reader.read(1, landing);
  REQUIRE(reader.find("b", "k0")->own_bodies == Bodies{"v0"});
}

TEST_CASE("dvv log values: last_replica is the key's newest own record in the file as read",
          "[sim]") {
  sim::World world(sim::WorldOptions{6});
  const auto n = world.add_node(sim::NodeSpec{"n", 1, true, {}});
  on_node(world, n, [&](Runtime& rt) {
    auto log = ObjectLog::open(rt, rt.fs(), "objects.log", [](const ObjectKey&) { return 0u; });
    REQUIRE(log.ok());
    ObjectLog& l = **log;
    REQUIRE(l.put({"b", "k"}, object_of(ClockKind::dvvset, {"a", "b"}), true).ok());
    REQUIRE(l.put_hint(2, {"b", "k"}, object_of(ClockKind::dvvset, {"h"})).ok());
    REQUIRE(l.put({"b", "k"}, object_of(ClockKind::dvvset, {"c"}), false).ok());  // not synced
  });
  const sim::SimDisk& disk = world.disk(n);
  const std::string image = disk.inode_at("objects.log")->data;
  LogValues written, durable;
  written.read(1, image);
  durable.read(1, disk.durable_inode_at("objects.log")->durable);
  // Every record counts for find(); only the newest own record for last_replica(), never a hint.
  REQUIRE(written.find("b", "k")->own_bodies == Bodies{"a", "b", "c"});
  REQUIRE(written.last_replica("b", "k")->own_bodies == Bodies{"c"});
  REQUIRE(durable.last_replica("b", "k")->own_bodies == Bodies{"a", "b"});
  REQUIRE(durable.last_replica("b", "k")->dots.size() == 2);
  REQUIRE(written.last_replica("b", "nope") == nullptr);
  // Another file (a compaction's) is what the node holds now: read from its start.
  LogValues none;
  none.read(1, image);
  none.read(2, std::string_view(image).substr(0, 3));
  REQUIRE(none.last_replica("b", "k") == nullptr);
  REQUIRE(none.find("b", "k")->own_bodies == Bodies{"a", "b", "c"});  // ever read
}
