// The cells of doppel bench dvv (dvv_cells.h): the simulated cluster and the real one.

#include "cli/dvv_cells.h"

#include <chrono>
#include <filesystem>
#include <thread>

#include "cli/child_process.h"
#include "cli/node_config.h"
#include "components/dvv/dvv.h"
#include "runtime/real/real_runtime.h"
#include "sim/world.h"

namespace doppel::cli {
namespace {

using namespace std::chrono_literals;

constexpr std::uint32_t kNodes = kDvvBenchNodes;
constexpr std::uint16_t kSimHttpPort = 8098;
constexpr std::uint16_t kSimRpcPort = 8087;

}  // namespace

Cell run_sim_cell(const DvvLoadSpec& spec, std::uint64_t seed) {
  const auto wall_start = std::chrono::steady_clock::now();  // reporting only
  Cell cell;
  sim::WorldOptions options{seed};
  options.ambient.disk_model = sim::DiskModel::ssd;
  sim::World world(options);
  std::vector<Endpoint> peers;
  for (std::uint32_t i = 0; i < kNodes; ++i)
    peers.push_back(Endpoint{"dvv" + std::to_string(i), kSimRpcPort});
  for (std::uint32_t i = 0; i < kNodes; ++i) {
    NodeConfig c;
    c.name = "dvv" + std::to_string(i);
    c.node_id = i;
    c.component = "dvv";
    c.listen = Endpoint{c.name, kSimHttpPort};
    c.peers = peers;
    // Riak 0.13, the paper's, had read repair and hinted handoff but no active
    // anti-entropy (Riak 1.3 added it); ours recomputes every partition's
    // segment hashes from all its keys each round, which at this key count
    // would cost more wall time than the requests. An hour: never in a run.
    dvv::DvvSettings s;
    s.aae_interval = std::chrono::hours(1);
    world.add_node(
        sim::NodeSpec{c.name, 1, false, [c, s](Runtime& rt) { return dvv::boot(rt, c, s); }});
  }
  const sim::NodeId clients = world.add_node(sim::NodeSpec{"clients", 1, false, {}});
  bool done = false;
  world.spawn(clients, 0, "dvv-bench", [&] {
    cell.result = run_dvv_load(world.runtime(clients), spec, kNodes, [](std::uint32_t n) {
      return Endpoint{"dvv" + std::to_string(n), kSimHttpPort};
    });
    done = true;
  });
  world.run_until(instant_ns((spec.duration + 300s).count()), [&] { return done; });
  if (world.failed()) {
    cell.error =
        "the simulation failed: " + world.failure().property + ": " + world.failure().detail;
  } else if (!done) {
    cell.error = "the clients did not finish";
  } else if (!cell.result.setup_error.empty()) {
    cell.error = cell.result.setup_error;
  }
  cell.sim_events = world.stats().events_run;
  (void)world.shutdown();
  cell.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return cell;
}

namespace {

// --- real mode: six server processes of this binary

struct ServerProcess {
  pid_t pid = -1;
  Endpoint http;
};

void stop_all(std::vector<ServerProcess>& servers) {
  std::vector<pid_t*> pids;
  for (auto& s : servers) pids.push_back(&s.pid);
  stop_children(pids);
}

// Starts the six nodes, each with its data under `data_root`; waits until
// each HTTP API answers. On failure every started process is stopped.
Result<std::vector<ServerProcess>> start_cluster(const std::string& config_dir,
                                                 const std::string& data_root) {
  std::vector<ServerProcess> servers;
  for (std::uint32_t n = 0; n < kNodes; ++n) {
    const std::string config = config_path(config_dir, n);
    auto c = load_node_config(config, shipped_components());
    if (!c)
      return make_error(Errc::invalid_argument,
                        c.error().what.empty() ? c.error().message() : c.error().what);
    ServerProcess s;
    s.http = c->node.listen;
    if (loopback_listening(s.http.port)) {
      stop_all(servers);
      return make_error(Errc::io_error,
                        s.http.to_string() + " is in use: is another cluster running?");
    }
    const std::string data = data_root + "/dvv-" + std::to_string(n + 1);
    const std::string log = data_root + "/dvv-" + std::to_string(n + 1) + ".log";
    ChildOptions o;
    o.log = log;
    auto pid = spawn_child({self_exe(), "serve", "--config", config, "--data-dir", data}, o);
    if (!pid) {
      stop_all(servers);
      return pid.error();
    }
    s.pid = *pid;
    servers.push_back(s);
  }
  for (std::size_t n = 0; n < servers.size(); ++n) {
    const std::string log = data_root + "/dvv-" + std::to_string(n + 1) + ".log";
    if (Status up = await_listening(servers[n].pid, servers[n].http.port,
                                    "the node on " + servers[n].http.to_string(), log);
        !up) {
      stop_all(servers);
      return up.error();
    }
  }
  return servers;
}

}  // namespace

Cell run_real_cell(const DvvLoadSpec& spec, const std::string& config_dir, const std::string& tmp) {
  const auto wall_start = std::chrono::steady_clock::now();
  Cell cell;
  const std::string data_root = tmp + "/" + spec.workload.name + "-" + spec.clock;
  std::filesystem::create_directories(data_root);
  auto servers = start_cluster(config_dir, data_root);
  if (!servers) {
    cell.error = servers.error().what.empty() ? servers.error().message() : servers.error().what;
    return cell;
  }
  std::vector<Endpoint> endpoints;
  for (const auto& s : *servers) endpoints.push_back(s.http);
  {
    real::RealRuntime rt(real::RealOptions{1, false, "epoll", tmp, false});
    if (Status s = rt.start(); !s) {
      cell.error = "client runtime: " + s.error().message();
    } else {
      rt.run_blocking(0, [&] {
        cell.result =
            run_dvv_load(rt, spec, kNodes, [&endpoints](std::uint32_t n) { return endpoints[n]; });
      });
      rt.stop();
      if (!cell.result.setup_error.empty()) cell.error = cell.result.setup_error;
    }
  }
  stop_all(*servers);
  std::error_code ec;
  std::filesystem::remove_all(data_root, ec);
  cell.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return cell;
}

std::string config_path(const std::string& dir, std::uint32_t n) {
  return dir + "/dvv-" + std::to_string(n + 1) + ".toml";
}

std::string find_config_dir(const std::string& given) {
  if (!given.empty()) return given;
  if (std::filesystem::exists("configs/dvv-1.toml")) return "configs";
  // The binary is built into <source>/<build dir>/doppel.
  const auto beside = std::filesystem::path(self_exe()).parent_path().parent_path() / "configs";
  if (std::filesystem::exists(beside / "dvv-1.toml")) return beside.string();
  return "configs";
}

}  // namespace doppel::cli
