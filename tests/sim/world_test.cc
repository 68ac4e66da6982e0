// The simulated world: scheduling, time, crashes, partitions, disks.

#include "sim/world.h"

#include <catch2/catch.hpp>

#include "runtime/channel.h"
#include "runtime/future.h"
#include "sim/sim_runtime.h"

using namespace doppel;
using namespace doppel::sim;
using namespace std::chrono_literals;

namespace {

// An echo server: one fiber accepts, one fiber per connection echoes lines.
class EchoService final : public Service {
 public:
  explicit EchoService(Runtime& rt) : rt_(rt) {}
  Status start() {
    auto l = rt_.net().listen(Endpoint{"", 7}, ListenOptions{});
    if (!l) return l.error();
    listener_ = std::move(*l);
    rt_.spawn("accept", [this] {
      for (;;) {
        auto s = listener_->accept();
        if (!s) return;
        rt_.spawn("echo", [stream = std::shared_ptr<Stream>(std::move(*s))] {
          char buf[256];
          for (;;) {
            auto n = stream->read(buf);
            if (!n || *n == 0) return;
            if (!stream->write(std::string_view(buf, *n))) return;
          }
        });
      }
    });
    return {};
  }

 private:
  Runtime& rt_;
  std::unique_ptr<Listener> listener_;
};

SimBootFn echo_boot() {
  return [](Runtime& rt) -> Result<std::unique_ptr<Service>> {
    auto svc = std::make_unique<EchoService>(rt);
    if (Status s = svc->start(); !s) return s.error();
    return std::unique_ptr<Service>(std::move(svc));
  };
}

// Sends `count` messages and checks each comes back whole; returns how many did.
int echo_client(Runtime& rt, int count) {
  auto s = rt.net().connect(Endpoint{"server", 7}, 1s);
  if (!s) return 0;
  int ok = 0;
  for (int i = 0; i < count; ++i) {
    const std::string msg = "message " + std::to_string(i) + "\n";
    if (!(*s)->write(msg)) return ok;
    std::string got;
    char buf[64];
    while (got.size() < msg.size()) {
      auto n = (*s)->read(buf, rt.now() + 2s);
      if (!n || *n == 0) return ok;
      got.append(buf, *n);
    }
    if (got == msg) ++ok;
  }
  return ok;
}

std::uint64_t run_echo(std::uint64_t seed, AmbientFaults ambient, int* delivered) {
  World world(WorldOptions{seed, ambient});
  world.add_node(NodeSpec{"server", 2, true, echo_boot()});
  const NodeId client = world.add_node(NodeSpec{"client", 1, false, {}});
  int ok = 0;
  for (int c = 0; c < 3; ++c) {
    world.spawn(client, 0, "client", [&world, client, &ok] {
      world.runtime(client).sleep(1ms);
      ok += echo_client(world.runtime(client), 20);
    });
  }
  world.run_until(instant_ns(10'000'000'000));
  if (delivered) *delivered = ok;
  return world.trace().hash();
}

}  // namespace

TEST_CASE("sim: echo over the simulated network delivers every message", "[sim]") {
  int delivered = 0;
  run_echo(1, AmbientFaults{}, &delivered);
  REQUIRE(delivered == 60);
}

TEST_CASE("sim: split reads and latency still deliver every byte in order", "[sim]") {
  AmbientFaults faults;
  faults.latency = true;
  faults.split_reads = true;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    int delivered = 0;
    run_echo(seed, faults, &delivered);
    REQUIRE(delivered == 60);
  }
}

TEST_CASE("sim: the same seed gives the same trace hash, another seed another", "[sim]") {
  AmbientFaults faults;
  faults.latency = true;
  faults.split_reads = true;
  const auto a = run_echo(7, faults, nullptr);
  const auto b = run_echo(7, faults, nullptr);
  const auto c = run_echo(8, faults, nullptr);
  REQUIRE(a == b);
  REQUIRE(a != c);
}

TEST_CASE("sim: virtual time jumps; a long sleep costs no wall time", "[sim]") {
  World world(WorldOptions{1});
  const NodeId n = world.add_node(NodeSpec{"n", 1, false, {}});
  Instant woke{};
  world.spawn(n, 0, "sleeper", [&] {
    world.runtime(n).sleep(3600s);
    woke = world.runtime(n).now();
  });
  world.run_until(instant_ns(7200'000'000'000));
  REQUIRE(to_ns(woke) == 3600'000'000'000);
}

TEST_CASE(
    "sim: a world destroyed by a failing test's exception stops its fibers (it spun forever "
    "when each counted that exception as its own unwinding)",
    "[sim]") {
  struct TestFailed {};
  int unwound = 0;
  try {
    World world(WorldOptions{1});
    const NodeId n = world.add_node(NodeSpec{"n", 1, false, {}});
    world.spawn(n, 0, "looper", [&] {
      struct Count {
        int& n;
        ~Count() { ++n; }
      } count{unwound};
      for (;;) world.runtime(n).sleep(1s);  // stops only by its cancellation
    });
    world.run_until(instant_ns(5'000'000'000));
    throw TestFailed{};  // as a REQUIRE outside any fiber does
  } catch (const TestFailed&) {
  }
  REQUIRE(unwound == 1);
}

TEST_CASE("sim: a crash unwinds every fiber of the node and destroys its state", "[sim]") {
  struct Tracker {
    int alive = 0;
  } tracker;
  struct Guard {
    Tracker& t;
    explicit Guard(Tracker& t) : t(t) { ++t.alive; }
    ~Guard() { --t.alive; }
  };
  struct Svc final : Service {
    Svc(Runtime& rt, Tracker& t) : ch(rt, 4), guard(t) {}
    Channel<int> ch;
    Guard guard;
  };
  int boots = 0;
  World world(WorldOptions{3});
  const NodeId n =
      world.add_node(NodeSpec{"n", 2, true, [&](Runtime& rt) -> Result<std::unique_ptr<Service>> {
                                ++boots;
                                auto svc = std::make_unique<Svc>(rt, tracker);
                                Svc* s = svc.get();
                                // Fibers blocked every way the runtime offers: sleep, channel,
                                // future, read.
                                for (CoreId c = 0; c < 2; ++c) {
                                  rt.spawn_on(c, "sleeper", [&rt, &tracker] {
                                    Guard g(tracker);
                                    rt.sleep(1000s);
                                  });
                                }
                                rt.spawn("popper", [s, &tracker] {
                                  Guard g(tracker);
                                  s->ch.pop();
                                });
                                rt.spawn("waiter", [&rt, &tracker] {
                                  Guard g(tracker);
                                  Promise<int> p(rt);
                                  auto f = p.future();
                                  rt.spawn("holder", [&rt, p = std::move(p), &tracker]() mutable {
                                    Guard g(tracker);
                                    rt.sleep(500s);
                                  });
                                  f.get();
                                });
                                rt.spawn("reader", [&rt, &tracker] {
                                  Guard g(tracker);
                                  auto l = rt.net().listen(Endpoint{"", 9}, ListenOptions{});
                                  if (l) (void)(*l)->accept();
                                });
                                return std::unique_ptr<Service>(std::move(svc));
                              }});
  world.run_until(instant_ns(1'000'000'000));
  REQUIRE(boots == 1);
  REQUIRE(tracker.alive == 7);   // the service and six fibers
  world.crash(n, std::nullopt);  // down until quiesce()
  world.run_until(instant_ns(2'000'000'000));
  REQUIRE(tracker.alive == 0);
  REQUIRE_FALSE(world.node_up(n));
  world.quiesce();
  world.run_until(instant_ns(3'000'000'000));
  REQUIRE(world.node_up(n));
  REQUIRE(boots == 2);
  REQUIRE(tracker.alive == 7);
  REQUIRE(world.shutdown());
  REQUIRE(tracker.alive == 0);
  REQUIRE_FALSE(world.failed());
}

TEST_CASE("sim: run_on runs on the other core and returns the result", "[sim]") {
  World world(WorldOptions{4});
  const NodeId n = world.add_node(NodeSpec{"n", 4, false, {}});
  std::vector<CoreId> seen;
  world.spawn(n, 0, "main", [&] {
    Runtime& rt = world.runtime(n);
    for (CoreId c = 0; c < 4; ++c) {
      auto f = run_on(rt, c, [&rt] { return rt.this_core(); });
      seen.push_back(*f.get());
      REQUIRE(rt.this_core() == 0);
    }
  });
  world.run_until(instant_ns(1'000'000'000));
  REQUIRE(seen == std::vector<CoreId>{0, 1, 2, 3});
}

TEST_CASE("sim: a partition times out connects and holds bytes until the heal", "[sim]") {
  World world(WorldOptions{5});
  const NodeId server = world.add_node(NodeSpec{"server", 1, true, echo_boot()});
  const NodeId client = world.add_node(NodeSpec{"client", 1, false, {}});
  std::vector<std::string> log;
  world.spawn(client, 0, "client", [&] {
    Runtime& rt = world.runtime(client);
    auto s = rt.net().connect(Endpoint{"server", 7}, 1s);
    REQUIRE(s.ok());
    FaultEvent partition;
    partition.kind = FaultKind::partition;
    partition.nodes = {client};
    partition.to = {server};
    world.apply(partition);  // no duration: until the heal
    auto blocked = rt.net().connect(Endpoint{"server", 7}, 1s);
    log.push_back(blocked.ok() ? "connected" : std::string(errc_name(blocked.code())));
    REQUIRE((*s)->write("ping\n").ok());
    char buf[16];
    auto n = (*s)->read(buf, rt.now() + 2s);
    log.push_back(n.ok() ? "read" : std::string(errc_name(n.code())));
    world.quiesce();  // heals every fault
    std::string got;
    while (got.size() < 5) {
      auto m = (*s)->read(buf, rt.now() + 2s);
      REQUIRE(m.ok());
      got.append(buf, *m);
    }
    log.push_back(got);
  });
  world.run_until(instant_ns(20'000'000'000));
  REQUIRE(log == std::vector<std::string>{"timed out", "timed out", "ping\n"});
}

TEST_CASE("sim: synced data survives a crash; unsynced data may not", "[sim]") {
  int lost_some = 0;
  for (std::uint64_t seed = 0; seed < 30; ++seed) {
    World world(WorldOptions{seed});
    const NodeId n = world.add_node(NodeSpec{"n", 1, true, {}});
    world.spawn(n, 0, "writer", [&] {
      FileSystem& fs = world.runtime(n).fs();
      auto f = fs.open("data", OpenOptions{.create = true});
      REQUIRE(f.ok());
      REQUIRE((*f)->pwrite(std::string(4096, 'a'), 0).ok());
      REQUIRE((*f)->datasync().ok());
      REQUIRE(fs.sync_dir("").ok());
      REQUIRE((*f)->pwrite(std::string(4096, 'b'), 4096).ok());
    });
    world.run_until(instant_ns(1'000'000));
    world.crash(n, Duration(0));
    world.run_until(instant_ns(2'000'000));
    REQUIRE(world.node_up(n));
    const SimDisk::Inode* inode = world.disk(n).inode_at("data");
    REQUIRE(inode != nullptr);
    REQUIRE(inode->data.size() >= 4096);
    REQUIRE(inode->data.substr(0, 4096) == std::string(4096, 'a'));
    if (inode->data.size() < 8192 || inode->data.substr(4096) != std::string(4096, 'b'))
      ++lost_some;
  }
  REQUIRE(lost_some > 5);
  REQUIRE(lost_some < 30);
}

TEST_CASE("sim: a file whose directory was never synced can vanish at a crash", "[sim]") {
  int vanished = 0;
  for (std::uint64_t seed = 0; seed < 30; ++seed) {
    World world(WorldOptions{seed});
    const NodeId n = world.add_node(NodeSpec{"n", 1, true, {}});
    world.spawn(n, 0, "writer", [&] {
      FileSystem& fs = world.runtime(n).fs();
      auto f = fs.open("data", OpenOptions{.create = true});
      REQUIRE((*f)->pwrite("x", 0).ok());
      REQUIRE((*f)->datasync().ok());
    });
    world.run_until(instant_ns(1'000'000));
    world.crash(n, Duration(0));
    world.run_until(instant_ns(2'000'000));
    vanished += world.disk(n).inode_at("data") == nullptr;
  }
  REQUIRE(vanished > 3);
  REQUIRE(vanished < 30);
}

TEST_CASE("sim: an assertion in a fiber fails the run and names where", "[sim]") {
  World world(WorldOptions{1});
  const NodeId n = world.add_node(NodeSpec{"n", 1, false, {}});
  world.spawn(n, 0, "bad", [] { DOPPEL_ASSERT(1 + 1 == 3); });
  world.run_until(instant_ns(1'000'000));
  REQUIRE(world.failed());
  REQUIRE(world.failure().property == "assertion");
  REQUIRE_THAT(world.failure().detail, Catch::Contains("1 + 1 == 3"));
}

TEST_CASE("sim: a crash during boot unwinds the boot fiber after the fibers it started", "[sim]") {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    World world(WorldOptions{seed});
    std::vector<std::string> order;
    struct Noted {
      std::vector<std::string>& order;
      const char* what;
      ~Noted() { order.push_back(what); }
    };
    const NodeId n = world.add_node(
        NodeSpec{"n", 2, true, [&order](Runtime& rt) -> Result<std::unique_ptr<Service>> {
                   Noted boot_state{order, "boot state"};  // what a boot builds, its fibers use
                   for (CoreId c = 0; c < 2; ++c) {
                     rt.spawn_on(c, "background", [&rt, &order] {
                       Noted g{order, "background"};
                       rt.sleep(1000s);
                     });
                   }
                   rt.sleep(1000s);  // still booting when the crash comes
                   return make_error(Errc::timed_out);
                 }});
    world.run_until(instant_ns(1'000'000));
    world.crash(n, std::nullopt);
    world.run_until(instant_ns(2'000'000));
    REQUIRE(order == std::vector<std::string>{"background", "background", "boot state"});
    REQUIRE_FALSE(world.node_up(n));
  }
}

TEST_CASE(
    "sim: a node added unplugged runs only once powered on; one powered off stays down "
    "through faults and the heal, its disk kept for when it comes back",
    "[sim]") {
  World world(WorldOptions{5});
  int booted = 0;
  const NodeId n =
      world.add_node(NodeSpec{.name = "spare",
                              .boot = [&](Runtime&) -> Result<std::unique_ptr<Service>> {
                                ++booted;
                                return std::unique_ptr<Service>();
                              },
                              .powered = false});
  world.run_until(instant_ns(1'000'000));
  CHECK_FALSE(world.node_up(n));
  CHECK_FALSE(world.powered(n));
  CHECK(world.boots(n) == 0);
  world.crash(n, Duration(0));  // a fault aimed at an unplugged machine does nothing
  world.run_until(instant_ns(2'000'000));
  CHECK(world.boots(n) == 0);

  world.power_on(n);  // added to the running world
  world.run_until(instant_ns(3'000'000));
  REQUIRE(world.node_up(n));
  CHECK(world.boots(n) == 1);
  CHECK(booted == 1);
  world.spawn(n, 0, "writer", [&] {
    FileSystem& fs = world.runtime(n).fs();
    auto f = fs.open("data", OpenOptions{.create = true});
    REQUIRE(f.ok());
    REQUIRE((*f)->pwrite("kept", 0).ok());
    REQUIRE((*f)->datasync().ok());
    REQUIRE(fs.sync_dir("").ok());
  });
  world.run_until(instant_ns(4'000'000));

  world.power_off(n);  // removed
  world.run_until(instant_ns(5'000'000));
  CHECK_FALSE(world.node_up(n));
  world.crash(n, Duration(0));
  world.quiesce();  // heals faults and restarts crashed nodes, not removed ones
  world.run_until(instant_ns(6'000'000));
  CHECK_FALSE(world.node_up(n));
  CHECK(world.boots(n) == 1);

  world.power_on(n);
  world.run_until(instant_ns(7'000'000));
  REQUIRE(world.node_up(n));
  CHECK(world.boots(n) == 2);
  const SimDisk::Inode* inode = world.disk(n).inode_at("data");
  REQUIRE(inode != nullptr);
  CHECK(inode->data == "kept");
}
