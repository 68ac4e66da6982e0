#include "scenarios/kv/kv_driver.h"

#include <cstdlib>
#include <set>

#include "base/base64.h"
#include "base/toml.h"
#include "components/kv/client/memcached_client.h"
#include "components/kv/kv.h"
#include "components/kv/store/item.h"
#include "properties/linearizability/checker.h"
#include "scenarios/cluster_driver.h"
#include "scenarios/kv/kv_workload.h"
#include "scenarios/node_settings.h"

namespace doppel::scenarios {
namespace {

using namespace std::chrono_literals;
using doppel::kv::McConnection;
using doppel::kv::McReader;
using doppel::kv::McReply;
using doppel::kv::Request;
using doppel::kv::Verb;
using properties::History;
using properties::OpType;
using properties::Value;
namespace lin = properties::linearizability;

constexpr std::uint16_t kPort = 11211;
constexpr std::int64_t kSystemProcess = -1;  // evictions, restarts in histories

// A node's wall clock as the simulator sets it: stepped and drifting
// (sim/world.cc). We follow its SimClockSkew events to bound how far it
// strays from the true time, the error the kv model allows an expiry.
struct ClockError {
  std::int64_t offset_ns = 0;
  std::int64_t drift_ppm = 0;
  std::int64_t since_ns = 0;
  std::int64_t max_abs_ns = 0;

  std::int64_t now_offset(std::int64_t now_ns) const {
    return offset_ns + (now_ns - since_ns) / 1'000'000 * drift_ppm;  // as the world drifts
  }
  void step(std::int64_t now_ns, std::int64_t step_ns, std::int64_t ppm) {
    const std::int64_t before = now_offset(now_ns);
    offset_ns = before + step_ns;
    max_abs_ns = std::max({max_abs_ns, std::abs(before), std::abs(offset_ns)});
    drift_ppm = ppm;
    since_ns = now_ns;
  }
  // The faults healed: the world set the clock right.
  void reset(std::int64_t now_ns) { step(now_ns, -now_offset(now_ns), 0); }
  // The bound, with a millisecond to spare for rounding.
  std::int64_t bound_ns() const { return max_abs_ns == 0 ? 0 : max_abs_ns + 1'000'000; }
};

// What the segment allocations a node reported add up to (the memory-limit
// oracle: the simulator's own sum, not the server's stats).
struct MemoryTally {
  std::int64_t bytes = 0;
  std::int64_t peak_bytes = 0;
  bool counting = true;  // false from a crash until the node starts again
};

// One request sent, and its history operations (one per key).
struct Sent {
  KvOp op;
  std::vector<std::int64_t> processes;
  std::uint32_t client = 0;
  std::int64_t invoked_ns = 0;
};

class KvDriver final : public ClusterDriver {
 public:
  KvDriver(const ScenarioSpec& spec, KvWorkload w, std::uint64_t seed)
      : ClusterDriver(spec),
        w_(w),
        generator_(w, seed),
        routing_(KvRouting::of_seed(w, seed)),
        port_rng_(Prng(seed).fork(0x706f7274)) {}

