// doppel bench runtime: the real runtime's own costs, epoll against io_uring.
//  - run_on round trip: core 0 asks core 1 for a value and waits, both cores
//    busy (never asleep), so this is the queue and scheduling cost alone;
//  - cross-core wake-up: core 1 asleep in the reactor; the time from post()
//    on core 0 to the task running on core 1 (eventfd or ring wake-up);
//  - echo over loopback: closed-loop clients on their own runtime, a 32-byte
//    request and its echo; requests/s and exact p50/p99.

#include <algorithm>
#include <atomic>
#include <boost/fiber/operations.hpp>
#include <cstdio>
#include <thread>

#include "cli/cli.h"
#include "cli/commands.h"
#include "runtime/future.h"
#include "runtime/real/real_runtime.h"

namespace doppel::cli {
namespace {

using namespace std::chrono_literals;

std::int64_t percentile(std::vector<std::int64_t>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i =
      std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

struct Row {
  std::string backend;
  double run_on_ns = 0;
  std::int64_t wake_p50 = 0, wake_p99 = 0;
  double echo_rps = 0;
  std::int64_t echo_p50 = 0, echo_p99 = 0;
};

void measure_cores(const std::string& backend, bool pin, Row& row) {
  real::RealRuntime rt(real::RealOptions{2, pin, backend, "/tmp", false});
  if (!rt.start()) return;
  std::atomic<bool> busy{true};
  rt.run_blocking(0, [&] {
    // Keep both cores awake for the round-trip measurement: no eventfd.
    auto spin = [&] {
      while (busy.load(std::memory_order_relaxed)) boost::this_fiber::yield();
    };
    rt.spawn_on(1, "spin", spin);
    rt.spawn("spin", spin);
    constexpr int kRounds = 50'000;
    const Instant t0 = rt.now();
    for (int i = 0; i < kRounds; ++i) (void)run_on(rt, 1, [] { return 1; }).get();
    row.run_on_ns = static_cast<double>((rt.now() - t0).count()) / kRounds;
    busy = false;
    rt.sleep(10ms);
    std::vector<std::int64_t> wake;
    for (int i = 0; i < 2000; ++i) {
      rt.sleep(200us);  // long enough for core 1 to fall asleep
      Promise<std::int64_t> p(rt);
      auto f = p.future();
      const Instant sent = rt.now();
      rt.spawn_on(1, "wake", [&rt, sent, p = std::move(p)]() mutable {
        const std::int64_t latency = (rt.now() - sent).count();
        rt.post(0, [p = std::move(p), latency]() mutable { p.set(latency); });
      });
      if (auto v = f.get(rt.now() + 1s)) wake.push_back(*v);
    }
    row.wake_p50 = percentile(wake, 0.5);
    row.wake_p99 = percentile(wake, 0.99);
  });
  rt.stop();
}

void measure_echo(const std::string& backend, int connections, Duration span, Row& row) {
  real::RealRuntime server(real::RealOptions{1, false, backend, "/tmp", false});
  real::RealRuntime client(real::RealOptions{1, false, backend, "/tmp", false});
  if (!server.start() || !client.start()) return;
  std::unique_ptr<Listener> listener;
  Endpoint at;
  server.run_blocking(0, [&] {
    auto l = server.net().listen(Endpoint{"127.0.0.1", 0}, ListenOptions{true, 1024});
    if (!l) return;
    listener = std::move(*l);
    at = listener->local();
    server.spawn("accept", [&] {
      for (;;) {
        auto s = listener->accept();
        if (!s) return;
        server.spawn("echo", [s = std::shared_ptr<Stream>(std::move(*s))] {
          char buf[4096];
          for (;;) {
            auto n = s->read(buf);
            if (!n || *n == 0 || !s->write(std::string_view(buf, *n))) return;
          }
        });
      }
    });
  });
  std::vector<std::int64_t> latencies;
  std::uint64_t done = 0;
  client.run_blocking(0, [&] {
    int finished = 0;
    Condition all_done(client);
    const Instant end = client.now() + span;
    for (int c = 0; c < connections; ++c) {
      client.spawn("client", [&] {
        auto s = client.net().connect(at, 2s);
        if (s) {
          const std::string request(32, 'r');
          char buf[64];
          while (client.now() < end) {
            const Instant t0 = client.now();
            if (!(*s)->write(request)) break;
            std::size_t got = 0;
            while (got < request.size()) {
              auto n = (*s)->read(buf, client.now() + 2s);
              if (!n || *n == 0) break;
              got += *n;
            }
            if (got < request.size()) break;
            latencies.push_back((client.now() - t0).count());
            ++done;
          }
        }
        ++finished;
        all_done.notify_all();
      });
    }
    while (finished < connections) all_done.wait(client.now() + 10s);
  });
  row.echo_rps = static_cast<double>(done) / (static_cast<double>(span.count()) / 1e9);
  row.echo_p50 = percentile(latencies, 0.5);
  row.echo_p99 = percentile(latencies, 0.99);
  server.run_blocking(0, [&] { listener.reset(); });
  client.stop();
  server.stop();
}

int cmd_bench_runtime(int connections, int seconds, bool pin) {
  std::printf("doppel bench runtime: %d echo connection(s), %d s per backend%s\n", connections,
              seconds, pin ? ", cores pinned" : "");
  std::printf("%-8s %14s %16s %16s %14s %12s %12s\n", "backend", "run_on rt ns", "wake p50 ns",
              "wake p99 ns", "echo req/s", "echo p50 us", "echo p99 us");
  for (const std::string backend : {"epoll", "uring"}) {
    Row row;
    row.backend = backend;
    measure_cores(backend, pin, row);
    measure_echo(backend, connections, Duration(static_cast<std::int64_t>(seconds) * 1'000'000'000),
                 row);
    std::printf("%-8s %14.0f %16lld %16lld %14.0f %12.1f %12.1f\n", backend.c_str(), row.run_on_ns,
                static_cast<long long>(row.wake_p50), static_cast<long long>(row.wake_p99),
                row.echo_rps, static_cast<double>(row.echo_p50) / 1000,
                static_cast<double>(row.echo_p99) / 1000);
  }
  return kExitOk;
}

}  // namespace

void add_bench_runtime(CLI::App& bench, Commands& commands) {
  struct Args {
    int connections = 16;
    int seconds = 3;
    bool pin = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = bench.add_subcommand(
      "runtime", "run_on round trip, cross-core wake-up, loopback echo: epoll vs uring");
  cmd->add_option("--connections", args->connections, "Echo client connections (default 16)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--seconds", args->seconds, "Echo seconds per backend (default 3)")
      ->check(CLI::Range(1, 600));
  cmd->add_flag("--pin", args->pin, "Pin core threads to CPUs");
  cmd->callback([&commands, args] {
    commands.action = [args] {
      return cmd_bench_runtime(args->connections, args->seconds, args->pin);
    };
  });
}

}  // namespace doppel::cli
