#include "tests/kv/server/kv_sim.h"

namespace doppel::kv::test {

using namespace std::chrono_literals;

std::string describe(const Result<McReply>& reply, bool with_cas) {
  if (!reply) return reply.error().message();
  const McReply& r = *reply;
  if (r.word == "NUMBER") return std::to_string(r.number);
  if (r.word == "VERSION") return "VERSION " + (r.lines.empty() ? "" : r.lines[0]);
  std::string out = r.word;
  for (const McValue& v : r.values) {
    out += " " + v.key + "=" + v.data;
    if (v.flags != 0) out += "/" + std::to_string(v.flags);
    if (with_cas) out += v.cas_unique != 0 ? "#cas" : "#0";
  }
  return out;
}

KvSim::KvSim(std::uint64_t seed, CoreId cores, const KvSettings& settings,
             sim::AmbientFaults ambient)
    : world_(sim::WorldOptions{seed, ambient}), cores_(cores) {
  NodeConfig node;
  node.name = kServer;
  node.component = "kv";
  node.listen = Endpoint{kServer, kPort};
  server_ = world_.add_node(sim::NodeSpec{
      kServer, cores, false, [node, settings](Runtime& rt) { return boot(rt, node, settings); }});
  client_ = world_.add_node(sim::NodeSpec{"client", 1, false, {}});
  // Without ambient faults there is no fault phase: a node that fails to boot fails the run
  // at once (during one, it would be restarted).
  if (!ambient.latency && !ambient.split_reads) world_.quiesce();
}

bool KvSim::with_connection(const std::function<void(Runtime&, Stream&)>& body) {
  bool done = false;
  bool connected = false;
  world_.spawn(client_, 0, "kv-test-client", [&] {
    Runtime& rt = world_.runtime(client_);
    // The server boots in a fiber of its own: try until it listens.
    for (int attempt = 0; attempt < 50 && !connected; ++attempt) {
      auto s = rt.net().connect(Endpoint{kServer, kPort}, 1s);
      if (!s) {
        rt.sleep(20ms);
        continue;
      }
      connected = true;
      body(rt, **s);
    }
    done = true;
  });
  world_.run_until(world_.now() + 10min, [&] { return done; });
  return done && connected;
}

SimResult run_connection(std::uint64_t seed, CoreId cores,
                         const std::function<void(Runtime&, Stream&)>& body,
                         const KvSettings& settings, sim::AmbientFaults ambient) {
  KvSim sim(seed, cores, settings, ambient);
  const bool ran = sim.with_connection(body);
  return SimResult::of(sim.world(), ran);
}

}  // namespace doppel::kv::test
