// doppel bench sim: how fast the simulator buys confidence.
//  - message-heavy: 32 connections between two nodes ping-pong small
//    messages as fast as the simulated network allows; we count scheduled
//    (agenda) events per wall second.
//  - idle-heavy: 200 fibers that mostly sleep (timers of 1-10 s, as a
//    cluster waiting on heartbeats and timeouts); we count simulated seconds
//    per wall second.

#include <chrono>
#include <cstdio>

#include "cli/cli.h"
#include "cli/commands.h"
#include "sim/world.h"

namespace doppel::cli {
namespace {

using namespace std::chrono_literals;

struct BenchResult {
  std::uint64_t events = 0;
  double wall_s = 0;
  double sim_s = 0;
};

BenchResult message_heavy(Duration simulated) {
  sim::World world(sim::WorldOptions{1});
  const sim::NodeId server = world.add_node(
      sim::NodeSpec{"server", 1, false, [](Runtime& rt) -> Result<std::unique_ptr<Service>> {
                      struct Svc final : Service {
                        std::unique_ptr<Listener> listener;
                      };
                      auto svc = std::make_unique<Svc>();
                      auto l = rt.net().listen(Endpoint{"", 1}, ListenOptions{});
                      if (!l) return l.error();
                      svc->listener = std::move(*l);
                      Listener* listener = svc->listener.get();
                      rt.spawn("accept", [&rt, listener] {
                        for (;;) {
                          auto s = listener->accept();
                          if (!s) return;
                          rt.spawn("pong", [s = std::shared_ptr<Stream>(std::move(*s))] {
                            char buf[64];
                            for (;;) {
                              auto n = s->read(buf);
                              if (!n || *n == 0 || !s->write(std::string_view(buf, *n))) return;
                            }
                          });
                        }
                      });
                      return std::unique_ptr<Service>(std::move(svc));
                    }});
  (void)server;
  const sim::NodeId client = world.add_node(sim::NodeSpec{"client", 1, false, {}});
  for (int c = 0; c < 32; ++c) {
    world.spawn(client, 0, "ping", [&world, client] {
      Runtime& rt = world.runtime(client);
      rt.sleep(1ms);
      auto s = rt.net().connect(Endpoint{"server", 1}, 1s);
      if (!s) return;
      char buf[64];
      for (;;) {
        if (!(*s)->write("ping")) return;
        auto n = (*s)->read(buf);
        if (!n || *n == 0) return;
      }
    });
  }
  const auto start = std::chrono::steady_clock::now();
  world.run_until(instant_ns(simulated.count()));
  BenchResult r;
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.events = world.stats().events_run;
  r.sim_s = static_cast<double>(to_ns(world.now())) / 1e9;
  return r;
}

BenchResult idle_heavy(Duration simulated) {
  sim::World world(sim::WorldOptions{2});
  const sim::NodeId node = world.add_node(sim::NodeSpec{"n", 1, false, {}});
  for (int f = 0; f < 200; ++f) {
    world.spawn(node, 0, "sleeper", [&world, node] {
      Runtime& rt = world.runtime(node);
      for (;;) rt.sleep(Duration(rt.random().between(1'000'000'000, 10'000'000'000)));
    });
  }
  const auto start = std::chrono::steady_clock::now();
  world.run_until(instant_ns(simulated.count()));
  BenchResult r;
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.events = world.stats().events_run;
  r.sim_s = static_cast<double>(to_ns(world.now())) / 1e9;
  return r;
}

int cmd_bench_sim(int seconds) {
  std::printf("doppel bench sim (one core; wall time of this process)\n");
  std::printf("%-14s %14s %12s %14s %16s\n", "workload", "events", "wall s", "events/s",
              "sim s / wall s");
  const BenchResult m =
      message_heavy(Duration(static_cast<std::int64_t>(seconds) * 1'000'000'000 / 10));
  std::printf("%-14s %14llu %12.3f %14.0f %16.1f\n", "message-heavy",
              static_cast<unsigned long long>(m.events), m.wall_s, m.events / m.wall_s,
              m.sim_s / m.wall_s);
  const BenchResult i =
      idle_heavy(Duration(static_cast<std::int64_t>(seconds) * 1'000'000'000 * 100));
  std::printf("%-14s %14llu %12.3f %14.0f %16.1f\n", "idle-heavy",
              static_cast<unsigned long long>(i.events), i.wall_s, i.events / i.wall_s,
              i.sim_s / i.wall_s);
  std::printf("targets: >= 1000000 events/s message-heavy; >= 1000 sim s / wall s idle-heavy\n");
  return kExitOk;
}

}  // namespace

void add_bench_sim(CLI::App& bench, Commands& commands) {
  auto seconds = std::make_shared<int>(10);
  CLI::App* sim =
      bench.add_subcommand("sim", "Simulator speed: events/s and simulated s per wall s");
  sim->add_option("--scale", *seconds, "Workload size (default 10)")->check(CLI::Range(1, 10000));
  sim->callback(
      [&commands, seconds] { commands.action = [seconds] { return cmd_bench_sim(*seconds); }; });
}

void add_bench_runtime(CLI::App& bench, Commands& commands);
void add_bench_kv(CLI::App& bench, Commands& commands);
void add_bench_dvv(CLI::App& bench, Commands& commands);
void add_bench_handoff(CLI::App& bench, Commands& commands);
void add_bench_dedup(CLI::App& bench, Commands& commands);
void add_bench_search(CLI::App& bench, Commands& commands);
void add_bench_fidelity(CLI::App& bench, Commands& commands);

void add_bench_commands(CLI::App& app, Commands& commands) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks (long; never part of the test suite)");
  bench->require_subcommand(1);
  add_bench_sim(*bench, commands);
  add_bench_runtime(*bench, commands);
  add_bench_kv(*bench, commands);
  add_bench_dvv(*bench, commands);
  add_bench_handoff(*bench, commands);
  add_bench_dedup(*bench, commands);
  add_bench_search(*bench, commands);
  add_bench_fidelity(*bench, commands);
}

}  // namespace doppel::cli
