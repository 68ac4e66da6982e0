// The simulator's faults behave like the real ones: partitions heal only the
// links they cut, a connection cut past the TCP timeout breaks as Linux
// breaks it, a machine powered off goes silent, each node's clock runs at its
// own rate, a failed fsync drops the dirty pages, a full disk refuses writes;
// and coverage counts what fired.

#include <catch2/catch.hpp>

#include "sim/sim_runtime.h"
#include "sim/world.h"

using namespace doppel;
using namespace doppel::sim;
using namespace std::chrono_literals;

namespace {

// Echoes what it reads on port 7; records how each connection ended.
class EchoService final : public Service {
 public:
  EchoService(Runtime& rt, std::vector<std::string>& endings) : rt_(rt), endings_(endings) {}
  Status start() {
    auto l = rt_.net().listen(Endpoint{"", 7}, ListenOptions{});
    if (!l) return l.error();
    listener_ = std::move(*l);
    rt_.spawn("accept", [this] {
      for (;;) {
        auto s = listener_->accept();
        if (!s) return;
        rt_.spawn("echo", [this, stream = std::shared_ptr<Stream>(std::move(*s))] {
          char buf[256];
          for (;;) {
            auto n = stream->read(buf);
            if (!n) return endings_.push_back(std::string(errc_name(n.code())));
            if (*n == 0) return endings_.push_back("eof");
            if (!stream->write(std::string_view(buf, *n))) return endings_.push_back("write");
          }
        });
      }
    });
    return {};
  }

 private:
  Runtime& rt_;
  std::vector<std::string>& endings_;
  std::unique_ptr<Listener> listener_;
};

struct EchoWorld {
  explicit EchoWorld(Duration tcp_timeout = 20s, AmbientFaults ambient = {})
      : world([&] {
          WorldOptions o{1, ambient};
          o.tcp_timeout = tcp_timeout;
          return o;
        }()) {
    server = world.add_node(
        NodeSpec{"server", 1, true, [this](Runtime& rt) -> Result<std::unique_ptr<Service>> {
                   auto svc = std::make_unique<EchoService>(rt, server_endings);
                   if (Status s = svc->start(); !s) return s.error();
                   return std::unique_ptr<Service>(std::move(svc));
                 }});
    client = world.add_node(NodeSpec{"client", 1, false, {}});
  }
  Runtime& rt() { return world.runtime(client); }
  // One round trip on `s`; "ok" or how it failed.
  std::string ping(Stream& s, Duration timeout) {
    if (Status w = s.write("ping"); !w) return std::string(errc_name(w.code()));
    std::string got;
    char buf[16];
    while (got.size() < 4) {
      auto n = s.read(std::span<char>(buf, 4 - got.size()), rt().now() + timeout);
      if (!n) return std::string(errc_name(n.code()));
      if (*n == 0) return "eof";
      got.append(buf, *n);
    }
    return got == "ping" ? "ok" : "garbled";
  }
  FaultEvent partition(Duration at, Duration length) const {
    FaultEvent e;
    e.at = at;
    e.kind = FaultKind::partition;
    e.nodes = {client};
    e.duration = length;
    return e;
  }

  World world;
  NodeId server = 0, client = 0;
  std::vector<std::string> server_endings;
};

}  // namespace

