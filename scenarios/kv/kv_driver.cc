#include "scenarios/kv/kv_driver.h"

#include "components/kv/server/server.h"
#include "properties/linearizability/checker.h"
#include "scenarios/kv/memcached_client.h"

namespace doppel::scenarios {
namespace {

using namespace std::chrono_literals;
using properties::History;
using properties::OpType;
using properties::Value;
using kv::McReader;
using kv::McReply;
using kv::McRequest;

constexpr std::uint16_t kPort = 11211;
constexpr std::int64_t kSystemProcess = -1;  // evictions and restarts in histories

struct Workload {
  std::uint64_t keys = 8;
  std::uint64_t ops_per_client = 200;
  std::uint64_t value_bytes_max = 64;
  std::uint64_t pipeline_max = 4;
  std::int64_t think_ms_max = 5;
  std::int64_t timeout_ms = 500;
  std::uint64_t memory_kb = 65536;
  std::uint64_t segment_kb = 2048;
  std::uint64_t mix_get = 40, mix_set = 30, mix_append = 15, mix_delete = 15;
  std::uint64_t quiet_ops = 10;  // each client's operations after the faults heal: must succeed
};

Result<Workload> read_workload(const toml::table& t, std::string_view source) {
  if (Status s = toml_known_keys(t, source, {"keys", "ops_per_client", "value_bytes_max", "pipeline_max",
                                             "think_ms_max", "timeout_ms", "memory_kb", "segment_kb",
                                             "mix_get", "mix_set", "mix_append", "mix_delete", "quiet_ops"});
      !s) {
    return s.error();
  }
  Workload w;
  struct Field {
    const char* key;
    std::uint64_t* field;
    std::int64_t lo, hi;
  };
  const Field fields[] = {
      {"keys", &w.keys, 1, 100000},          {"ops_per_client", &w.ops_per_client, 1, 1000000},
      {"value_bytes_max", &w.value_bytes_max, 1, 1 << 20}, {"pipeline_max", &w.pipeline_max, 1, 64},
      {"memory_kb", &w.memory_kb, 64, 1 << 22}, {"segment_kb", &w.segment_kb, 16, 65536},
      {"mix_get", &w.mix_get, 0, 1000},      {"mix_set", &w.mix_set, 0, 1000},
      {"mix_append", &w.mix_append, 0, 1000}, {"mix_delete", &w.mix_delete, 0, 1000},
      {"quiet_ops", &w.quiet_ops, 1, 100000},
  };
  for (const Field& f : fields) {
    auto v = toml_int(t, f.key, source, f.lo, f.hi, static_cast<std::int64_t>(*f.field));
    if (!v) return v.error();
    *f.field = static_cast<std::uint64_t>(*v);
  }
  auto think = toml_int(t, "think_ms_max", source, 0, 60000, w.think_ms_max);
  if (!think) return think.error();
  w.think_ms_max = *think;
  auto timeout = toml_int(t, "timeout_ms", source, 1, 600000, w.timeout_ms);
  if (!timeout) return timeout.error();
  w.timeout_ms = *timeout;
  if (w.mix_get + w.mix_set + w.mix_append + w.mix_delete == 0) {
    return toml_error(source, nullptr, "mix_get", "every mix weight is zero");
  }
  return w;
}

class KvDriver final : public ScenarioDriver {
 public:
  KvDriver(const ScenarioSpec& spec, Workload w) : spec_(spec), w_(w) {}

  void setup(sim::World& world) override {
    world_ = &world;
    histories_.resize(spec_.nodes);
    for (std::uint32_t i = 0; i < spec_.nodes; ++i) {
      NodeConfig config;
      config.name = "kv" + std::to_string(i);
      config.node_id = i;
      config.component = "kv";
      config.listen = Endpoint{config.name, kPort};
      config.bug = spec_.bug;
      config.settings = {{"memory_kb", std::to_string(w_.memory_kb)},
                         {"segment_kb", std::to_string(w_.segment_kb)},
                         {"item_size_max", std::to_string(std::min<std::uint64_t>(w_.segment_kb << 10, 1 << 20))},
                         {"trace_evictions", "true"}};
      servers_.push_back(world.add_node(sim::NodeSpec{
          config.name, spec_.cores, true, [config](Runtime& rt) { return doppel::kv::boot_kv(rt, config); }}));
    }
    client_node_ = world.add_node(sim::NodeSpec{"clients", 1, false, {}});
    world.set_observer([this](sim::NodeId node, const Event& e) { observe(node, e); });
    for (std::uint32_t c = 0; c < spec_.clients; ++c) {
      world.spawn(client_node_, 0, "kv-client", [this, c] { client(c); });
    }
  }

  sim::ClusterShape shape() const override {
    sim::ClusterShape s;
    s.servers = servers_;
    s.crashable = servers_;
    s.all = servers_;
    s.all.push_back(client_node_);
    s.cores = spec_.cores;
    return s;
  }

  void on_quiet(sim::World&) override { quiet_ = true; }
  bool finished() const override { return clients_done_ == spec_.clients && final_stats_done_; }

