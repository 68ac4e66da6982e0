#include "scenarios/kv/kv_driver.h"

#include "base/toml.h"
#include "components/kv/client/memcached_client.h"
#include "components/kv/kv.h"
#include "properties/linearizability/checker.h"
#include "scenarios/cluster_driver.h"

namespace doppel::scenarios {
namespace {

using namespace std::chrono_literals;
using properties::History;
using properties::OpType;
using properties::Value;
using doppel::kv::McConnection;
using doppel::kv::McReader;
using doppel::kv::McReply;
using doppel::kv::Request;
using doppel::kv::Verb;

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
  Workload w;
  TomlFields f(t, source);
  auto u64 = [&](std::string_view key, std::int64_t lo, std::int64_t hi, std::uint64_t& field) {
    field = static_cast<std::uint64_t>(f.integer(key, lo, hi, static_cast<std::int64_t>(field)));
  };
  u64("keys", 1, 100000, w.keys);
  u64("ops_per_client", 1, 1000000, w.ops_per_client);
  u64("value_bytes_max", 1, 1 << 20, w.value_bytes_max);
  u64("pipeline_max", 1, 64, w.pipeline_max);
  u64("memory_kb", 64, 1 << 22, w.memory_kb);
  u64("segment_kb", 16, 65536, w.segment_kb);
  u64("mix_get", 0, 1000, w.mix_get);
  u64("mix_set", 0, 1000, w.mix_set);
  u64("mix_append", 0, 1000, w.mix_append);
  u64("mix_delete", 0, 1000, w.mix_delete);
  u64("quiet_ops", 1, 100000, w.quiet_ops);
  w.think_ms_max = f.integer("think_ms_max", 0, 60000, w.think_ms_max);
  w.timeout_ms = f.integer("timeout_ms", 1, 600000, w.timeout_ms);
  f.reject_unknown_keys();
  if (f.ok() && w.mix_get + w.mix_set + w.mix_append + w.mix_delete == 0) {
    f.fail("mix_get", "every mix weight is zero");
  }
  if (!f.ok()) return f.error();
  return w;
}

// One operation of the workload: what the history calls it, and its request.
struct Op {
  std::string f;  // get | set | append | delete
  Request request;
  const std::string& key() const { return request.keys[0]; }
};

class KvDriver final : public ClusterDriver {
 public:
  KvDriver(const ScenarioSpec& spec, Workload w) : ClusterDriver(spec), w_(w) {}

  void setup(sim::World& world) override {
    histories_.resize(spec_.nodes);
    doppel::kv::KvSettings settings;
    settings.memory_bytes = w_.memory_kb << 10;
    settings.segment_bytes = static_cast<std::uint32_t>(w_.segment_kb << 10);
    settings.item_bytes_max = static_cast<std::uint32_t>(std::min<std::uint64_t>(w_.segment_kb << 10, 1 << 20));
    settings.trace_evictions = true;
    settings.planted_bug = *doppel::kv::kv_planted_bug(component_bug());  // validated with the scenario
    add_cluster(world, "kv", [&](std::uint32_t i, const std::string& name) -> NodeBoot {
      NodeConfig config;
      config.name = name;
      config.node_id = i;
      config.component = "kv";
      config.listen = Endpoint{name, kPort};
      return [config, settings](Runtime& rt) { return doppel::kv::boot(rt, config, settings); };
    });
    world.set_observer([this](sim::NodeId node, const Event& e) { observe(node, e); });
    for (std::uint32_t c = 0; c < spec_.clients; ++c) {
      world.spawn(client_node_, 0, "kv-client", [this, c] { client(c); });
    }
  }

  void on_quiet(sim::World&) override { quiet_ = true; }
  bool finished() const override { return clients_done_ == spec_.clients && final_stats_done_; }

