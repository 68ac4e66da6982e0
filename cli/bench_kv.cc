// doppel bench kv: doppel's KV (epoll and io_uring) against memcached 1.6 on
// this machine, with the same client (kv_load.h). Starts and stops every
// server itself, by pid. Prints one table of throughput and latency per
// target, mix and connection count, then memory per item and ops per server
// CPU-second.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <tuple>

#include "cli/child_process.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/kv_load.h"

namespace doppel::cli {
namespace {

struct Server {
  std::string target;
  pid_t pid = -1;
  Endpoint at;
  std::vector<Endpoint> core_ports;  // the routed targets': each core's own port, in order
};

bool routed(const std::string& target) {
  return target.ends_with("-routed");
}

Result<Server> start_server(const std::string& target, int memory_mb, int cores,
                            const std::string& tmp) {
  Server s;
  s.target = target;
  s.at = Endpoint{"127.0.0.1", free_loopback_port()};
  std::vector<std::string> argv;
  if (target == "memcached") {
    argv = {"memcached",
            "-t",
            std::to_string(cores),
            "-m",
            std::to_string(memory_mb),
            "-p",
            std::to_string(s.at.port),
            "-U",
            "0",
            "-l",
            "127.0.0.1",
            "-c",
            "4096",
            "-u",
            "root"};
  } else {
    const std::string backend = target.starts_with("doppel-uring") ? "uring" : "epoll";
    const std::string config = tmp + "/" + target + ".toml";
    std::ofstream out(config);
    out << "[node]\nname = \"bench\"\ncomponent = \"kv\"\nlisten = \"127.0.0.1:" << s.at.port
        << "\"\ncores = " << cores << "\npin = false\nbackend = \"" << backend
        << "\"\ndata_dir = \"" << tmp << "/data\"\n\n[kv]\nmemory_mb = " << memory_mb << "\n";
    if (routed(target)) {
      // Consecutive ports from a free one; if one is taken, the server says so and exits.
      const std::uint16_t base = free_loopback_port();
      out << "core_ports = " << base << "\nowner_hash = \"libmemcached-murmur3\"\n";
      for (int c = 0; c < cores; ++c) {
        s.core_ports.push_back(Endpoint{"127.0.0.1", static_cast<std::uint16_t>(base + c)});
      }
    }
    argv = {self_exe(), "serve", "--config", config};
  }
  ChildOptions o;
  o.log = tmp + "/" + target + ".log";
  auto pid = spawn_child(argv, o);
  if (!pid) return pid.error();
  s.pid = *pid;
  if (Status up = await_listening(s.pid, s.at.port, target + " (is it installed?)", o.log); !up)
    return up.error();
  return s;
}

void stop_server(Server& s) {
  stop_child(s.pid, std::chrono::seconds(5));
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close_paren = all.rfind(')');
  if (close_paren == std::string::npos) return 0;
  std::istringstream fields(all.substr(close_paren + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(std::stoi(item));
  }
  return out;
}

std::vector<std::string> parse_names(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// One cell of the table: a target, a mix and a connection count, measured once.
struct Cell {
  double ops_s = 0, p50_us = 0, p99_us = 0, p999_us = 0, ops_per_cpu_s = 0;
  double forwarded_percent = -1;  // -1: the server does not say (memcached has no owners)
  std::uint64_t misses = 0, errors = 0;
};

Cell measure(const Server& server, const LoadSpec& spec) {
  const double cpu0 = cpu_seconds(server.pid);
  const auto forwarded0 = read_stat(server.at, "", "forwarded");
  const LoadResult r = run_load(spec);
  const double cpu = cpu_seconds(server.pid) - cpu0;
  const auto forwarded1 = read_stat(server.at, "", "forwarded");
  Cell c;
  c.ops_s = r.ops_per_second();
  c.p50_us = static_cast<double>(r.percentile_ns(0.5)) / 1e3;
  c.p99_us = static_cast<double>(r.percentile_ns(0.99)) / 1e3;
  c.p999_us = static_cast<double>(r.percentile_ns(0.999)) / 1e3;
  c.ops_per_cpu_s = cpu > 0 ? static_cast<double>(r.ops) / cpu : 0.0;
  if (forwarded0 && forwarded1 && r.ops > 0) {
    c.forwarded_percent =
        100.0 * static_cast<double>(*forwarded1 - *forwarded0) / static_cast<double>(r.ops);
  }
  c.misses = r.misses;
  c.errors = r.errors;
  return c;
}

// Each figure's median over the runs, on its own (the middle run's, or the mean of the two
// middle ones).
Cell median(const std::vector<Cell>& runs) {
  const auto mid = [&](auto field) {
    std::vector<double> v;
    for (const Cell& c : runs) v.push_back(static_cast<double>(c.*field));
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n == 0 ? 0.0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  };
  Cell m;
  m.ops_s = mid(&Cell::ops_s);
  m.p50_us = mid(&Cell::p50_us);
  m.p99_us = mid(&Cell::p99_us);
  m.p999_us = mid(&Cell::p999_us);
  m.ops_per_cpu_s = mid(&Cell::ops_per_cpu_s);
  m.forwarded_percent = mid(&Cell::forwarded_percent);
  m.misses = static_cast<std::uint64_t>(mid(&Cell::misses));
  std::uint64_t errors = 0;
  for (const Cell& c : runs) errors += c.errors;
  m.errors = errors;  // every run's: one error anywhere is worth seeing
  return m;
}

void print_header() {
  std::printf("%-20s %-12s %6s %12s %10s %10s %10s %10s %14s %6s\n", "target", "mix", "conns",
              "ops/s", "p50 us", "p99 us", "p99.9 us", "misses", "ops/cpu-s", "fwd %");
}

void print_row(const std::string& target, const std::string& mix, int conns, const Cell& c) {
  char share[16] = "-";
  if (c.forwarded_percent >= 0) std::snprintf(share, sizeof share, "%.1f", c.forwarded_percent);
  std::printf("%-20s %-12s %6d %12.0f %10.1f %10.1f %10.1f %10llu %14.0f %6s%s\n", target.c_str(),
              mix.c_str(), conns, c.ops_s, c.p50_us, c.p99_us, c.p999_us,
              static_cast<unsigned long long>(c.misses), c.ops_per_cpu_s, share,
              c.errors ? (" errors=" + std::to_string(c.errors)).c_str() : "");
  std::fflush(stdout);
}

struct Args {
  std::string targets =
      "doppel-epoll,doppel-uring,doppel-epoll-routed,doppel-uring-routed,memcached";
  std::string connections = "1,4,16,32,64,128";
  std::string mixes = "read-heavy,update-only";
  int seconds = 5;
  std::uint64_t keys = 100'000;
  std::uint64_t memory_keys = 1'000'000;
  int memory_mb = 1024;
  int cores = 2;
  double rate = 0;
  bool skip_memory = false;
  int repeat = 1;
};

int cmd_bench_kv(const Args& a) {
  const auto targets = parse_names(a.targets);
  const auto conns = parse_list(a.connections);
  const auto mixes = parse_names(a.mixes);
  for (const auto& t : targets) {
    if (t != "doppel-epoll" && t != "doppel-uring" && t != "memcached" &&
        t != "doppel-epoll-routed" && t != "doppel-uring-routed")
      return usage_error("--targets: unknown '" + t + "'");
  }
  for (const auto& m : mixes) {
    if (m != "read-heavy" && m != "update-only") return usage_error("--mixes: unknown '" + m + "'");
  }
  if (conns.empty()) return usage_error("--connections: empty");
  char tmpl[] = "/tmp/doppel-bench-kv-XXXXXX";
  const std::string tmp = ::mkdtemp(tmpl);
  std::printf(
      "doppel bench kv: %d server core(s), 30-byte keys, 200-byte values, %llu keys, %d s per "
      "cell, %s loop\n",
      a.cores, static_cast<unsigned long long>(a.keys), a.seconds,
      a.rate > 0 ? ("open (" + std::to_string(static_cast<long>(a.rate)) + " req/s)").c_str()
                 : "closed");
  print_header();
  // Interleaved: each round runs every target once, so that a drift in the machine (another
  // process, thermal state) spreads over all targets rather than landing on one.
  std::map<std::tuple<std::size_t, std::string, int>, std::vector<Cell>> cells;
  for (int round = 1; round <= a.repeat; ++round) {
    if (a.repeat > 1) std::printf("round %d of %d\n", round, a.repeat);
    for (std::size_t t = 0; t < targets.size(); ++t) {
      const std::string& target = targets[t];
      auto server = start_server(target, a.memory_mb, a.cores, tmp);
      if (!server) {
        std::printf("%-20s %s\n", target.c_str(), server.error().message().c_str());
        continue;
      }
      LoadSpec spec;
      spec.server = server->at;
      spec.routed = server->core_ports;
      spec.keys = a.keys;
      spec.open_loop_rate = a.rate;
      spec.seed = static_cast<std::uint64_t>(round);
      spec.connections = 16;
      if (!preload(spec, a.keys)) std::printf("%-20s preload failed\n", target.c_str());
      for (const auto& mix : mixes) {
        for (int c : conns) {
          spec.connections = c;
          spec.set_percent = mix == "read-heavy" ? 10 : 100;
          spec.duration = std::chrono::seconds(a.seconds);
          const Cell cell = measure(*server, spec);
          print_row(target, mix, c, cell);
          cells[{t, mix, c}].push_back(cell);
        }
      }
      stop_server(*server);
    }
  }
  if (a.repeat > 1) {
    std::printf("\nmedians of %d interleaved rounds\n", a.repeat);
    print_header();
    for (const auto& [at, runs] : cells) {
      print_row(targets[std::get<0>(at)], std::get<1>(at), std::get<2>(at), median(runs));
    }
  }
  if (!a.skip_memory) {
    std::printf("\nmemory per item: RSS over live key+value bytes, %llu keys of 30+200 bytes\n",
                static_cast<unsigned long long>(a.memory_keys));
    std::printf("%-13s %16s %16s %22s\n", "target", "live MiB", "after load", "after update-only");
    const double live = static_cast<double>(a.memory_keys) * 230.0;
    for (const auto& target : targets) {
      if (routed(target)) continue;  // the same server as its unrouted twin
      auto server = start_server(target, std::max(a.memory_mb, 1024), a.cores, tmp);
      if (!server) continue;
      LoadSpec spec;
      spec.server = server->at;
      spec.keys = a.memory_keys;
      spec.connections = 8;
      const long base = rss_kib(server->pid);
      const bool ok = preload(spec, a.memory_keys);
      const double after_load = static_cast<double>(rss_kib(server->pid) - base) * 1024.0 / live;
      spec.set_percent = 100;
      spec.connections = 32;
      spec.duration = std::chrono::seconds(std::max(5, a.seconds));
      run_load(spec);
      const double after_update = static_cast<double>(rss_kib(server->pid) - base) * 1024.0 / live;
      std::printf("%-13s %16.1f %15.3fx %21.3fx%s\n", target.c_str(), live / 1048576.0, after_load,
                  after_update, ok ? "" : " (preload failed)");
      stop_server(*server);
    }
  }
  std::error_code ec;  // a leftover temporary directory is not worth failing the bench
  std::filesystem::remove_all(tmp, ec);
  return kExitOk;
}

}  // namespace

void add_bench_kv(CLI::App& bench, Commands& commands) {
  auto a = std::make_shared<Args>();
  CLI::App* cmd = bench.add_subcommand(
      "kv", "doppel KV (epoll, uring) vs memcached: throughput, latency, memory");
  cmd->add_option("--targets", a->targets,
                  "Comma list of doppel-epoll, doppel-uring, memcached, and doppel-epoll-routed, "
                  "doppel-uring-routed (per-core ports, a client routing each key to its owner)");
  cmd->add_option("--connections", a->connections,
                  "Comma list of connection counts (default 1,4,16,32,64,128)");
  cmd->add_option("--mixes", a->mixes, "read-heavy (10% sets) and/or update-only");
  cmd->add_option("--seconds", a->seconds, "Seconds per cell (default 5)")
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--keys", a->keys, "Key space for the throughput runs (default 100000)");
  cmd->add_option("--memory-keys", a->memory_keys,
                  "Keys loaded for memory per item (default 1000000)");
  cmd->add_option("--memory-mb", a->memory_mb, "Server memory limit, MiB (default 1024)");
  cmd->add_option("--cores", a->cores, "Server cores / memcached threads (default 2)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--rate", a->rate,
                  "Open loop at this many requests/s in total (default: closed loop)");
  cmd->add_flag("--skip-memory", a->skip_memory, "Skip the memory-per-item runs");
  cmd->add_option("--repeat", a->repeat,
                  "Rounds, each running every target in turn; with more than one, a table of "
                  "medians follows (default 1)")
      ->check(CLI::Range(1, 100));
  cmd->callback([&commands, a] { commands.action = [a] { return cmd_bench_kv(*a); }; });
}

}  // namespace doppel::cli