  void check(sim::World& world) override {
    if (clients_done_ < spec_.clients) {
      world.fail("progress", std::to_string(spec_.clients - clients_done_) +
                                 " client(s) did not finish their operations after the faults healed");
      return;
    }
    if (wants("progress") && quiet_ok_ops_ == 0 && spec_.clients > 0) {
      world.fail("progress", "no operation succeeded after the faults healed");
      return;
    }
    if (wants("linearizable")) {
      for (std::size_t i = 0; i < histories_.size(); ++i) {
        auto result = properties::linearizability::check_linearizable(histories_[i]);
        if (!result) {
          world.fail("linearizable", "the history could not be checked: " + result.error().message());
          return;
        }
        if (result->verdict == properties::linearizability::Verdict::not_linearizable) {
          world.fail("linearizable",
                     "kv" + std::to_string(i) + ": " +
                         properties::linearizability::format_counter_example(*result->counter_example));
          return;
        }
        if (result->verdict == properties::linearizability::Verdict::unknown) {
          world.record(sim::kNoNode, 0, Event("KvCheckUnknown").detail("keys", result->unknown_keys.size()));
        }
      }
    }
  }

 private:
  bool wants(std::string_view property) const {
    return std::find(spec_.properties.begin(), spec_.properties.end(), property) != spec_.properties.end();
  }

  std::size_t server_of(sim::NodeId node) const {
    for (std::size_t i = 0; i < servers_.size(); ++i) {
      if (servers_[i] == node) return i;
    }
    return servers_.size();
  }

  void observe(sim::NodeId node, const Event& e) {
    const std::int64_t now = to_ns(world_->now());
    if (e.name() == "KvItemEvicted") {
      const std::size_t s = server_of(node);
      if (s >= histories_.size()) return;
      for (int i = 0; i < e.detail_count(); ++i) {
        if (e.detail_at(i).key == "key") histories_[s].event(kSystemProcess, "evict", e.detail_at(i).text, now);
      }
    } else if (e.name() == "SimNodeCrash") {
      for (int i = 0; i < e.detail_count(); ++i) {
        if (e.detail_at(i).key != "node") continue;
        const std::size_t s = server_of(static_cast<sim::NodeId>(e.detail_at(i).number));
        if (s < histories_.size()) histories_[s].event(kSystemProcess, "restart", "", now);
      }
    }
  }

  McRequest pick(Prng& rng, std::uint32_t client, std::uint64_t n) {
    const std::uint64_t total = w_.mix_get + w_.mix_set + w_.mix_append + w_.mix_delete;
    std::uint64_t r = rng.below(total);
    McRequest req;
    req.key = "k" + std::to_string(rng.below(w_.keys));
    if (r < w_.mix_get) {
      req.f = "get";
    } else if ((r -= w_.mix_get) < w_.mix_set) {
      req.f = "set";
    } else if ((r -= w_.mix_set) < w_.mix_append) {
      req.f = "append";
    } else {
      req.f = "delete";
    }
    if (req.f == "set" || req.f == "append") {
      // Unique values make a wrong read stand out.
      req.value = "c" + std::to_string(client) + "." + std::to_string(n) + ";";
      const std::uint64_t pad = rng.below(w_.value_bytes_max + 1);
      if (req.value.size() < pad) req.value.append(pad - req.value.size(), 'x');
    }
    return req;
  }