  void setup(sim::World& world) override {
    histories_.resize(spec_.nodes);
    clocks_.resize(spec_.nodes);
    memory_.resize(spec_.nodes);
    seen_.resize(spec_.nodes);
    auto read = read_node_settings<doppel::kv::KvSettings>("kv", kv_node_config(w_, routing_));
    DOPPEL_ASSERT(read.ok());  // validated with the scenario
    doppel::kv::KvSettings settings = *read;
    // The oracles judge by the workload's values: the node must run with those.
    DOPPEL_ASSERT_MSG(settings.memory_bytes == w_.memory_kb << 10 &&
                          settings.segment_bytes == w_.segment_kb << 10 &&
                          settings.item_bytes_max == w_.item_bytes_max() &&
                          settings.connections_max == w_.connections_max &&
                          settings.trace_evictions &&
                          (settings.core_ports != 0) == routing_.core_ports,
                      "the node config's [kv] table was read as other settings than it holds");
    settings.planted_bug =
        *doppel::kv::kv_planted_bug(component_bug());  // validated with the scenario
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

  void on_quiet(sim::World& world) override {
    quiet_ = true;
    // The world set every clock right: the drift so far is the last to count.
    for (ClockError& c : clocks_) c.reset(to_ns(world.now()));
  }
  bool finished() const override { return clients_done_ == spec_.clients && final_stats_done_; }

  void check(sim::World& world) override {
    if (clients_done_ < spec_.clients) {
      world.fail("progress", std::to_string(spec_.clients - clients_done_) +
                                 " client(s) did not finish their operations after the faults "
                                 "healed");
      return;
    }
    if (!memory_violation_.empty() && violated("memory-limit", memory_violation_)) return;
    if (wants("linearizable")) check_histories(world);
  }

 private:
  std::size_t server_of(sim::NodeId node) const {
    for (std::size_t i = 0; i < servers_.size(); ++i) {
      if (servers_[i] == node) return i;
    }
    return servers_.size();
  }

  static const Event::Detail* detail(const Event& e, std::string_view key) {
    for (int i = 0; i < e.detail_count(); ++i) {
      if (e.detail_at(i).key == key) return &e.detail_at(i);
    }
    return nullptr;
  }

  // The server named by the event's "node" detail (events the world records).
  std::size_t server_in(const Event& e) const {
    const Event::Detail* d = detail(e, "node");
    return d == nullptr ? servers_.size() : server_of(static_cast<sim::NodeId>(d->number));
  }

  void observe(sim::NodeId node, const Event& e) {
    const std::int64_t now = to_ns(world_->now());
    const std::string_view name = e.name();
    if (name == "KvItemEvicted") {
      const std::size_t s = server_of(node);
      const Event::Detail* key = detail(e, "key");
      if (s < histories_.size() && key != nullptr) {
        histories_[s].event(kSystemProcess, "evict", key->text, now);
      }
    } else if (name == "KvSegmentAllocated" || name == "KvSegmentsReleased") {
      tally_memory(server_of(node), name == "KvSegmentAllocated", e);
    } else if (name == "KvStarted") {
      const std::size_t s = server_of(node);
      if (s < memory_.size()) memory_[s] = MemoryTally{0, memory_[s].peak_bytes, true};
    } else if (name == "SimNodeCrash") {
      const std::size_t s = server_in(e);
      if (s >= histories_.size()) return;
      histories_[s].event(kSystemProcess, "restart", "", now);
      memory_[s].bytes = 0;  // the process's memory is gone with it
      memory_[s].counting = false;
    } else if (name == "SimClockSkew") {
      const std::size_t s = server_in(e);
      const Event::Detail* offset = detail(e, "offset_ns");
      const Event::Detail* ppm = detail(e, "drift_ppm");
      if (s < clocks_.size() && offset != nullptr && ppm != nullptr) {
        clocks_[s].step(now, offset->number, ppm->number);
      }
    }
  }

  void tally_memory(std::size_t s, bool allocated, const Event& e) {
    const Event::Detail* bytes = detail(e, "bytes");
    if (s >= memory_.size() || bytes == nullptr || !memory_[s].counting) return;
    MemoryTally& m = memory_[s];
    m.bytes += allocated ? bytes->number : -bytes->number;
    m.peak_bytes = std::max(m.peak_bytes, m.bytes);
    const auto limit = static_cast<std::int64_t>(w_.memory_kb << 10);
    if (m.bytes > limit && memory_violation_.empty()) {
      memory_violation_ = "kv" + std::to_string(s) + " allocated " + std::to_string(m.bytes) +
                          " bytes of segments, over its limit of " + std::to_string(limit);
    }
    if (m.bytes < 0 && memory_violation_.empty()) {
      memory_violation_ = "kv" + std::to_string(s) + " released more segment bytes than it took";
    }
  }

  // The counter-example's window into the trace, for the trace viewer (cli/trace_page.h).
  static void record_window(sim::World& world, std::size_t node, const lin::CounterExample& ce) {
    const lin::WindowView v = lin::window_view(ce);
    std::string initial;
    for (const std::string& s : v.initial) initial += (initial.empty() ? "" : " or ") + s;
    world.record(sim::kNoNode, 0,
                 Event("LinWindow")
                     .detail("node", node)
                     .detail("key", v.key)
                     .detail("initial", initial)
                     .detail("note", v.note));
    for (const lin::WindowOp& op : v.ops) {
      world.record(sim::kNoNode, 0,
                   Event("LinWindowOp")
                       .detail("client", op.process)
                       .detail("op", op.op)
                       .detail("start", op.start_ns)
                       .detail("end", op.end_ns)
                       .detail("culprit", op.culprit)
                       .detail("order", op.order)
                       .detail("state", op.state));
    }
  }

  void check_histories(sim::World& world) {
    for (std::size_t i = 0; i < histories_.size(); ++i) {
      lin::CheckOptions options;
      options.steps_max = w_.search_steps_max;
      options.clock_error_ns = clocks_[i].bound_ns();
      options.item_bytes_max = w_.item_bytes_max();
      options.item_header_bytes_max = doppel::kv::kItemHeaderBytesMax;
      auto result = lin::check_linearizable(histories_[i], options);
      if (!result) {
        world.fail("linearizable", "the history could not be checked: " + result.error().message());
        return;
      }
      world.record(sim::kNoNode, 0,
                   Event("KvChecked")
                       .detail("node", i)
                       .detail("operations", result->operations)
                       .detail("steps", result->steps)
                       .detail("clock_error_ns", options.clock_error_ns));
      if (result->verdict == lin::Verdict::not_linearizable) {
        record_window(world, i, *result->counter_example);
        world.fail("linearizable", "kv" + std::to_string(i) + ": " +
                                       lin::format_counter_example(*result->counter_example));
        return;
      }
      if (result->verdict == lin::Verdict::unknown) {
        // Not shown to hold is not a pass: raise [workload] search_steps_max.
        world.fail("inconclusive",
                   "kv" + std::to_string(i) + ": " + lin::summarize(*result, lin::ModelKind::kv) +
                       " (search_steps_max = " + std::to_string(w_.search_steps_max) + ")");
        return;
      }
    }
  }

  // The next pipeline: requests on distinct keys (so each key's operations
  // are few at a time), the last one answered, so every noreply request
  // before it is known to have been executed once its answer comes; a quit
  // ends it.
  std::vector<Sent> make_batch(Runtime& rt, std::uint32_t client, std::uint64_t& serial,
                               const SeenUniques& seen) {
    Prng& rng = rt.random();
    const std::int64_t now_ns = to_ns(rt.now());
    const std::int64_t wall_ns = rt.wall_now().time_since_epoch().count();
    const std::uint64_t depth = 1 + rng.below(w_.pipeline_max);
    std::vector<Sent> batch;
    for (std::uint64_t i = 0; i < depth; ++i) {
      KvOp op = generator_.next(rng, client, serial++, seen, now_ns, wall_ns);
      bool dup = false;
      for (const Sent& b : batch) {
        for (const std::string& k : b.op.keys) {
          dup |= std::find(op.keys.begin(), op.keys.end(), k) != op.keys.end();
        }
      }
      if (dup) continue;
      const bool quit = op.request.verb == Verb::quit;
      batch.push_back(Sent{std::move(op), {}, client, 0});
      if (quit) break;
    }
    for (std::size_t i = 0; i + 1 < batch.size(); ++i) {
      if (rng.below(100) < w_.noreply_percent) make_noreply(batch[i].op);
    }
    // A q request's reply may be left out, which shows only once a later reply comes: "mn"
    // after it, as protocol.txt suggests.
    if (!batch.empty() && batch.back().op.request.meta.quiet) {
      KvOp mn;
      mn.f = "mn";
      mn.request.verb = Verb::mn;
      batch.push_back(Sent{std::move(mn), {}, client, 0});
    }
    return batch;
  }

  // Checks a stats reply against what the scenario knows (the node's cores,
  // memory and keys) and against itself.
  void check_stats(const Request& request, const McReply& reply) {
    const auto stat = [&](std::string_view name) { return McConnection::stat(reply, name); };
    const auto wrong = [&](std::string what) {
      violated("stats-accurate", "stats " + request.stats_group + ": " + what);
    };
    if (request.stats_group.empty()) {
      if (stat("threads") != spec_.cores) wrong("threads is not the node's cores");
      if (stat("limit_maxbytes") != w_.memory_kb << 10) wrong("limit_maxbytes is not its memory");
      if (stat("curr_items").value_or(~0ull) > w_.keys) wrong("more items than keys");
      if (stat("curr_connections").value_or(0) == 0) wrong("no connection, answering one");
    } else if (request.stats_group == "memory") {
      const auto segments = stat("segments"), segment_bytes = stat("segment_bytes");
      const auto allocated = stat("bytes_allocated"), segments_max = stat("segments_max");
      if (!segments || !segment_bytes || !allocated || !segments_max) return wrong("missing");
      if (*segments > *segments_max) wrong("more segments than segments_max");
      if (*allocated != *segments * *segment_bytes) wrong("bytes_allocated is not segments");
    } else if (request.stats_group == "settings") {
      if (stat("maxbytes") != w_.memory_kb << 10) wrong("maxbytes is not the node's memory");
      if (stat("num_threads") != spec_.cores) wrong("num_threads is not the node's cores");
    } else if (request.stats_group == "items" || request.stats_group == "slabs") {
      // One class per core with segments in use (stats.cc): its figures sum up.
      std::uint64_t items = 0, bytes = 0, classes = 0;
      for (std::uint64_t c = 1; c <= spec_.cores; ++c) {
        const std::string n = std::to_string(c);
        items += stat("items:" + n + ":number").value_or(0);
        const auto pages = stat(n + ":total_pages");
        bytes += pages.value_or(0) * stat(n + ":chunk_size").value_or(0);
        classes += pages ? 1 : 0;
      }
      if (items > w_.keys) wrong("more items than keys");
      if (request.stats_group == "slabs") {
        if (stat("active_slabs") != classes) wrong("active_slabs is not the classes listed");
        if (stat("total_malloced") != bytes) wrong("total_malloced is not the pages listed");
      }
    } else if (request.stats_group == "conns") {
      // At least the connection that asks; each with its address.
      std::size_t addrs = 0;
      for (const std::string& l : reply.lines) addrs += l.find(":addr tcp:") != l.npos ? 1 : 0;
      if (addrs == 0) wrong("not even the asking connection");
      if (addrs > w_.connections_max) wrong("more connections than connections_max");
    } else if (request.stats_group == "reset") {
      if (reply.word != "RESET") wrong("answered " + reply.word);
    }
  }

  // lru_crawler metadump: every key at most once (one core owns it and holds one version), no
  // more keys than the workload uses, each line well-formed.
  void check_metadump(const McReply& reply) {
    std::set<std::string> seen;
    for (const std::string& line : reply.lines) {
      const std::size_t end = line.find(' ');
      if (end == std::string::npos || line.find(" exp=") != end ||
          line.find(" cls=") == line.npos) {
        violated("stats-accurate", "lru_crawler metadump: the line '" + line.substr(0, 64) + "'");
        return;
      }
      if (!seen.insert(line.substr(4, end - 4)).second) {
        violated("stats-accurate", "lru_crawler metadump lists " + line.substr(0, end) + " twice");
        return;
      }
    }
    if (seen.size() > w_.keys)
      violated("stats-accurate", "lru_crawler metadump: more keys than used");
  }

  // The reach table's names for one request: its verb, and each option it used.
  void reached_request(const KvOp& op) {
    const Request& r = op.request;
    reached(op.f);
    if (r.noreply) reached(op.f + "+noreply");
    if (r.keys.size() > 1) reached(op.f + "+several-keys");
    if (r.flags != 0) reached(op.f + "+flags");
    if (r.delay) reached(op.f + "+delay");
    if (!r.stats_group.empty()) reached(op.f + " " + r.stats_group);
    if (r.exptime < 0) reached(op.f + "+ttl-negative");
    // memcached reads an exptime over 30 days as an absolute unix time.
    constexpr std::int64_t kRelativeMax = 60 * 60 * 24 * 30;
    if (r.exptime > kRelativeMax) reached(op.f + "+ttl-absolute");
    if (r.exptime > 0 && r.exptime <= kRelativeMax) reached(op.f + "+ttl-relative");
    if (doppel::kv::is_meta(r.verb)) {
      const doppel::kv::MetaFlags& m = r.meta;
      for (const char letter : m.returned) reached(op.f + "+" + letter);
      for (const auto& [on, name] : {std::pair{m.quiet, "q"},
                                     {m.base64_key, "b"},
                                     {m.value, "v"},
                                     {m.no_bump, "u"},
                                     {m.invalidate, "I"},
                                     {m.ttl.has_value(), "T"},
                                     {m.vivify_ttl.has_value(), "N"},
                                     {m.recache_s.has_value(), "R"},
                                     {m.compare_cas.has_value(), "C"},
                                     {m.client_flags.has_value(), "F"},
                                     {m.initial.has_value(), "J"},
                                     {m.delta.has_value(), "D"},
                                     {m.mode != 0, "M"}}) {
        if (on) reached(op.f + "+" + name);
      }
    }
  }

  void invoke(History& history, Sent& s, std::int64_t now) {
    for (const std::string& key : s.op.keys) {
      s.processes.push_back(next_process_++);
      history.invoke(s.processes.back(), s.op.f, key, s.op.args, now);
    }
  }

  void complete(History& history, const Sent& s, OpType type, const std::vector<Value>& results,
                std::int64_t now) {
    for (std::size_t k = 0; k < s.processes.size(); ++k) {
      history.complete(s.processes[k], type, type == OpType::ok ? results[k] : Value{}, now);
    }
  }

  // The uniques a gets or gats showed (or a meta command's c), for later cas requests.
  void remember_uniques(SeenUniques& seen, const Request& request, const Result<McReply>& reply) {
    if (!reply) return;
    const auto keep = [&](const std::string& key, std::uint64_t unique) {
      if (unique == 0) return;
      auto& kept = seen[key];
      kept.push_back(unique);
      if (kept.size() > KvOpGenerator::kUniquesKeptMax) kept.pop_front();
    };
    for (const doppel::kv::McValue& v : reply->values) keep(v.key, v.cas_unique);
    if (auto c = reply->meta_flag('c'); c && !request.keys.empty()) {
      keep(request.keys[0], std::strtoull(c->c_str(), nullptr, 10));
    }
  }

  // me: "<key> exp=<s> cas=<u> fetch=<yes|no> cls=<core + 1> size=<bytes>".
  void check_meta_debug(const Request& request, const McReply& reply) {
    if (reply.word != "ME") return;
    const std::string key =
        request.meta.base64_key ? base64_encode(request.keys[0]) : request.keys[0];
    const std::string& line = reply.lines.at(0);
    const std::size_t cls = line.find(" cls=");
    const bool shaped =
        line.starts_with(key + " exp=") && line.find(" cas=") != line.npos &&
        (line.find(" fetch=yes") != line.npos || line.find(" fetch=no") != line.npos) &&
        cls != line.npos && line.find(" size=") != line.npos;
    const std::uint64_t core = shaped ? std::strtoull(line.c_str() + cls + 5, nullptr, 10) : 0;
    if (!shaped || core < 1 || core > spec_.cores) {
      world_->fail("well-formed-replies",
                   "me " + key.substr(0, 32) + ": 'ME " + line.substr(0, 96) + "'");
    }
  }

  // Sends one pipeline and reads its replies; false if the stream broke (or
  // a quit closed it).
  bool run_batch(Runtime& rt, Stream& stream, McReader& reader, std::size_t server,
                 std::vector<Sent>& batch) {
    History& history = histories_[server];
    std::string wire;
    for (Sent& s : batch) {
      doppel::kv::encode_to(s.op.request, wire);
      s.invoked_ns = to_ns(rt.now());
      invoke(history, s, s.invoked_ns);
      reached_request(s.op);
    }
    const Duration timeout(w_.timeout_ms * 1'000'000);
    bool broken = !stream.write(wire, rt.now() + timeout).ok();
    std::vector<const Sent*> unanswered;  // noreply requests not yet known to be executed
    for (const Sent& s : batch) {
      if (s.op.request.noreply && !broken) {
        unanswered.push_back(&s);
        continue;
      }
      if (s.op.request.verb == Verb::quit) {
        // Nothing more: the server closes (noreply ones before it stay unknown).
        const Status closed = broken ? Status{} : reader.closed(rt.now() + timeout);
        if (!closed && closed.error().code == Errc::protocol) {
          world_->fail("well-formed-replies", closed.error().what);
          return false;
        }
        broken = true;
        continue;
      }
      // Once one reply is missing, the rest of the stream cannot be trusted
      // to line up: the remaining requests end unknown, without reading.
      const Result<McReply> reply = broken ? Result<McReply>(make_error(Errc::reset))
                                           : reader.next(s.op.request, rt.now() + timeout);
      const KvReplyMeaning m = interpret_reply(s.op, reply);
      const std::int64_t now = to_ns(rt.now());
      if (m.kind == KvReplyMeaning::Kind::malformed) {
        world_->fail("well-formed-replies", m.why);
        return false;
      }
      if (m.kind == KvReplyMeaning::Kind::unknown) {
        for (const Sent* u : unanswered) complete(history, *u, OpType::info, {}, now);
        unanswered.clear();
        complete(history, s, OpType::info, {}, now);
        rt.record(Event("KvClientOpUnknown")
                      .detail("f", s.op.f)
                      .detail("key", s.op.keys.empty() ? "" : s.op.keys[0].substr(0, 32))
                      .detail("client", s.client)
                      .detail("start", s.invoked_ns)
                      .detail("outcome", "unknown"));
        broken = true;
        continue;
      }
      // An answer to a later request: every noreply one before it was executed.
      for (const Sent* u : unanswered) {
        complete(history, *u, OpType::ok, std::vector<Value>(u->processes.size()), now);
      }
      unanswered.clear();
      if (s.op.request.verb == Verb::gets || s.op.request.verb == Verb::gats ||
          doppel::kv::is_meta(s.op.request.verb)) {
        remember_uniques(seen_[server], s.op.request, reply);
      }
      if (s.op.request.verb == Verb::me) check_meta_debug(s.op.request, *reply);
      if (s.op.request.verb == Verb::stats) check_stats(s.op.request, *reply);
      if (s.op.request.verb == Verb::lru_crawler) check_metadump(*reply);
      complete(history, s, OpType::ok, m.results, now);
      const std::string key = s.op.keys.empty() ? "" : s.op.keys[0].substr(0, 32);
      // An error reply is an operation that failed (it changed nothing).
      const bool refused = m.word.find("ERROR") != std::string::npos;
      rt.record(Event("KvClientOp")
                    .detail("f", s.op.f)
                    .detail("key", key)
                    .detail("reply", m.word)
                    .detail("client", s.client)
                    .detail("start", s.invoked_ns)
                    .detail("outcome", refused ? "fail" : "ok"));
    }
    for (const Sent* u : unanswered) complete(history, *u, OpType::info, {}, to_ns(rt.now()));
    return !broken;
  }

  // Liveness after the heal: an operation may be retried, but must succeed
  // within quiet_op_ms of its first attempt. False (and the run failed) if not.
  bool within_bound(Runtime& rt, std::uint32_t client, const std::optional<Instant>& since,
                    std::string_view what) {
    if (!since || rt.now() - *since <= Duration(w_.quiet_op_ms * 1'000'000)) return true;
    violated("progress", "client " + std::to_string(client) + ": no " + std::string(what) +
                             " succeeded within " + std::to_string(w_.quiet_op_ms) +
                             " ms after the faults healed");
    return false;
  }

  void client(std::uint32_t index) {
    Runtime& rt = client_runtime();
    const std::size_t server = index % servers_.size();
    const std::string host = server_name("kv", static_cast<std::uint32_t>(server));
    std::uint64_t done = 0, quiet_done = 0;
    std::uint64_t serial = 0;        // of the requests made: values stay unique
    std::optional<Instant> waiting;  // after the heal: since when an operation waits to succeed
    // During the fault phase, up to ops_per_client operations; once the faults
    // heal, quiet_ops more that must all succeed (the progress property).
    auto budget = [&] { return quiet_ ? quiet_done < w_.quiet_ops : done < w_.ops_per_client; };
    for (;;) {
      if (!budget()) {
        if (quiet_) break;
        rt.sleep(50ms);  // wait for the quiet phase
        continue;
      }
      if (quiet_ && !waiting) waiting = rt.now();
      if (!within_bound(rt, index, waiting, "connection")) return;
      auto s = rt.net().connect(Endpoint{host, port()}, Duration(w_.timeout_ms * 1'000'000));
      if (!s) {
        rt.sleep(Duration(rt.random().between(5, 50) * 1'000'000));
        continue;
      }
      McReader reader(**s);
      bool broken = false;
      while (!broken && budget()) {
        if (quiet_ && !waiting) waiting = rt.now();
        std::vector<Sent> batch = make_batch(rt, index, serial, seen_[server]);
        const bool was_quiet = quiet_;
        broken = !run_batch(rt, **s, reader, server, batch);
        if (world_->failed()) return;
        if (!was_quiet) done += batch.size();
        if (was_quiet && !broken) {
          quiet_done += batch.size();
          waiting.reset();
        }
        if (!within_bound(rt, index, waiting, "request")) return;
        if (w_.think_ms_max > 0) {
          rt.sleep(Duration(rt.random().between(0, w_.think_ms_max * 1'000'000)));
        }
      }
    }
    if (++clients_done_ == spec_.clients) final_stats(rt);
  }

  // The shared port, or with per-core ports, one of those in two connections out of three: a
  // key then reaches its owner directly, or from the wrong core by forwarding.
  std::uint16_t port() {
    if (!routing_.core_ports || port_rng_.below(3) == 0) return kPort;
    return static_cast<std::uint16_t>(KvRouting::kCorePorts + port_rng_.below(spec_.cores));
  }

  // What each node says of its memory, for the trace (the memory-limit
  // property does not take its word: see tally_memory).
  void final_stats(Runtime& rt) {
    for (std::size_t i = 0; i < servers_.size(); ++i) {
      auto s =
          rt.net().connect(Endpoint{server_name("kv", static_cast<std::uint32_t>(i)), kPort}, 2s);
      if (!s) continue;
      Request request;
      request.verb = Verb::stats;
      request.stats_group = "memory";
      auto stats = McConnection(**s).call(request, rt.now() + 2s);
      if (!stats) continue;
      auto stat = [&](std::string_view name) {
        return McConnection::stat(*stats, name).value_or(0);
      };
      // Nothing runs now: the server's figure must be what the world measured.
      if (memory_[i].counting &&
          stat("bytes_allocated") != static_cast<std::uint64_t>(memory_[i].bytes)) {
        violated("stats-accurate", "kv" + std::to_string(i) + " reports bytes_allocated " +
                                       std::to_string(stat("bytes_allocated")) +
                                       ", the world saw " + std::to_string(memory_[i].bytes) +
                                       " allocated");
      }
      world_->record(sim::kNoNode, 0,
                     Event("KvFinalStats")
                         .detail("node", i)
                         .detail("evicted", stat("evicted_items"))
                         .detail("segments", stat("segments"))
                         .detail("bytes_allocated", stat("bytes_allocated"))
                         .detail("bytes_measured", memory_[i].bytes)
                         .detail("peak_measured", memory_[i].peak_bytes));
    }
    final_stats_done_ = true;
  }

  KvWorkload w_;
  KvOpGenerator generator_;
  KvRouting routing_;
  Prng port_rng_;  // of the clients' connections
  std::vector<History> histories_;
  std::vector<ClockError> clocks_;
  std::vector<MemoryTally> memory_;
  std::vector<SeenUniques> seen_;
  std::string memory_violation_;
  std::int64_t next_process_ = 1;
  std::uint32_t clients_done_ = 0;
  bool quiet_ = false;
  bool final_stats_done_ = false;
};

}  // namespace

ComponentDef kv_component() {
  ComponentDef def;
  def.name = "kv";
  def.properties = {"linearizable", "memory-limit", "progress", "well-formed-replies",
                    "stats-accurate"};
  def.bugs = {"swapped-replies",    "lost-at-roll",         "node-memory-per-core",
              "conn-leak-on-error", "stats-skip-last-core", "core-port-runs-local"};
  def.probes = {"KvStarted", "KvFinalStats", "KvClientOp", "KvChecked"};
  def.buggify_components = {"kv"};
  def.validate = [](const toml::table& workload, std::string_view source) -> Status {
    auto w = read_kv_workload(workload, source);
    if (!w) return w.error();
    // A node must boot with what the workload asks of it, as doppel serve would check it.
    const KvRouting all_on{true, true};
    if (auto s = read_node_settings<doppel::kv::KvSettings>("kv", kv_node_config(*w, all_on)); !s) {
      return make_error(
          Errc::invalid_argument,
          std::string(source) +
              ": the nodes refuse the settings [workload] gives them: " + s.error().what);
    }
    return {};
  };
  def.make = [](const ScenarioSpec& spec, std::uint64_t seed) -> std::unique_ptr<ScenarioDriver> {
    auto w = read_kv_workload(spec.workload, spec.path);
    DOPPEL_ASSERT(w.ok());  // validated when the scenario was parsed
    return std::make_unique<KvDriver>(spec, *w, seed);
  };
  return def;
}

}  // namespace doppel::scenarios