  void check(sim::World& world) override {
    (void)world;
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

  Op pick(Prng& rng, std::uint32_t client, std::uint64_t n) {
    const std::uint64_t total = w_.mix_get + w_.mix_set + w_.mix_append + w_.mix_delete;
    std::uint64_t r = rng.below(total);
    Op op;
    std::string key = "k" + std::to_string(rng.below(w_.keys));
    if (r < w_.mix_get) {
      op.f = "get";
    } else if ((r -= w_.mix_get) < w_.mix_set) {
      op.f = "set";
    } else if ((r -= w_.mix_set) < w_.mix_append) {
      op.f = "append";
    } else {
      op.f = "delete";
    }
    if (op.f == "get") {
      op.request = doppel::kv::get_request(std::move(key));
    } else if (op.f == "delete") {
      op.request = doppel::kv::delete_request(std::move(key));
    } else {
      // Unique values make a wrong read stand out.
      std::string value = "c" + std::to_string(client) + "." + std::to_string(n) + ";";
      const std::uint64_t pad = rng.below(w_.value_bytes_max + 1);
      if (value.size() < pad) value.append(pad - value.size(), 'x');
      op.request = doppel::kv::store_request(op.f == "set" ? Verb::set : Verb::append, std::move(key),
                                             std::move(value));
    }
    return op;
  }

  void client(std::uint32_t index) {
    Runtime& rt = client_runtime();
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
        std::vector<Op> batch;
        std::string wire;
        for (std::uint64_t i = 0; i < depth; ++i) {
          Op op = pick(rng, index, done + batch.size());
          bool dup = false;
          for (const Op& b : batch) dup |= b.key() == op.key();
          if (dup) continue;
          doppel::kv::encode_to(op.request, wire);
          batch.push_back(std::move(op));
        }
        // Each request of a pipeline is its own process: they are concurrent.
        std::vector<std::int64_t> procs;
        for (const Op& op : batch) {
          procs.push_back(process + static_cast<std::int64_t>(procs.size()) * 1'000'000);
          history.invoke(procs.back(), op.f, op.key(),
                         op.f == "get" || op.f == "delete" ? Value{} : Value::of(op.request.data),
                         to_ns(rt.now()));
        }
        const bool sent = (*s)->write(wire, rt.now() + Duration(w_.timeout_ms * 1'000'000)).ok();
        for (std::size_t i = 0; i < batch.size(); ++i) {
          // Once one reply is missing, the rest of the stream cannot be trusted
          // to line up: the remaining requests end unknown, without reading.
          Result<McReply> reply =
              sent && !broken ? reader.next(batch[i].request, rt.now() + Duration(w_.timeout_ms * 1'000'000))
                              : Result<McReply>(make_error(Errc::reset));
          // The workload sends only well-formed requests: a refusal is as wrong as a misfit.
          if (!reply && (reply.code() == Errc::protocol || reply.code() == Errc::invalid_argument)) {
            world_->fail("well-formed-replies", reply.error().what);
            return;
          }
          if (!reply || broken) {
            // Unknown outcome: it may or may not have happened.
            history.complete(procs[i], OpType::info, Value{}, to_ns(rt.now()));
            rt.record(Event("KvClientOpUnknown").detail("process", procs[i]).detail("f", batch[i].f)
                          .detail("key", batch[i].key()));
            broken = true;
            continue;
          }
          Value result;
          const std::string value = reply->hit() ? reply->values[0].data : std::string();
          const std::string word = reply->hit() ? "VALUE" : reply->word;
          if (batch[i].f == "get") {
            if (reply->hit()) result = Value::of(value);
          } else {
            result = Value::of(reply->word);
          }
          history.complete(procs[i], OpType::ok, result, to_ns(rt.now()));
          rt.record(Event("KvClientOp").detail("process", procs[i]).detail("f", batch[i].f)
                        .detail("key", batch[i].key()).detail("reply", word)
                        .detail("value", value.substr(0, 32)));
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
      auto s = rt.net().connect(Endpoint{server_name("kv", static_cast<std::uint32_t>(i)), kPort}, 2s);
      if (!s) continue;
      Request request;
      request.verb = Verb::stats;
      request.stats_group = "memory";
      auto stats = McConnection(**s).call(request, rt.now() + 2s);
      if (!stats) continue;
      auto stat = [&](std::string_view name) { return McConnection::stat(*stats, name).value_or(0); };
      if (stat("bytes_allocated") > w_.memory_kb * 1024) {
        violated("memory-limit", "kv" + std::to_string(i) + " holds " + std::to_string(stat("bytes_allocated")) +
                                     " bytes of segments, over its limit of " + std::to_string(w_.memory_kb * 1024));
      }
      world_->record(sim::kNoNode, 0, Event("KvFinalStats").detail("node", i).detail("evicted", stat("evicted_items"))
                                         .detail("segments", stat("segments")));
    }
    final_stats_done_ = true;
  }

  Workload w_;
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
  def.properties = {"linearizable", "memory-limit", "progress", "well-formed-replies"};
  def.bugs = {"swapped-replies", "lost-at-roll"};
  def.probes = {"KvStarted", "KvFinalStats", "KvClientOp"};
  def.buggify_components = {"kv"};
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
