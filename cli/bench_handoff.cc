// doppel bench dvv-handoff: how fast a DVV cluster moves data to a node that joins. Starts
// --nodes `doppel serve` processes of this binary on 127.0.0.1 (the first nodes - 1 are the
// ring's members, components/dvv/store/ring_state.h), loads --keys keys of --value-bytes each
// through them (default quorums), then has the last node join (stage, commit) and times the
// transition until every node holds the settled ring and no node holds a replica of a key it
// no longer serves (/stats "unserved"). Prints the load rate, the join's duration, and the
// objects and bytes handed off (transfers to newcomers and releases to owners, summed over the
// nodes' /admin/cluster "handoff") per second. Exit 0, 1 if the cluster failed, 2 for bad
// arguments.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "cli/child_process.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "components/dvv/client/riak_client.h"
#include "runtime/real/real_runtime.h"
#include "runtime/sync.h"

namespace doppel::cli {
namespace {

using namespace std::chrono_literals;

struct HandoffArgs {
  std::uint64_t keys = 100'000;
  std::uint32_t value_bytes = 100;
  std::uint32_t nodes = 4;
  std::uint32_t concurrency = 64;
  std::uint32_t partitions = 64;
  std::string dir;  // empty: a temporary directory, removed after
  double timeout_s = 1800;
};

struct Node {
  pid_t pid = -1;
  Endpoint http;
  std::unique_ptr<dvv::RiakClient> client;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

template <class T>
T or_else(const Result<T>& r, T fallback) {
  return r ? *r : fallback;
}

// Every node's status, or nullopt if one did not answer.
struct ClusterView {
  bool settled = true;  // every node: no transition pending, one version, nothing unserved
  std::uint64_t version = 0;
  std::uint64_t objects_sent = 0, bytes_sent = 0;
};

std::optional<ClusterView> view(Runtime& rt, std::vector<Node>& nodes, std::uint64_t at_least) {
  ClusterView v;
  std::optional<std::uint64_t> first;
  for (Node& n : nodes) {
    auto text = n.client->cluster_status(rt.now() + 10s);
    if (!text) return std::nullopt;
    auto j = JsonValue::parse(*text);
    if (!j) return std::nullopt;
    const auto version = or_else<std::uint64_t>(j->u64("version"), 0);
    if (or_else(j->boolean("pending"), true) || version < at_least ||
        (first && *first != version)) {
      v.settled = false;
    }
    first = version;
    v.version = version;
    if (auto h = j->object("handoff")) {
      v.objects_sent += or_else<std::uint64_t>((*h)->u64("objects_sent"), 0);
      v.bytes_sent += or_else<std::uint64_t>((*h)->u64("bytes_sent"), 0);
    }
    http::ClientRequest req;
    req.target = "/stats";
    auto stats = n.client->raw(req, rt.now() + 10s);
    if (!stats) return std::nullopt;
    auto s = JsonValue::parse(stats->body);
    if (!s || or_else<std::uint64_t>(s->u64("unserved"), 1) != 0) v.settled = false;
  }
  return v;
}

int run(Runtime& rt, const HandoffArgs& a, std::vector<Node>& nodes) {
  // --- load
  const auto load_start = std::chrono::steady_clock::now();
  std::uint64_t next = 0, failed = 0;
  int running = static_cast<int>(a.concurrency);
  Condition done(rt);
  const std::string value(a.value_bytes, 'v');
  for (std::uint32_t c = 0; c < a.concurrency; ++c) {
    rt.spawn("handoff-load", [&, c] {
      dvv::RiakClient& client = *nodes[c % (nodes.size() - 1)].client;  // members only
      while (next < a.keys && failed < 100) {
        const std::uint64_t k = next++;
        dvv::WriteOptions o;
        auto r = client.put("b", "k" + std::to_string(k), value, o, rt.now() + 30s);
        if (!r) ++failed;
      }
      --running;
      done.notify_all();
    });
  }
  auto last_shown = std::chrono::steady_clock::now();
  while (running > 0) {
    done.wait(rt.now() + 1s);
    if (seconds_since(last_shown) >= 5) {
      std::fprintf(stderr, "doppel: bench dvv-handoff: loaded %llu of %llu keys\n",
                   static_cast<unsigned long long>(next), static_cast<unsigned long long>(a.keys));
      last_shown = std::chrono::steady_clock::now();
    }
  }
  if (failed > 0) {
    std::fprintf(stderr, "doppel: bench dvv-handoff: %llu PUTs failed while loading\n",
                 static_cast<unsigned long long>(failed));
    return kExitFailed;
  }
  const double load_s = seconds_since(load_start);
  const auto before = view(rt, nodes, 0);
  if (!before) {
    std::fprintf(stderr, "doppel: bench dvv-handoff: a node did not answer its status\n");
    return kExitFailed;
  }
  // --- the join
  const auto joiner = static_cast<std::uint32_t>(nodes.size() - 1);
  const auto join_start = std::chrono::steady_clock::now();
  auto staged = nodes[0].client->cluster_change("join", joiner, std::nullopt, rt.now() + 30s);
  auto committed =
      staged ? nodes[0].client->cluster_change("commit", std::nullopt, std::nullopt, rt.now() + 30s)
             : staged;
  if (!committed) {
    std::fprintf(stderr, "doppel: bench dvv-handoff: the join: %s\n",
                 committed.error().message().c_str());
    return kExitFailed;
  }
  std::optional<ClusterView> after;
  while (seconds_since(join_start) < a.timeout_s) {
    after = view(rt, nodes, before->version + 2);
    if (after && after->settled) break;
    rt.sleep(200ms);
  }
  const double join_s = seconds_since(join_start);
  if (!after || !after->settled) {
    std::fprintf(stderr, "doppel: bench dvv-handoff: the ring did not settle within %.0f s\n",
                 a.timeout_s);
    return kExitFailed;
  }
  const double objects = static_cast<double>(after->objects_sent - before->objects_sent);
  const double bytes = static_cast<double>(after->bytes_sent - before->bytes_sent);
  std::printf("dvv-handoff: %u nodes (%u members, node %u joins), %u partitions, n_val 3\n",
              static_cast<unsigned>(nodes.size()), static_cast<unsigned>(nodes.size() - 1),
              static_cast<unsigned>(joiner), a.partitions);
  std::printf("load:   %llu keys of %u bytes in %.1f s (%.0f PUT/s, %u clients)\n",
              static_cast<unsigned long long>(a.keys), a.value_bytes, load_s,
              static_cast<double>(a.keys) / load_s, a.concurrency);
  std::printf("join:   settled in %.1f s (commit to every node settled, nothing unserved)\n",
              join_s);
  std::printf("handoff: %.0f objects, %.1f MiB: %.0f objects/s, %.2f MiB/s\n", objects,
              bytes / (1 << 20), objects / join_s, bytes / (1 << 20) / join_s);
  return kExitOk;
}

int cmd_bench_handoff(const HandoffArgs& a) {
  if (a.nodes < 2 || a.nodes > 16) return usage_error("bench dvv-handoff: --nodes: 2 to 16");
  const bool temporary = a.dir.empty();
  std::string dir = a.dir;
  if (temporary) {
    char tmpl[] = "/tmp/doppel-handoff-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return usage_error("bench dvv-handoff: cannot make a temp dir");
    dir = tmpl;
  } else {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return usage_error("bench dvv-handoff: --dir: " + ec.message());
  }
  std::vector<Node> nodes(a.nodes);
  std::vector<std::uint16_t> rpc_ports;
  for (auto& n : nodes) {
    n.http = Endpoint{"127.0.0.1", free_loopback_port()};
    rpc_ports.push_back(free_loopback_port());
  }
  std::string peers;
  for (std::uint16_t p : rpc_ports) {
    peers += (peers.empty() ? "\"127.0.0.1:" : ", \"127.0.0.1:") + std::to_string(p) + "\"";
  }
  int code = kExitFailed;
  std::vector<pid_t*> pids;
  for (auto& n : nodes) pids.push_back(&n.pid);
  for (std::uint32_t i = 0; i < a.nodes; ++i) {
    const std::string config = dir + "/dvv-" + std::to_string(i) + ".toml";
    std::ofstream(config) << "[node]\nname = \"dvv-" << i
                          << "\"\ncomponent = \"dvv\"\nnode_id = " << i
                          << "\nlisten = \"127.0.0.1:" << nodes[i].http.port << "\"\npeers = ["
                          << peers << "]\ndata_dir = \"" << dir << "/data-" << i
                          << "\"\ncores = 1\npin = false\n[dvv]\npartitions = " << a.partitions
                          << "\nmembers = " << (a.nodes - 1) << "\nhandoff_interval_ms = 200\n";
    ChildOptions o;
    o.log = dir + "/dvv-" + std::to_string(i) + ".log";
    auto pid = spawn_child({self_exe(), "serve", "--config", config}, o);
    if (!pid) {
      std::fprintf(stderr, "doppel: bench dvv-handoff: %s\n", pid.error().message().c_str());
      stop_children(pids);
      return kExitFailed;
    }
    nodes[i].pid = *pid;
  }
  bool up = true;
  for (std::uint32_t i = 0; i < a.nodes && up; ++i) {
    Status s = await_listening(nodes[i].pid, nodes[i].http.port, "dvv-" + std::to_string(i),
                               dir + "/dvv-" + std::to_string(i) + ".log");
    if (!s) {
      std::fprintf(stderr, "doppel: bench dvv-handoff: %s\n", s.error().message().c_str());
      up = false;
    }
  }
  if (up) {
    real::RealRuntime rt(real::RealOptions{1, false, "epoll", dir, false});
    if (Status s = rt.start(); !s) {
      std::fprintf(stderr, "doppel: bench dvv-handoff: %s\n", s.error().message().c_str());
    } else {
      rt.run_blocking(0, [&] {
        for (auto& n : nodes) n.client = std::make_unique<dvv::RiakClient>(rt, n.http);
        code = run(rt, a, nodes);
        for (auto& n : nodes) n.client.reset();
      });
      rt.stop();
    }
  }
  stop_children(pids);
  if (temporary) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return code;
}

}  // namespace

void add_bench_handoff(CLI::App& bench, Commands& commands) {
  auto a = std::make_shared<HandoffArgs>();
  CLI::App* cmd = bench.add_subcommand(
      "dvv-handoff",
      "DVV membership: load a local cluster, have a node join, time the handoff until the ring "
      "settles (objects and bytes handed off per second)");
  cmd->add_option("--keys", a->keys, "Keys loaded before the join")
      ->check(CLI::Range(1, 100'000'000))
      ->capture_default_str();
  cmd->add_option("--value-bytes", a->value_bytes, "Bytes of each value")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--nodes", a->nodes, "Nodes: the last one joins the others")
      ->check(CLI::Range(2, 16))
      ->capture_default_str();
  cmd->add_option("--concurrency", a->concurrency, "PUTs in flight while loading")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--partitions", a->partitions, "Ring partitions (a power of two)")
      ->check(CLI::IsMember({8, 16, 32, 64, 128, 256, 512, 1024}))
      ->capture_default_str();
  cmd->add_option("--dir", a->dir, "Where the nodes' configs, data and logs go (kept)");
  cmd->add_option("--timeout", a->timeout_s, "Seconds the join may take")
      ->check(CLI::Range(1.0, 86400.0))
      ->capture_default_str();
  cmd->callback([&commands, a] { commands.action = [a] { return cmd_bench_handoff(*a); }; });
}

}  // namespace doppel::cli
