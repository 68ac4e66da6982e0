// One contract, every backend: the same cases run on the simulator and on the
// real runtime (epoll, io_uring). This suite is the proof that component code
// behaves the same in both worlds.

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <thread>

#include "runtime/channel.h"
#include "runtime/future.h"
#include "runtime/real/core.h"
#include "runtime/real/real_runtime.h"
#include "runtime/sync.h"
#include "sim/world.h"

using namespace doppel;
using namespace std::chrono_literals;

namespace {

struct Checks {
  std::vector<std::string> failures;
  void expect(bool ok, const std::string& what) {
    if (!ok) failures.push_back(what);
  }
};

using Body = std::function<void(Runtime&, const std::string& host, Checks&)>;

// Runs `body` in a fiber on core 0 of a fresh runtime of the given backend.
Checks run_on_backend(const std::string& backend, CoreId cores, const Body& body) {
  Checks checks;
  if (backend == "sim") {
    sim::World world(sim::WorldOptions{11});
    const sim::NodeId n = world.add_node(sim::NodeSpec{"node", cores, false, {}});
    bool done = false;
    world.spawn(n, 0, "contract", [&] {
      body(world.runtime(n), "node", checks);
      done = true;
    });
    world.run_until(instant_ns(3600'000'000'000), [&] { return done; });
    checks.expect(done, "the body did not finish in one simulated hour");
    return checks;
  }
  const std::string dir = std::filesystem::temp_directory_path().string() + "/doppel-contract-" +
                          std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  real::RealRuntime rt(real::RealOptions{cores, false, backend, dir, false});
  Status s = rt.start();
  if (!s) {
    checks.failures.push_back("cannot start " + backend + ": " + s.error().message());
    return checks;
  }
  rt.run_blocking(0, [&] { body(rt, "127.0.0.1", checks); });
  rt.stop();
  std::filesystem::remove_all(dir);
  return checks;
}

// Starts `start` in a fiber on core 0 of a fresh runtime, lets it return, then
// stops the runtime (the simulator: every fiber of the world cancelled) and
// runs `after_stop` outside any fiber.
Checks start_then_stop(const std::string& backend, CoreId cores, const Body& start,
                       const std::function<void(Checks&)>& after_stop) {
  Checks checks;
  if (backend == "sim") {
    sim::World world(sim::WorldOptions{11});
    const sim::NodeId n = world.add_node(sim::NodeSpec{"node", cores, false, {}});
    bool started = false;
    world.spawn(n, 0, "contract", [&] {
      start(world.runtime(n), "node", checks);
      started = true;
    });
    world.run_until(instant_ns(60'000'000'000), [&] { return started; });
    checks.expect(started, "the start did not finish in a simulated minute");
    checks.expect(world.shutdown(), "a fiber did not unwind when the world shut down");
    after_stop(checks);
    return checks;
  }
  const std::string dir = std::filesystem::temp_directory_path().string() + "/doppel-contract-" +
                          std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  real::RealRuntime rt(real::RealOptions{cores, false, backend, dir, false});
  Status s = rt.start();
  if (!s) {
    checks.failures.push_back("cannot start " + backend + ": " + s.error().message());
    return checks;
  }
  rt.run_blocking(0, [&] { start(rt, "127.0.0.1", checks); });
  rt.stop();
  after_stop(checks);
  std::filesystem::remove_all(dir);
  return checks;
}

void require_clean(const Checks& c) {
  for (const auto& f : c.failures) UNSCOPED_INFO(f);
  REQUIRE(c.failures.empty());
}

std::vector<std::string> backends() {
  return {"sim", "epoll", "uring"};
}

}  // namespace

TEST_CASE("contract: sleep lets time pass on both clocks", "[contract]") {
  const std::string backend = GENERATE(from_range(backends()));
  INFO("backend " << backend);
  require_clean(run_on_backend(backend, 1, [](Runtime& rt, const std::string&, Checks& c) {
    const Instant t0 = rt.now();
    rt.sleep(20ms);
    const Duration slept = rt.now() - t0;
    c.expect(slept >= 20ms, "slept less than asked");
    c.expect(slept < 2s, "slept far too long");
    c.expect(rt.wall_now().time_since_epoch() > Duration(1'600'000'000LL * 1'000'000'000),
             "wall clock before 2020");
  }));
}

TEST_CASE("contract: spawned fibers run and a channel keeps order and bounds", "[contract]") {
  const std::string backend = GENERATE(from_range(backends()));
  INFO("backend " << backend);
  require_clean(run_on_backend(backend, 1, [](Runtime& rt, const std::string&, Checks& c) {
    Channel<int> ch(rt, 2);
    rt.spawn("producer", [&] {
      for (int i = 0; i < 100; ++i) ch.push(i);
      ch.close();
    });
    int expected = 0;
    while (auto v = ch.pop()) {
      c.expect(*v == expected, "out of order");
      c.expect(ch.size() <= 2, "over capacity");
      ++expected;
    }
    c.expect(expected == 100, "lost values");
    Channel<int> empty(rt, 1);
    c.expect(!empty.pop(rt.now() + 10ms).has_value(), "a timed pop on an empty channel returned");
    c.expect(empty.try_push(1) && !empty.try_push(2), "try_push ignored the bound");
  }));
}

TEST_CASE("contract: run_on runs on the named core and returns to the caller's", "[contract]") {
  const std::string backend = GENERATE(from_range(backends()));
  INFO("backend " << backend);
  require_clean(run_on_backend(backend, 3, [](Runtime& rt, const std::string&, Checks& c) {
    for (CoreId target = 0; target < 3; ++target) {
      auto f = run_on(rt, target, [&rt] { return rt.this_core(); });
      auto got = f.get(rt.now() + 5s);
      c.expect(got.has_value() && *got == target, "run_on ran on the wrong core");
      c.expect(rt.this_core() == 0, "the caller moved cores");
    }
    // Many in flight at once, from one core to all.
    std::vector<Future<int>> futures;
    for (int i = 0; i < 300; ++i) {
      futures.push_back(run_on(rt, static_cast<CoreId>(i % 3), [i] { return i * 2; }));
    }
    for (int i = 0; i < 300; ++i) {
      auto v = futures[static_cast<std::size_t>(i)].get(rt.now() + 5s);
      c.expect(v.has_value() && *v == i * 2, "a run_on result went missing");
    }
  }));
}

TEST_CASE("contract: call_on runs a posted task on the named core and hands its value back",
          "[contract]") {
  const std::string backend = GENERATE(from_range(backends()));
  INFO("backend " << backend);
  require_clean(run_on_backend(backend, 3, [](Runtime& rt, const std::string&, Checks& c) {
    std::vector<Future<std::pair<int, CoreId>>> futures;
    for (int i = 0; i < 300; ++i) {
      futures.push_back(call_on(rt, static_cast<CoreId>(i % 3), [&rt, i] {
        return std::pair<int, CoreId>(i * 2, rt.this_core());
      }));
    }
    for (int i = 0; i < 300; ++i) {
      auto v = futures[static_cast<std::size_t>(i)].get(rt.now() + 5s);
      c.expect(v.has_value() && v->first == i * 2, "a call_on result went missing");
      c.expect(v.has_value() && v->second == static_cast<CoreId>(i % 3),
               "call_on ran on the wrong core");
    }
    c.expect(rt.this_core() == 0, "the caller moved cores");
  }));
}

TEST_CASE("contract: mutex and condition order fibers", "[contract]") {
  const std::string backend = GENERATE(from_range(backends()));
  INFO("backend " << backend);
  require_clean(run_on_backend(backend, 1, [](Runtime& rt, const std::string&, Checks& c) {
    Mutex m(rt);
    Condition cond(rt);
    int inside = 0, done = 0;
    for (int i = 0; i < 5; ++i) {
      rt.spawn("worker", [&] {
        LockGuard g(m);
        ++inside;
        c.expect(inside == 1, "two fibers inside the mutex");
        rt.sleep(1ms);
        --inside;
        ++done;
        cond.notify_all();
      });
    }
    while (done < 5) cond.wait(rt.now() + 5s);
    c.expect(done == 5, "workers did not finish");
  }));
}

TEST_CASE("contract: a stream carries a megabyte both ways through partial reads", "[contract]") {
  const std::string backend = GENERATE(from_range(backends()));
  INFO("backend " << backend);
  require_clean(run_on_backend(backend, 1, [](Runtime& rt, const std::string& host, Checks& c) {
    auto l = rt.net().listen(Endpoint{host, 0}, ListenOptions{});
    c.expect(l.ok(), "listen failed");
    if (!l) return;
    const Endpoint at = (*l)->local();
    rt.spawn("echo", [&] {
      auto s = (*l)->accept(rt.now() + 5s);
      if (!s) return;
      char buf[4096];
      for (;;) {
        auto n = (*s)->read(buf, rt.now() + 5s);
        if (!n || *n == 0) break;
        if (!(*s)->write(std::string_view(buf, *n))) break;
      }
      (*s)->close();
    });
    auto s = rt.net().connect(at, 5s);
    c.expect(s.ok(), "connect failed");
    if (!s) return;
    std::string sent(1 << 20, '\0');
    for (std::size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>(i * 7 + i / 255);
    rt.spawn("writer", [&] { c.expect((*s)->write(sent).ok(), "write failed"); });
    std::string got;
    int reads = 0;
    char buf[65536];
    while (got.size() < sent.size()) {
      auto n = (*s)->read(buf, rt.now() + 5s);
      if (!n || *n == 0) break;
      got.append(buf, *n);
      ++reads;
    }
    c.expect(got == sent, "the bytes came back different");
    c.expect(reads > 1, "one read returned everything: partial reads were not exercised");
    (*s)->close();
    c.expect(!(*s)->read(buf).ok(), "read after close succeeded");
  }));
}

TEST_CASE("contract: a read finds the end of a stream whose last bytes came with the peer's close",
          "[contract]") {
  const std::string backend = GENERATE(from_range(backends()));
  INFO("backend " << backend);
  require_clean(run_on_backend(backend, 1, [](Runtime& rt, const std::string& host, Checks& c) {
    auto l = rt.net().listen(Endpoint{host, 0}, ListenOptions{});
    c.expect(l.ok(), "listen failed");
    if (!l) return;
    const Endpoint at = (*l)->local();
    rt.spawn("answer-and-close", [&] {
      auto s = (*l)->accept(rt.now() + 5s);
      if (!s) return;
      (void)(*s)->write("the last bytes");
      (*s)->close();
    });
    auto s = rt.net().connect(at, 5s);
    c.expect(s.ok(), "connect failed");
    if (!s) return;
    // The bytes and the close arrive before the first read: one readiness edge for both.
    rt.sleep(50ms);
    char buf[4096];  // more than was sent: a short read
    auto n = (*s)->read(buf, rt.now() + 5s);
    c.expect(n.ok() && *n == 14, "the bytes did not arrive");
    const Instant before = rt.now();
    auto end = (*s)->read(buf, rt.now() + 5s);
    c.expect(end.ok() && *end == 0, "the end of the stream was not read");
    c.expect(rt.now() - before < 1s, "the read of the end waited for an edge that never comes");
  }));
}

TEST_CASE("contract: refused, reset and timed-out connections are error values", "[contract]") {
  const std::string backend = GENERATE(from_range(backends()));
  INFO("backend " << backend);
  require_clean(run_on_backend(backend, 1, [](Runtime& rt, const std::string& host, Checks& c) {
    Endpoint closed_port;
    {
      auto l = rt.net().listen(Endpoint{host, 0}, ListenOptions{});
      closed_port = (*l)->local();
    }
    auto refused = rt.net().connect(closed_port, 2s);
    c.expect(!refused.ok() && refused.code() == Errc::refused,
             "connect to a closed port was not refused");

    auto l = rt.net().listen(Endpoint{host, 0}, ListenOptions{});
    const Endpoint at = (*l)->local();
    auto s = rt.net().connect(at, 2s);
    auto server = (*l)->accept(rt.now() + 2s);
    c.expect(s.ok() && server.ok(), "connect/accept failed");
    if (!s || !server) return;
    char buf[16];
    auto timed = (*s)->read(buf, rt.now() + 20ms);
    c.expect(!timed.ok() && timed.code() == Errc::timed_out,
             "a read with nothing to read did not time out");

    // Closing with unread bytes resets the connection (as Linux does).
    c.expect((*s)->write("unread").ok(), "write failed");
    rt.sleep(20ms);
    (*server)->close();
    rt.sleep(20ms);
    auto after = (*s)->read(buf, rt.now() + 2s);
    c.expect(!after.ok() && after.code() == Errc::reset,
             "no reset after the peer closed with unread data");

    auto reuse1 = rt.net().listen(Endpoint{host, 0}, ListenOptions{true, 16});
    auto reuse2 = rt.net().listen(Endpoint{host, (*reuse1)->local().port}, ListenOptions{true, 16});
    c.expect(reuse2.ok(), "a second reuse_port listener was refused");
    auto taken = rt.net().listen(Endpoint{host, at.port}, ListenOptions{});
    c.expect(!taken.ok() && taken.code() == Errc::address_in_use,
             "a taken port was not address_in_use");
  }));
}

TEST_CASE("contract: files read, write, sync, punch, truncate, rename, list and remove",
          "[contract]") {
  const std::string backend = GENERATE(from_range(backends()));
  INFO("backend " << backend);
  require_clean(run_on_backend(backend, 1, [](Runtime& rt, const std::string&, Checks& c) {
    FileSystem& fs = rt.fs();
    c.expect(fs.make_dir("d").ok() && fs.make_dir("d").ok(), "make_dir is not idempotent");
    auto missing = fs.open("d/none", OpenOptions{});
    c.expect(!missing.ok() && missing.code() == Errc::not_found, "opening a missing file");
    auto f = fs.open("d/a", OpenOptions{.create = true, .exclusive = true});
    c.expect(f.ok(), "create failed");
    if (!f) return;
    auto again = fs.open("d/a", OpenOptions{.create = true, .exclusive = true});
    c.expect(!again.ok() && again.code() == Errc::exists, "exclusive create of an existing file");
    const std::string data(3 * 4096, 'x');
    c.expect((*f)->pwrite(data, 0).ok() && (*f)->datasync().ok(), "write + sync");
    c.expect((*f)->size().ok() && *(*f)->size() == data.size(), "size after write");
    c.expect((*f)->punch_hole(4096, 4096).ok(), "punch_hole");
    std::string back(data.size(), '?');
    auto n = (*f)->pread(back, 0);
    c.expect(n.ok() && *n == data.size(), "read back");
    c.expect(back.substr(0, 4096) == std::string(4096, 'x'), "data before the hole");
    c.expect(back.substr(4096, 4096) == std::string(4096, '\0'), "the hole reads as zeros");
    c.expect(*(*f)->size() == data.size(), "punching changed the size");
    c.expect((*f)->truncate(100).ok() && *(*f)->size() == 100, "truncate");
    char tail[10];
    c.expect(*(*f)->pread(tail, 95) == 5, "a read past the end is short");
    c.expect(fs.rename("d/a", "d/b").ok(), "rename");
    auto names = fs.list("d");
    c.expect(names.ok() && *names == std::vector<std::string>{"b"}, "list after rename");
    c.expect(fs.sync_dir("d").ok(), "sync_dir");
    c.expect(fs.remove("d/b").ok(), "remove");
    c.expect(fs.list("d")->empty(), "list after remove");
    auto gone = fs.remove("d/b");
    c.expect(!gone.ok() && gone.code() == Errc::not_found, "removing a missing file");
    c.expect(fs.remove("d").ok(), "removing an empty directory");
    c.expect(!fs.open("d/c", OpenOptions{.create = true}).ok(), "the directory is still there");
    c.expect(!fs.open("../escape", OpenOptions{.create = true}).ok(), "a path escaped the root");
  }));
}

TEST_CASE("contract: a core runs its other fibers while a large write and a sync are in flight",
          "[contract]") {
  const std::string backend = GENERATE(from_range(backends()));
  INFO("backend " << backend);
  require_clean(run_on_backend(backend, 1, [backend](Runtime& rt, const std::string&, Checks& c) {
    auto f = rt.fs().open("big", OpenOptions{.create = true});
    c.expect(f.ok(), "create failed");
    if (!f) return;
    int ticks = 0;
    bool writing = true;
    rt.spawn("ticker", [&] {
      while (writing) {
        ++ticks;
        rt.sleep(Duration(0));
      }
    });
    std::string data(8u << 20, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 % 251);
    for (int round = 0; round < 4; ++round) {
      c.expect((*f)->pwrite(data, std::uint64_t{data.size()} * static_cast<unsigned>(round)).ok() &&
                   (*f)->datasync().ok(),
               "write + sync");
    }
    writing = false;
    std::string back(data.size(), '?');
    auto n = (*f)->pread(back, 3 * data.size());
    c.expect(n.ok() && *n == data.size() && back == data, "the last 8 MiB read back differently");
    // The simulated disk answers at once unless a latency fault is on: only real disks wait.
    if (backend != "sim")
      c.expect(ticks > 0, "no other fiber ran while the writes and syncs were in flight");
  }));
}

// --- buggify, stop and cancellation, ports, the wall clock, full queues

namespace {
const BuggifySite kContractSite{"test.contract.never_fires",
                                "nothing: the contract suite asks whether it fires"};
}  // namespace

TEST_CASE("contract: buggify never fires outside a simulation that switches it on", "[contract]") {
  const std::string backend = GENERATE(from_range(backends()));
  INFO("backend " << backend);
  require_clean(run_on_backend(backend, 1, [](Runtime& rt, const std::string&, Checks& c) {
    int fired = 0;
    for (int i = 0; i < 10'000; ++i) fired += buggify(rt, kContractSite) ? 1 : 0;
    c.expect(fired == 0, std::to_string(fired) + " firings with buggify off");
    c.expect(find_buggify_site("test.contract.never_fires") == &kContractSite,
             "the site is not registered by name");
  }));
}

TEST_CASE("contract: a parked fiber of a stopping runtime wakes with Cancelled and unwinds",
          "[contract]") {
  const std::string backend = GENERATE(from_range(backends()));
  INFO("backend " << backend);
  // Touched from every core's thread on the real runtime.
  auto cancelled = std::make_shared<std::atomic<int>>(0);
  auto unwound = std::make_shared<std::atomic<int>>(0);
  auto ran_on = std::make_shared<std::atomic<int>>(0);
  constexpr CoreId kCores = 2;
  constexpr int kWaitsPerCore = 4;
  const Body start = [=](Runtime& rt, const std::string&, Checks&) {
    struct Unwound {
      std::shared_ptr<std::atomic<int>> count;
      ~Unwound() { ++*count; }
    };
    // Each waits on another primitive; each catches Cancelled, waits again (which must
    // throw at once, not hang) and lets it go.
    auto wait = [=](Runtime& r, std::function<void()> block) {
      Unwound guard{unwound};
      try {
        block();
      } catch (const Cancelled&) {
        ++*cancelled;
        r.sleep(std::chrono::hours(1));  // a stopping runtime never parks again
        ++*ran_on;                       // not reached
      }
    };
    for (CoreId core = 0; core < kCores; ++core) {
      rt.spawn_on(core, "sleeper",
                  [=, &rt] { wait(rt, [&] { rt.sleep(std::chrono::hours(1)); }); });
      rt.spawn_on(core, "popper", [=, &rt] {
        Channel<int> ch(rt, 1);
        wait(rt, [&] { (void)ch.pop(); });
      });
      rt.spawn_on(core, "waiter", [=, &rt] {
        Condition cond(rt);
        wait(rt, [&] { (void)cond.wait(); });
      });
      rt.spawn_on(core, "future", [=, &rt] {
        Promise<int> promise(rt);
        Future<int> future = promise.future();
        wait(rt, [&] { (void)future.get(); });
      });
    }
    rt.sleep(std::chrono::milliseconds(50));  // every waiter parked by now
  };
  require_clean(start_then_stop(backend, kCores, start, [=](Checks& c) {
    c.expect(cancelled->load() == kCores * kWaitsPerCore,
             std::to_string(cancelled->load()) + " waits ended with Cancelled");
    c.expect(unwound->load() == kCores * kWaitsPerCore,
             std::to_string(unwound->load()) + " fibers unwound");
    c.expect(ran_on->load() == 0, "a cancelled fiber parked again and went on");
  }));
}

TEST_CASE("contract: a reuse_port listener on a port a plain listener holds is address_in_use",
          "[contract]") {
  const std::string backend = GENERATE(from_range(backends()));
  INFO("backend " << backend);
  require_clean(run_on_backend(backend, 1, [](Runtime& rt, const std::string& host, Checks& c) {
    auto plain = rt.net().listen(Endpoint{host, 0}, ListenOptions{});
    c.expect(plain.ok(), "listen failed");
    if (!plain) return;
    const Endpoint at = (*plain)->local();
    auto shared = rt.net().listen(at, ListenOptions{true, 16});
    c.expect(!shared.ok() && shared.code() == Errc::address_in_use,
             "a reuse_port listener shared a port with a plain one");
    // And the other way round: a plain listener on a reuse_port group's port.
    auto group = rt.net().listen(Endpoint{host, 0}, ListenOptions{true, 16});
    c.expect(group.ok(), "reuse_port listen failed");
    if (!group) return;
    auto intruder = rt.net().listen((*group)->local(), ListenOptions{});
    c.expect(!intruder.ok() && intruder.code() == Errc::address_in_use,
             "a plain listener joined a reuse_port group");
    // Once the plain listener is gone, its port is free again.
    (*plain)->close();
    plain->reset();
    auto again = rt.net().listen(at, ListenOptions{true, 16});
    c.expect(again.ok(), "the port stayed taken after its listener closed");
  }));
}

TEST_CASE("contract: the wall clock tells the time and moves with the monotonic one",
          "[contract]") {
  const std::string backend = GENERATE(from_range(backends()));
  INFO("backend " << backend);
  require_clean(run_on_backend(backend, 1, [backend](Runtime& rt, const std::string&, Checks& c) {
    const WallTime w0 = rt.wall_now();
    const Instant t0 = rt.now();
    if (backend != "sim") {
      // The machine's own clock (the simulator keeps a virtual one, from 2026).
      const auto system =
          std::chrono::duration_cast<Duration>(std::chrono::system_clock::now().time_since_epoch());
      const Duration off = w0.time_since_epoch() - system;
      c.expect(off < 2s && off > -2s, "wall_now() is far from the system clock");
    }
    rt.sleep(1s);
    const Duration wall_moved = rt.wall_now() - w0;
    const Duration mono_moved = rt.now() - t0;
    c.expect(wall_moved >= 900ms && wall_moved < 3s, "the wall clock did not move about 1 s");
    const Duration apart = wall_moved - mono_moved;
    c.expect(apart < 100ms && apart > -100ms, "the wall and monotonic clocks ran apart");
  }));
}

TEST_CASE("contract: more posts than a cross-core queue holds arrive, all and in order",
          "[contract]") {
  const std::string backend = GENERATE(from_range(backends()));
  INFO("backend " << backend);
  require_clean(run_on_backend(backend, 2, [](Runtime& rt, const std::string&, Checks& c) {
    // Three times the real runtime's queue (real::Core::kInboxSlots), sent while the
    // receiving core is busy, so the queue fills and the sender must wait for room.
    constexpr int kPosts = 3 * static_cast<int>(real::Core::kInboxSlots);
    auto got = std::make_shared<std::vector<int>>();  // touched on core 1 only
    got->reserve(kPosts);
    rt.post(1, [] { std::this_thread::sleep_for(std::chrono::milliseconds(100)); });
    for (int i = 0; i < kPosts; ++i) rt.post(1, [got, i] { got->push_back(i); });
    std::size_t seen = 0;
    for (int tries = 0; tries < 500 && seen < kPosts; ++tries) {
      seen = run_on(rt, 1, [got] { return got->size(); }).get(rt.now() + 5s).value_or(0);
      if (seen < kPosts) rt.sleep(10ms);
    }
    c.expect(seen == kPosts, std::to_string(seen) + " of " + std::to_string(kPosts) + " arrived");
    const bool in_order = run_on(rt, 1,
                                 [got] {
                                   for (std::size_t i = 0; i < got->size(); ++i) {
                                     if ((*got)[i] != static_cast<int>(i)) return false;
                                   }
                                   return true;
                                 })
                              .get(rt.now() + 5s)
                              .value_or(false);
    c.expect(in_order, "posts from one core to another arrived out of order");
  }));
}
