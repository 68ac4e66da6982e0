// The cells of doppel bench dvv (dvv_cells.h): the simulated cluster and the real one.

#include "cli/dvv_cells.h"

#include <signal.h>

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

// --- sim: syncing a node's log without copying it whole
//
// sim::SimDisk::datasync() makes a file durable by copying all of it
// (`durable = data`), so every synced append to a node's object log costs the
// log's whole size, and a run's wall time grows with the square of its length
// (at the default load a cell of 120 simulated s took 116 s of wall time, and
// 15 s with the proxy below). Until SimDisk copies only the unsynced writes, the bench
// hands each simulated node a runtime whose files sync through a small proxy
// file of the same node. The simulated cost is the same -- a sync's service
// time does not depend on the file, and it queues on the same disk -- and a
// file's own datasync still runs once kRealSyncBytes were written to it, which
// bounds the unsynced writes the simulator keeps. Only a crash would tell the
// difference, and the bench crashes nothing.
class ProxyFileSystem;

class ProxyFile final : public File {
 public:
  static constexpr std::uint64_t kRealSyncBytes = 16u << 20;

  ProxyFile(ProxyFileSystem& fs, std::unique_ptr<File> inner) : fs_(fs), inner_(std::move(inner)) {}
  Result<std::size_t> pread(std::span<char> into, std::uint64_t offset) override {
    return inner_->pread(into, offset);
  }
  Status pwrite(std::string_view bytes, std::uint64_t offset) override {
    unsynced_bytes_ += bytes.size();
    return inner_->pwrite(bytes, offset);
  }
  Status datasync() override;
  Status punch_hole(std::uint64_t offset, std::uint64_t length) override {
    return inner_->punch_hole(offset, length);
  }
  Status truncate(std::uint64_t size) override { return inner_->truncate(size); }
  Result<std::uint64_t> size() override { return inner_->size(); }

 private:
  ProxyFileSystem& fs_;
  std::unique_ptr<File> inner_;
  std::uint64_t unsynced_bytes_ = 0;
};

class ProxyFileSystem final : public FileSystem {
 public:
  explicit ProxyFileSystem(FileSystem& inner) : inner_(inner) {}
  Result<std::unique_ptr<File>> open(std::string_view path, OpenOptions options) override {
    auto f = inner_.open(path, options);
    if (!f) return f.error();
    return std::unique_ptr<File>(new ProxyFile(*this, std::move(*f)));
  }
  Status rename(std::string_view from, std::string_view to) override {
    return inner_.rename(from, to);
  }
  Status remove(std::string_view path) override { return inner_.remove(path); }
  Status make_dir(std::string_view path) override { return inner_.make_dir(path); }
  Result<std::vector<std::string>> list(std::string_view dir) override { return inner_.list(dir); }
  Status sync_dir(std::string_view dir) override { return inner_.sync_dir(dir); }

  // A sync of the node's disk that copies nothing: the proxy file stays empty.
  Status sync_proxy() {
    if (!proxy_) {
      auto f = inner_.open("bench-sync-proxy", OpenOptions{.create = true});
      if (!f) return f.error();
      proxy_ = std::move(*f);
    }
    return proxy_->datasync();
  }

 private:
  FileSystem& inner_;
  std::unique_ptr<File> proxy_;
};

Status ProxyFile::datasync() {
  if (unsynced_bytes_ < kRealSyncBytes) return fs_.sync_proxy();
  unsynced_bytes_ = 0;
  return inner_->datasync();
}

// The node's runtime with the proxy file system; everything else is the node's.
class ProxyRuntime final : public Runtime {
 public:
  explicit ProxyRuntime(Runtime& inner) : inner_(inner), fs_(inner.fs()) {}
  Instant now() override { return inner_.now(); }
  WallTime wall_now() override { return inner_.wall_now(); }
  void sleep(Duration d) override { inner_.sleep(d); }
  Prng& random() override { return inner_.random(); }
  CoreId core_count() const override { return inner_.core_count(); }
  CoreId this_core() override { return inner_.this_core(); }
  void spawn(std::string_view name, Task fn) override { inner_.spawn(name, std::move(fn)); }
  void spawn_on(CoreId core, std::string_view name, Task fn) override {
    inner_.spawn_on(core, name, std::move(fn));
  }
  void post(CoreId core, Task fn) override { inner_.post(core, std::move(fn)); }
  Wake park(Waiter& w, Instant deadline) override { return inner_.park(w, deadline); }
  Network& net() override { return inner_.net(); }
  FileSystem& fs() override { return fs_; }
  bool buggify(std::string_view site) override { return inner_.buggify(site); }
  void record(const Event& event) override { inner_.record(event); }

 private:
  Runtime& inner_;
  ProxyFileSystem fs_;
};

// Owns the proxy runtime for as long as the node's service lives.
class ProxiedService final : public Service {
 public:
  ProxiedService(std::unique_ptr<ProxyRuntime> rt, std::unique_ptr<Service> inner)
      : rt_(std::move(rt)), inner_(std::move(inner)) {}
  void stop() override { inner_->stop(); }

 private:
  std::unique_ptr<ProxyRuntime> rt_;  // declared first: destroyed after inner_
  std::unique_ptr<Service> inner_;
};

Result<std::unique_ptr<Service>> boot_sim_node(Runtime& rt, const NodeConfig& config,
                                               const dvv::DvvSettings& settings) {
  auto proxy = std::make_unique<ProxyRuntime>(rt);
  auto service = dvv::boot(*proxy, config, settings);
  if (!service) return service.error();
  return std::unique_ptr<Service>(new ProxiedService(std::move(proxy), std::move(*service)));
}

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
        sim::NodeSpec{c.name, 1, false, [c, s](Runtime& rt) { return boot_sim_node(rt, c, s); }});
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
        "the simulation failed: " + world.failed_property() + ": " + world.failure_detail();
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
  for (auto& s : servers) {
    if (s.pid > 0) ::kill(s.pid, SIGTERM);
  }
  for (auto& s : servers) stop_child(s.pid);
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