TEST_CASE("sim: a link cut by two overlapping partitions stays cut until both ended", "[sim]") {
  EchoWorld w;
  FaultPlan plan;
  plan.events = {w.partition(1s, 2s), w.partition(2s, 4s)};  // [1, 3) and [2, 6)
  w.world.schedule_plan(plan);
  std::vector<std::string> log;  // a ping at 0.5 s, 1.5 s, ... 7.5 s
  w.world.spawn(w.client, 0, "client", [&] {
    auto s = w.rt().net().connect(Endpoint{"server", 7}, 1s);
    REQUIRE(s.ok());
    for (int i = 0; i < 8; ++i) {
      w.rt().sleep(instant_ns(500'000'000 + i * 1'000'000'000LL) - w.world.now());
      log.push_back(w.ping(**s, 500ms));
    }
  });
  w.world.run_until(instant_ns(20'000'000'000));
  // Cut from 1 s to 6 s: the first partition's end at 3 s heals nothing the
  // second still cuts. (After the heal the held echoes arrive: "ok".)
  REQUIRE(log == std::vector<std::string>{"ok", "timed out", "timed out", "timed out", "timed out",
                                          "timed out", "ok", "ok"});
  REQUIRE(w.world.coverage().count("fault:partition") == 2);
  // A 5 s cut, under the TCP timeout: nothing broke (the server saw only the client close).
  REQUIRE(std::count(w.server_endings.begin(), w.server_endings.end(), "timed out") == 0);
  REQUIRE(w.world.coverage().count("fault:tcp_timeout") == 0);
}

TEST_CASE("sim: a connection cut longer than the TCP timeout breaks on both ends", "[sim]") {
  EchoWorld w(2s);
  FaultPlan plan;
  plan.events = {w.partition(1s, 5s)};
  w.world.schedule_plan(plan);
  std::vector<std::string> client_log;
  Instant broke_at{};
  w.world.spawn(w.client, 0, "client", [&] {
    auto s = w.rt().net().connect(Endpoint{"server", 7}, 1s);
    REQUIRE(s.ok());
    REQUIRE(w.ping(**s, 1s) == "ok");
    w.rt().sleep(1s);                   // now cut
    REQUIRE((*s)->write("lost").ok());  // into the send buffer
    char buf[16];
    auto r = (*s)->read(buf);  // no deadline: only the TCP timeout ends it
    client_log.push_back(r.ok() ? "read" : std::string(errc_name(r.code())));
    broke_at = w.world.now();
    auto again = (*s)->read(buf);
    client_log.push_back(again.ok() && *again == 0 ? "eof" : "?");
    auto write = (*s)->write("more");
    client_log.push_back(write.ok() ? "written" : std::string(errc_name(write.code())));
    // After the heal a new connection works.
    w.rt().sleep(5s);
    auto fresh = w.rt().net().connect(Endpoint{"server", 7}, 1s);
    REQUIRE(fresh.ok());
    client_log.push_back(w.ping(**fresh, 1s));
  });
  w.world.run_until(instant_ns(30'000'000'000));
  REQUIRE(client_log == std::vector<std::string>{"timed out", "eof", "connection reset", "ok"});
  // Cut at 1 s, broken 2 s later (the client's clock is true).
  REQUIRE(to_ns(broke_at) >= 3'000'000'000);
  REQUIRE(to_ns(broke_at) < 3'100'000'000);
  // The server's end heard ETIMEDOUT too.
  REQUIRE(!w.server_endings.empty());
  REQUIRE(w.server_endings[0] == "timed out");
  REQUIRE(w.world.coverage().count("fault:tcp_timeout") == 1);
}

TEST_CASE("sim: a one-way cut breaks connections too (TCP needs its acknowledgements)", "[sim]") {
  EchoWorld w(2s);
  FaultEvent oneway;
  oneway.at = 1s;
  oneway.kind = FaultKind::partition_oneway;
  oneway.nodes = {w.server};
  oneway.to = {w.client};
  oneway.duration = 4s;
  FaultPlan plan;
  plan.events = {oneway};
  w.world.schedule_plan(plan);
  std::string outcome;
  w.world.spawn(w.client, 0, "client", [&] {
    auto s = w.rt().net().connect(Endpoint{"server", 7}, 1s);
    REQUIRE(s.ok());
    w.rt().sleep(1500ms);
    outcome = w.ping(**s, 10s);
  });
  w.world.run_until(instant_ns(20'000'000'000));
  REQUIRE(outcome == "timed out");
  REQUIRE(w.world.coverage().count("fault:tcp_timeout") == 1);
}

TEST_CASE(
    "sim: a machine powered off goes silent: a connect to it times out and its connections break "
    "by the TCP timeout, not by a reset; powered on, it answers again",
    "[sim]") {
  EchoWorld w(2s);
  std::vector<std::string> log;
  Instant broke_at{}, refused_at{};
  w.world.spawn(w.client, 0, "client", [&] {
    auto s = w.rt().net().connect(Endpoint{"server", 7}, 1s);
    REQUIRE(s.ok());
    log.push_back(w.ping(**s, 1s));
    w.rt().sleep(instant_ns(2'000'000'000) - w.world.now());  // powered off at 1 s
    char buf[16];
    auto r = (*s)->read(buf);  // no deadline: only the TCP timeout ends it
    log.push_back(r.ok() ? "read" : std::string(errc_name(r.code())));
    broke_at = w.world.now();
    auto again = w.rt().net().connect(Endpoint{"server", 7}, 1s);
    log.push_back(again.ok() ? "connected" : std::string(errc_name(again.code())));
    refused_at = w.world.now();
    w.rt().sleep(instant_ns(7'000'000'000) - w.world.now());  // powered on at 5 s
    auto fresh = w.rt().net().connect(Endpoint{"server", 7}, 1s);
    REQUIRE(fresh.ok());
    log.push_back(w.ping(**fresh, 1s));
  });
  w.world.run_until(instant_ns(1'000'000'000));
  w.world.power_off(w.server);
  w.world.run_until(instant_ns(5'000'000'000));
  w.world.power_on(w.server);
  w.world.run_until(instant_ns(10'000'000'000));
  REQUIRE(log == std::vector<std::string>{"ok", "timed out", "timed out", "ok"});
  // Unplugged at 1 s, broken 2 s later; the connect waited out its whole second.
  REQUIRE(to_ns(broke_at) >= 3'000'000'000);
  REQUIRE(to_ns(broke_at) < 3'100'000'000);
  REQUIRE(to_ns(refused_at) - to_ns(broke_at) >= 1'000'000'000);
  REQUIRE(w.world.coverage().count("fault:tcp_timeout") == 1);
}

TEST_CASE("sim: a node's clock runs at its own rate; its sleeps and deadlines follow it", "[sim]") {
  World world(WorldOptions{2});
  const NodeId fast = world.add_node(NodeSpec{"fast", 1, false, {}});
  const NodeId slow = world.add_node(NodeSpec{"slow", 1, false, {}});
  FaultEvent skew;
  skew.kind = FaultKind::clock_skew;
  skew.nodes = {fast};
  skew.drift_ppm = 50'000;  // 5 % fast
  world.apply(skew);
  skew.nodes = {slow};
  skew.drift_ppm = -50'000;
  world.apply(skew);
  Instant fast_woke{}, slow_woke{}, fast_read{};
  world.spawn(fast, 0, "sleeper", [&] {
    world.runtime(fast).sleep(10s);
    fast_woke = world.now();
    fast_read = world.runtime(fast).now();
  });
  world.spawn(slow, 0, "sleeper", [&] {
    Waiter w;
    world.runtime(slow).park(w, world.runtime(slow).now() + 10s);
    slow_woke = world.now();
  });
  world.run_until(instant_ns(30'000'000'000));
  // 10 s on a clock 5 % fast: 9.524 s of true time; 5 % slow: 10.526 s.
  REQUIRE(to_ns(fast_woke) == 9'523'809'524);
  REQUIRE(to_ns(slow_woke) == 10'526'315'790);
  REQUIRE(to_ns(fast_read) == 10'000'000'000);
}

TEST_CASE("sim: a rate change under a sleeping fiber moves its wake-up; monotonic stays monotonic",
          "[sim]") {
  World world(WorldOptions{3});
  const NodeId n = world.add_node(NodeSpec{"n", 1, false, {}});
  const NodeId true_clock = world.add_node(NodeSpec{"true", 1, false, {}});
  Instant woke{}, read_at_wake{};
  std::vector<Instant> readings;
  world.spawn(n, 0, "sleeper", [&] {
    world.runtime(n).sleep(10s);
    woke = world.now();
    read_at_wake = world.runtime(n).now();
  });
  world.spawn(n, 0, "reader", [&] {
    for (int i = 0; i < 100; ++i) {
      readings.push_back(world.runtime(n).now());
      world.runtime(n).sleep(100ms);
    }
  });
  FaultEvent skew;
  skew.kind = FaultKind::clock_skew;
  skew.nodes = {n};
  skew.offset = -5s;  // the wall clock steps back; the monotonic clock must not
  skew.drift_ppm = 100'000;
  world.run_until(instant_ns(4'000'000'000));
  const WallTime wall_before = world.runtime(n).wall_now();
  world.apply(skew);  // at 4 s: 6 s left on the node's clock, 5.45 s of true time
  REQUIRE(world.runtime(n).wall_now() < wall_before);
  world.run_until(instant_ns(30'000'000'000));
  REQUIRE(to_ns(read_at_wake) == 10'000'000'000);
  REQUIRE(to_ns(woke) == 4'000'000'000 + 5'454'545'455);
  for (std::size_t i = 1; i < readings.size(); ++i) REQUIRE(readings[i] > readings[i - 1]);
  // The quiet phase: true rate and true wall time again.
  world.quiesce();
  const Instant t0 = world.runtime(n).now();
  const Instant w0 = world.now();
  world.run_until(w0 + 1s);
  REQUIRE(world.runtime(n).now() - t0 == 1s);
  REQUIRE(world.runtime(n).wall_now() == world.runtime(true_clock).wall_now());
}

TEST_CASE("sim: fsyncgate: a failed datasync drops the dirty pages; the next one succeeds",
          "[sim]") {
  AmbientFaults ambient;
  ambient.disk_fsyncgate = true;
  int dropped_runs = 0;
  for (std::uint64_t seed = 0; seed < 20 && dropped_runs < 3; ++seed) {
    World world(WorldOptions{seed, ambient});
    const NodeId n = world.add_node(NodeSpec{"n", 1, true, {}});
    std::string fate;
    world.spawn(n, 0, "writer", [&] {
      FileSystem& fs = world.runtime(n).fs();
      auto f = fs.open("data", OpenOptions{.create = true});
      REQUIRE(f.ok());
      REQUIRE(fs.sync_dir("").ok());
      for (int i = 0; i < 2000; ++i) {
        const std::string page(512, static_cast<char>('a' + i % 26));
        REQUIRE((*f)->pwrite(page, 0).ok());
        if (Status s = (*f)->datasync(); s) continue;
        // The failed page is gone from the cache too: reads show the disk.
        char back[512] = {};
        auto n = (*f)->pread(back, 0);
        REQUIRE(n.ok());
        REQUIRE(std::string_view(back, *n) != page);
        REQUIRE((*f)->datasync().ok());  // "succeeds", without the page
        fate = "dropped";
        return;
      }
    });
    world.run_until(instant_ns(10'000'000'000));
    if (fate != "dropped") continue;
    ++dropped_runs;
    REQUIRE(world.coverage().count("fault:disk_fsyncgate") == 1);
  }
  REQUIRE(dropped_runs == 3);
}

TEST_CASE("sim: a full disk refuses writes, creates and renames until it heals", "[sim]") {
  World world(WorldOptions{4});
  const NodeId n = world.add_node(NodeSpec{"n", 1, true, {}});
  std::vector<std::string> log;
  world.spawn(n, 0, "writer", [&] {
    FileSystem& fs = world.runtime(n).fs();
    auto f = fs.open("data", OpenOptions{.create = true});
    REQUIRE(f.ok());
    REQUIRE((*f)->pwrite("before", 0).ok());
    FaultEvent full;
    full.kind = FaultKind::disk_full;
    full.nodes = {n};
    full.duration = 1s;
    world.apply(full);
    auto name = [](Status s) { return s ? std::string("ok") : std::string(errc_name(s.code())); };
    log.push_back(name((*f)->pwrite("during", 0)));
    auto other = fs.open("other", OpenOptions{.create = true});
    log.push_back(other ? std::string("ok") : std::string(errc_name(other.code())));
    log.push_back(name(fs.rename("data", "renamed")));
    log.push_back(name(fs.make_dir("dir")));
    log.push_back(name((*f)->datasync()));
    log.push_back(name((*f)->truncate(3)));
    world.runtime(n).sleep(2s);
    log.push_back(name((*f)->pwrite("after", 0)));
  });
  world.run_until(instant_ns(5'000'000'000));
  REQUIRE(log == std::vector<std::string>{"no space", "no space", "no space", "no space", "ok",
                                          "ok", "ok"});
}

TEST_CASE("sim: coverage counts the faults that fired, not the ones switched on", "[sim]") {
  AmbientFaults ambient;
  ambient.latency = true;
  ambient.split_reads = true;
  // 200 round trips; the counts of the latency and split-read probes.
  auto run = [](AmbientFaults faults) {
    EchoWorld w(20s, faults);
    w.world.schedule_plan(FaultPlan{faults, {}});
    w.world.spawn(w.client, 0, "client", [&w] {
      auto s = w.rt().net().connect(Endpoint{"server", 7}, 1s);
      REQUIRE(s.ok());
      for (int i = 0; i < 200; ++i) REQUIRE(w.ping(**s, 2s) == "ok");
    });
    w.world.run_until(instant_ns(60'000'000'000));
    return std::pair(w.world.coverage().count("fault:latency"),
                     w.world.coverage().count("fault:split_reads"));
  };
  REQUIRE(run(AmbientFaults{}) == std::pair<std::uint64_t, std::uint64_t>(0, 0));
  // 400 writes with the latency fault: about 8 spikes (one in 50), not 1 and not 400.
  const auto [spikes, splits] = run(ambient);
  REQUIRE(spikes > 0);
  REQUIRE(spikes < 40);
  REQUIRE(splits > 10);
}