  void client(std::uint32_t index) {
    Runtime& rt = world_->runtime(client_node_);
    Prng& rng = rt.random();
    const std::size_t server = index % servers_.size();
    History& history = histories_[server];
    const Endpoint at{"kv" + std::to_string(server), kPort};
    std::int64_t process = next_process_++;
    std::uint64_t done = 0;
    std::uint64_t quiet_done = 0;
    // During the fault phase, up to ops_per_client operations; once the faults
    // heal, quiet_ops more that must all succeed (the progress property).
    auto budget = [&] {
      if (!quiet_) return done < w_.ops_per_client;
      return quiet_done < w_.quiet_ops;
    };
    for (;;) {
      if (!budget()) {
        if (quiet_) break;
        rt.sleep(50ms);  // wait for the quiet phase
        continue;
      }
      auto s = rt.net().connect(at, Duration(w_.timeout_ms * 1'000'000));
      if (!s) {
        rt.sleep(Duration(rng.between(5, 50) * 1'000'000));
        continue;
      }
      McReader reader(**s);
      bool broken = false;
      while (!broken && budget()) {
        // A pipeline of requests on distinct keys, sent in one write.
        const std::uint64_t depth = 1 + rng.below(w_.pipeline_max);
        std::vector<McRequest> batch;
        std::string wire;
        for (std::uint64_t i = 0; i < depth; ++i) {
          McRequest req = pick(rng, index, done + batch.size());
          bool dup = false;
          for (const McRequest& b : batch) dup |= b.key == req.key;
          if (dup) continue;
          wire += kv::encode(req);
          batch.push_back(std::move(req));
        }
        // Each request of a pipeline is its own process: they are concurrent.
        std::vector<std::int64_t> procs;
        for (const McRequest& req : batch) {
          procs.push_back(process + static_cast<std::int64_t>(procs.size()) * 1'000'000);
          history.invoke(procs.back(), req.f, req.key,
                         req.f == "get" || req.f == "delete" ? Value{} : Value::of(req.value),
                         to_ns(rt.now()));
        }
        const bool sent = (*s)->write(wire, rt.now() + Duration(w_.timeout_ms * 1'000'000)).ok();
        for (std::size_t i = 0; i < batch.size(); ++i) {
          // Once one reply is missing, the rest of the stream cannot be trusted
          // to line up: the remaining requests end unknown, without reading.
          Result<McReply> reply = sent && !broken
                                      ? reader.next(batch[i], rt.now() + Duration(w_.timeout_ms * 1'000'000))
                                      : Result<McReply>(make_error(Errc::reset));
          if (!reply && reply.code() == Errc::protocol) {
            world_->fail("well-formed-replies", reply.error().what);
            return;
          }
          if (!reply || broken) {
            // Unknown outcome: it may or may not have happened.
            history.complete(procs[i], OpType::info, Value{}, to_ns(rt.now()));
            rt.record(Event("KvClientOpUnknown").detail("process", procs[i]).detail("f", batch[i].f)
                          .detail("key", batch[i].key));
            broken = true;
            continue;
          }
          Value result;
          if (batch[i].f == "get") {
            if (reply->word == "VALUE") result = Value::of(reply->value);
          } else {
            result = Value::of(reply->word);
          }
          history.complete(procs[i], OpType::ok, result, to_ns(rt.now()));
          rt.record(Event("KvClientOp").detail("process", procs[i]).detail("f", batch[i].f)
                        .detail("key", batch[i].key).detail("reply", reply->word)
                        .detail("value", reply->value.substr(0, 32)));
          if (quiet_) {
            ++quiet_ok_ops_;
            ++quiet_done;
          }
        }
        if (!quiet_) done += batch.size();
        if (broken) {
          process = next_process_++;  // a process that saw an info never comes back
          break;
        }
        if (w_.think_ms_max > 0) rt.sleep(Duration(rng.between(0, w_.think_ms_max * 1'000'000)));
      }
    }
    if (++clients_done_ == spec_.clients) final_stats(rt);
  }

  // The memory-limit property: what the node reports never exceeds its limit
  // (each store also asserts it on every allocation).
  void final_stats(Runtime& rt) {
    for (std::size_t i = 0; i < servers_.size(); ++i) {
      auto s = rt.net().connect(Endpoint{"kv" + std::to_string(i), kPort}, 2s);
      if (!s) continue;
      if (!(*s)->write("stats memory\r\n").ok()) continue;
      std::string text;
      char buf[4096];
      while (text.find("END\r\n") == std::string::npos) {
        auto n = (*s)->read(buf, rt.now() + 2s);
        if (!n || *n == 0) break;
        text.append(buf, *n);
      }
      auto stat = [&](const std::string& name) -> std::uint64_t {
        const auto at = text.find("STAT " + name + " ");
        return at == std::string::npos ? 0 : std::stoull(text.substr(at + 6 + name.size()));
      };
      if (wants("memory-limit") && stat("bytes_allocated") > w_.memory_kb * 1024) {
        world_->fail("memory-limit", "kv" + std::to_string(i) + " holds " + std::to_string(stat("bytes_allocated")) +
                                         " bytes of segments, over its limit of " +
                                         std::to_string(w_.memory_kb * 1024));
      }
      world_->record(sim::kNoNode, 0, Event("KvFinalStats").detail("node", i).detail("evicted", stat("evicted_items"))
                                         .detail("segments", stat("segments")));
    }
    final_stats_done_ = true;
  }

  const ScenarioSpec& spec_;
  Workload w_;
  sim::World* world_ = nullptr;
  std::vector<sim::NodeId> servers_;
  sim::NodeId client_node_ = 0;
  std::vector<History> histories_;
  std::int64_t next_process_ = 1;
  std::uint32_t clients_done_ = 0;
  std::uint64_t quiet_ok_ops_ = 0;
  bool quiet_ = false;
  bool final_stats_done_ = false;
};

}  // namespace

ComponentDef kv_component() {
  ComponentDef def;
  def.name = "kv";
  def.boot = &doppel::kv::boot_kv;
  def.properties = {"linearizable", "memory-limit", "progress", "well-formed-replies"};
  def.bugs = {"swapped-replies", "lost-at-roll"};
  def.probes = {"KvStarted", "KvFinalStats", "KvClientOp"};
  def.validate = [](const toml::table& workload, std::string_view source) -> Status {
    auto w = read_workload(workload, source);
    if (!w) return w.error();
    return {};
  };
  def.make = [](const ScenarioSpec& spec, std::uint64_t) -> std::unique_ptr<ScenarioDriver> {
    auto w = read_workload(spec.workload, spec.path);
    DOPPEL_ASSERT(w.ok());  // validated when the scenario was parsed
    return std::make_unique<KvDriver>(spec, *w);
  };
  return def;
}

}  // namespace doppel::scenarios
