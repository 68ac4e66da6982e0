#include "components/kv/server/server.h"

#include <map>

#include "components/http/scrape.h"
#include "components/kv/kv.h"
#include "components/kv/protocol/parser.h"
#include "components/kv/protocol/response.h"
#include "components/kv/server/metrics.h"
#include "components/kv/server/ownership.h"
#include "components/kv/server/stats.h"
#include "runtime/future.h"

namespace doppel::kv {
namespace {

using namespace std::chrono_literals;

// BUGGIFY sites of the server (runtime/buggify.h): what a real network and a
// busy machine can do to a memcached server, never a wrong answer.
const BuggifySite kAcceptAtLimit{"kv.accept.at_limit",
                                 "a new connection is turned away as if at the connection limit"};
const BuggifySite kShortRead{"kv.conn.short_read",
                             "a read from a connection returns at most 7 bytes"};
const BuggifySite kCloseIdle{
    "kv.conn.close_idle",
    "a connection with no request pending is closed once idle for 100 ms (idle timeout)"};
// memcached's idle_timeout, scaled down to a simulated run: a connection is idle when nothing
// arrived for this long, not at the instant its last reply went out (closing then would turn a
// pipelining client's next requests into unknowns on nearly every firing, where a real idle
// timeout catches only a client that paused).
constexpr Duration kIdleTimeout = 100ms;
const BuggifySite kSplitReply{"kv.reply.split_write",
                              "a batch's replies go out in two writes, up to 5 ms apart"};
const BuggifySite kTinyReplyWrites{"kv.reply.tiny_writes",
                                   "a batch's replies go out 1 to 16 bytes per write"};
const BuggifySite kSlowSender{"kv.forward.slow_sender",
                              "a connection's core waits up to 2 ms before forwarding a batch"};
const BuggifySite kSlowTarget{
    "kv.forward.slow_target",
    "a forwarded batch waits up to 5 ms on its owner core before it runs"};

const SometimesSite kCorePortOwner{"kv.core_port.owner",
                                   "a key sent to a core's own port is that core's"};

// Up to this many bytes per write when kTinyReplyWrites fires.
constexpr std::int64_t kTinyWriteBytesMax = 16;
constexpr std::int64_t kShortReadBytesMax = 7;

Error listen_error(const Endpoint& at, const Error& e) {
  return make_error(e.code, "listen on " + at.to_string() + ": " + e.message());
}

ProtocolLimits limits_for(const KvSettings& c) {
  ProtocolLimits l;
  l.value_bytes_max = c.item_bytes_max;
  l.strict_keys = c.strict_keys;
  return l;
}

}  // namespace

// One parsed request (or protocol error) of a batch read from a connection.
struct BatchEntry {
  std::optional<Request> request;
  std::string immediate;  // an error line, or a reply that needs no store
  bool answered = false;  // by `immediate` alone (no request, or one the store has no part in)
  std::uint32_t first_unit = 0;  // where its keys' placements start (answer_run)
};

// A connection as `stats conns` shows it.
struct KvService::Connection {
  std::uint64_t id = 0;  // unique in the node: n * cores + the core
  Endpoint peer;
  std::int64_t last_command_s = 0;
  bool core_port = false;  // came in on its core's own port (KvSettings::core_ports)
};

struct KvService::CoreState {
  std::unique_ptr<Listener> listener;       // the node's port, shared by every core
  std::unique_ptr<Listener> core_listener;  // this core's own port, if core_ports is set
  std::map<Stream*, Connection> connections;
  std::uint64_t accepted = 0;
  std::uint64_t live = 0;
  std::unique_ptr<Condition> drained;
  std::vector<std::uint64_t> forwarded_to;  // units, by target core
  std::vector<std::uint64_t> waiting_on;    // units sent to each core, not answered yet
};

const std::vector<std::uint64_t>& KvService::forwarded_to(CoreId core) const {
  return cores_[core]->forwarded_to;
}

const std::vector<std::uint64_t>& KvService::waiting_on(CoreId core) const {
  return cores_[core]->waiting_on;
}

KvService::KvService(Runtime& rt, const KvSettings& config, const NodeConfig& node)
    : rt_(rt), config_(config), node_(node) {}

KvService::~KvService() = default;

Status KvService::start() {
  const CoreId cores = rt_.core_count();
  started_at_ =
      std::chrono::duration_cast<std::chrono::seconds>(rt_.wall_now().time_since_epoch()).count();
  StoreOptions probe;
  probe.memory_bytes_max = config_.memory_bytes / cores;
  probe.segment_bytes = config_.segment_bytes;
  probe.item_bytes_max = config_.item_bytes_max;
  if (Status s = check_options(probe); !s) {
    return make_error(Errc::invalid_argument,
                      "memory_mb: each of the " + std::to_string(cores) +
                          " cores gets too little memory: " + s.error().what);
  }
  if (Status s = config_.check_ports(node_.listen.port, cores); !s) return s;
  shards_.resize(cores);
  cores_.resize(cores);
  for (CoreId c = 0; c < cores; ++c) {
    // Built on its own core, so its memory is first touched there.
    // Planted bug: every core takes the node's whole memory (each store
    // keeps within what it was given, so only the node's total shows it).
    const std::uint64_t share = config_.planted_bug == KvPlantedBug::node_memory_per_core
                                    ? config_.memory_bytes
                                    : config_.memory_bytes / cores;
    auto made = run_on(rt_, c, [this, c, share] {
                  shards_[c] = std::make_unique<Shard>(rt_, c, config_, share);
                  cores_[c] = std::make_unique<CoreState>();
                  cores_[c]->drained = std::make_unique<Condition>(rt_);
                  cores_[c]->forwarded_to.assign(rt_.core_count(), 0);
                  cores_[c]->waiting_on.assign(rt_.core_count(), 0);
                  auto l = rt_.net().listen(node_.listen, ListenOptions{true, 1024});
                  if (!l) return std::optional<Error>(listen_error(node_.listen, l.error()));
                  cores_[c]->listener = std::move(*l);
                  if (config_.core_ports != 0) {
                    const Endpoint own = core_endpoint(c);
                    auto cl = rt_.net().listen(own, ListenOptions{false, 1024});
                    if (!cl) return std::optional<Error>(listen_error(own, cl.error()));
                    cores_[c]->core_listener = std::move(*cl);
                  }
                  return std::optional<Error>();
                }).get();
    if (!made) return make_error(Errc::cancelled, "core " + std::to_string(c) + " did not start");
    if (*made) return **made;
  }
  if (config_.metrics_listen) {
    metrics_router_.add("GET", "/metrics", [this](http::Request&) -> Result<http::Response> {
      return http::scrape(*metrics_server_, kv_metrics(*this));
    });
    http::ServerOptions options;
    options.connections_max = kMetricsConnectionsMax;
    metrics_server_ = std::make_unique<http::HttpServer>(rt_, *config_.metrics_listen,
                                                         metrics_router_.handler(), options);
    if (Status s = metrics_server_->start(); !s) {
      return make_error(s.code(), "metrics_listen: " + s.error().message());
    }
  }
  for (CoreId c = 0; c < cores; ++c) {
    rt_.spawn_on(c, "kv-accept", [this, c] { accept_loop(c, *cores_[c]->listener, false); });
    if (cores_[c]->core_listener) {
      rt_.spawn_on(c, "kv-accept-core-port",
                   [this, c] { accept_loop(c, *cores_[c]->core_listener, true); });
    }
  }
  rt_.record(Event("KvStarted")
                 .detail("cores", cores)
                 .detail("memory_bytes", config_.memory_bytes)
                 .detail("core_ports", config_.core_ports)
                 .detail("owner_hash", config_.owner_hash == OwnerHash::murmur3
                                           ? "murmur3"
                                           : "libmemcached-murmur3"));
  return {};
}

Endpoint KvService::core_endpoint(CoreId core) const {
  return Endpoint{node_.listen.host, static_cast<std::uint16_t>(config_.core_ports + core)};
}

void KvService::accept_loop(CoreId core, Listener& listener, bool core_port) {
  CoreState& cs = *cores_[core];
  for (;;) {
    auto accepted = listener.accept();
    if (!accepted) {
      if (accepted.code() == Errc::closed || stopping_) return;
      rt_.sleep(10ms);  // EMFILE and friends: back off rather than spin
      continue;
    }
    // The limit is the node's, as memcached's -c is the process's: a quota per core turned
    // clients away early whenever SO_REUSEPORT spread them unevenly (10 000 connections over
    // two cores went past one core's half of 10 100: tests/cli/limits_test.sh).
    if (live_total_.load(std::memory_order_relaxed) >= config_.connections_max ||
        buggify(rt_, kAcceptAtLimit)) {
      const std::string out = std::string(kTooManyConnections) + "\r\n";
      (void)(*accepted)->write(out, rt_.now() + 1s);
      continue;  // the stream closes as it goes out of scope
    }
    ++cs.live;
    live_total_.fetch_add(1, std::memory_order_relaxed);
    ShardCounters& counters = shards_[core]->counters();
    ++counters.curr_connections;
    ++counters.total_connections;
    rt_.spawn("kv-conn",
              [this, core, core_port, stream = std::shared_ptr<Stream>(std::move(*accepted))] {
                CoreState& state = *cores_[core];
                Connection& conn = state.connections[stream.get()];
                conn.id = state.accepted++ * rt_.core_count() + core;
                conn.peer = stream->peer();
                conn.core_port = core_port;
                conn.last_command_s = shards_[core]->now_seconds();
                const bool clean = serve(core, *stream, conn);
                state.connections.erase(stream.get());
                // Planted bug: a connection that ended in an error keeps its slot.
                if (clean || config_.planted_bug != KvPlantedBug::conn_leak_on_error) {
                  --state.live;
                  live_total_.fetch_sub(1, std::memory_order_relaxed);
                }
                --shards_[core]->counters().curr_connections;
                state.drained->notify_all();
              });
  }
}

bool KvService::serve(CoreId core, Stream& stream, Connection& conn) {
  Parser parser(limits_for(config_));
  std::string in;
  std::vector<char> buf(kReadBytes);
  std::string out;  // a batch's replies; its capacity is kept from batch to batch
  auto batch_owner = std::make_shared<std::vector<BatchEntry>>();
  for (;;) {
    // Parse every complete request we have (up to a limit), then answer them. The last
    // batch's vector is reused unless another core still holds it (a cancelled forward).
    if (batch_owner.use_count() == 1) {
      batch_owner->clear();
    } else {
      batch_owner = std::make_shared<std::vector<BatchEntry>>();
    }
    std::vector<BatchEntry>& batch = *batch_owner;
    bool need_more = false, close_after = false;
    std::size_t used = 0;
    while (batch.size() < kBatchRequestsMax) {
      std::size_t consumed = 0;
      ParseOutcome o = parser.parse(std::string_view(in).substr(used), &consumed);
      used += consumed;
      if (std::holds_alternative<NeedMoreBytes>(o)) {
        need_more = true;
        break;
      }
      if (auto* e = std::get_if<ProtocolError>(&o)) {
        BatchEntry entry;
        // memcached: noreply silences errors too; a close may come without a word.
        if (!e->noreply && !e->reply_line.empty()) append_error(entry.immediate, *e);
        if (!e->drop_key.empty()) {
          // A set too large to store still removes the old value (memcached).
          entry.request = Request{.verb = Verb::delete_, .keys = {e->drop_key}, .noreply = true};
        }
        batch.push_back(std::move(entry));
        if (e->close_connection) {
          close_after = true;
          break;
        }
        continue;
      }
      Request& r = std::get<Request>(o);
      if (r.verb == Verb::quit) {
        close_after = true;
        break;
      }
      batch.push_back(BatchEntry{std::move(r)});
    }
    in.erase(0, used);
    if (!batch.empty()) conn.last_command_s = shards_[core]->now_seconds();
    if (!batch.empty()) {
      out.clear();
      answer(core, conn, batch_owner, out);
      if (!write_replies(stream, out)) return false;
    }
    if (close_after || stopping_) return true;
    if (need_more) {
      // Nothing half-read and every reply sent: a server may close the connection once it
      // stays idle (memcached's idle timeout), and the client must cope.
      const Instant idle_deadline =
          in.empty() && buggify(rt_, kCloseIdle) ? rt_.now() + kIdleTimeout : kNever;
      std::span<char> into(buf);
      if (buggify(rt_, kShortRead)) {
        into = into.first(static_cast<std::size_t>(rt_.random().between(1, kShortReadBytesMax)));
      }
      auto n = stream.read(into, idle_deadline);
      if (!n) return n.code() == Errc::timed_out && idle_deadline != kNever;  // idle: a clean close
      if (*n == 0) return true;
      in.append(buf.data(), *n);
    }
  }
}

// The replies of a batch, in one write unless a BUGGIFY site cuts them up.
bool KvService::write_replies(Stream& stream, std::string_view out) {
  if (out.size() > 1 && buggify(rt_, kSplitReply)) {
    const std::size_t half = out.size() / 2;
    if (!stream.write(out.substr(0, half))) return false;
    rt_.sleep(Duration(rt_.random().between(10'000, 5'000'000)));
    out.remove_prefix(half);
  } else if (buggify(rt_, kTinyReplyWrites)) {
    while (out.size() > 1) {
      const auto piece = std::min<std::size_t>(
          out.size() - 1, static_cast<std::size_t>(rt_.random().between(1, kTinyWriteBytesMax)));
      if (!stream.write(out.substr(0, piece))) return false;
      out.remove_prefix(piece);
    }
  }
  return out.empty() || stream.write(out).ok();
}

void KvService::answer(CoreId core, const Connection& conn,
                       const std::shared_ptr<std::vector<BatchEntry>>& batch_owner,
                       std::string& out) {
  std::vector<BatchEntry>& batch = *batch_owner;
  std::size_t begin = 0;
  while (begin < batch.size()) {
    // flush_all, stats and lru_crawler touch every core: they are barriers between runs.
    std::size_t end = begin;
    while (end < batch.size() &&
           !(batch[end].request && (batch[end].request->verb == Verb::flush_all ||
                                    batch[end].request->verb == Verb::stats ||
                                    batch[end].request->verb == Verb::lru_crawler))) {
      ++end;
    }
    answer_run(core, conn, batch_owner, begin, end, out);
    if (end < batch.size()) {
      BatchEntry& barrier = batch[end];
      if (barrier.request->verb == Verb::flush_all) {
        flush_all(*barrier.request, out);
      } else if (barrier.request->verb == Verb::lru_crawler) {
        metadump(*barrier.request, out);
      } else {
        append_stats(*this, barrier.request->stats_group, out);
      }
      ++end;
    }
    begin = end;
  }
}

CoreId KvService::owner(std::string_view key, CoreId core, const Connection& conn) const {
  // Planted bug: a request on a core's own port is taken as routed by the client and runs
  // there, though the key may be another core's (a client with another hash, or none).
  if (conn.core_port && config_.planted_bug == KvPlantedBug::core_port_runs_local) return core;
  return owner_core(key, rt_.core_count(), config_.owner_hash);
}

namespace {

// Commands answered by the connection's core without the store: their reply goes in
// `immediate`. False for the others.
bool answer_without_store(const Request& r, std::string& immediate) {
  switch (r.verb) {
    case Verb::version:
      append_version(immediate, kVersion);
      return true;
    case Verb::verbosity:
      if (!r.noreply) append_reply(immediate, Reply::ok);
      return true;
    case Verb::mn:
      immediate += "MN\r\n";
      return true;
    default:
      return false;
  }
}

// Planted bug: the first two forwarded replies matched to the wrong requests.
void swap_first_two(ShardReplies& r) {
  const std::string first(r.at(0)), second(r.at(1));
  r.bytes.replace(0, r.ends[1], second + first);
  r.ends[0] = static_cast<std::uint32_t>(second.size());
}

}  // namespace

void KvService::answer_run(CoreId core, const Connection& conn,
                           const std::shared_ptr<std::vector<BatchEntry>>& batch_owner,
                           std::size_t begin, std::size_t end, std::string& out) {
  std::vector<BatchEntry>& batch = *batch_owner;
  const CoreId cores = rt_.core_count();
  const std::int64_t now = shards_[core]->now_seconds();
  bool all_here = true;
  for (std::size_t i = begin; i < end && all_here; ++i) {
    BatchEntry& e = batch[i];
    if (!e.request || answer_without_store(*e.request, e.immediate)) {
      e.answered = true;
      continue;
    }
    for (const std::string& key : e.request->keys) {
      const CoreId at = owner(key, core, conn);
      if (conn.core_port) sometimes(rt_, kCorePortOwner, at == core);
      if (at != core) {
        all_here = false;
        break;
      }
    }
  }
  // The connection's core is slow to forward (or to start), so the others run ahead.
  (void)buggify_sleep(rt_, kSlowSender, 2ms, std::chrono::microseconds(10));
  if (all_here) {
    // Every key is this core's (one core, or a client that routes by owner): the replies go
    // straight into `out`, in order, with no per-reply buffer.
    Shard& shard = *shards_[core];
    std::string discarded;  // a noreply request's reply
    for (std::size_t i = begin; i < end; ++i) {
      BatchEntry& e = batch[i];
      out += e.immediate;
      if (e.answered) continue;
      const Request& r = *e.request;
      const std::int64_t expires = absolute_expiry(r.exptime, now);
      if (is_retrieval(r.verb)) {
        for (std::size_t k = 0; k < r.keys.size(); ++k) shard.execute_into({&r, k, expires}, out);
        append_reply(out, Reply::end);
      } else {
        discarded.clear();
        shard.execute_into({&r, 0, expires}, r.noreply ? discarded : out);
      }
    }
    return;
  }
  // Where each key's reply will be: (core, index in that core's units), entry by entry.
  std::vector<std::vector<Unit>> units(cores);
  std::vector<std::pair<CoreId, std::uint32_t>> placed;
  for (std::size_t i = begin; i < end; ++i) {
    BatchEntry& e = batch[i];
    if (!e.answered && (!e.request || answer_without_store(*e.request, e.immediate))) {
      e.answered = true;
    }
    e.first_unit = static_cast<std::uint32_t>(placed.size());
    if (e.answered) continue;
    Request& r = *e.request;
    const std::int64_t expires = absolute_expiry(r.exptime, now);
    for (std::size_t k = 0; k < r.keys.size(); ++k) {
      const CoreId at = owner(r.keys[k], core, conn);
      placed.emplace_back(at, static_cast<std::uint32_t>(units[at].size()));
      units[at].push_back(Unit{&r, k, expires});
    }
  }
  // Forward first, then do our own share while the others work. A forwarded
  // list owns what it points into (the batch), so it stays valid even if this
  // fiber is cancelled while the other core still works on it.
  std::vector<Future<ShardReplies>> futures(cores);
  std::vector<std::size_t> forwarded(cores);  // units sent to each core
  // The queue depth /metrics shows: units sent and not answered, back down as each core
  // answers (or as the fiber unwinds, cancelled).
  struct Waiting {
    std::vector<std::uint64_t>& on;
    std::vector<std::size_t> units;
    void answered(CoreId c) {
      on[c] -= units[c];
      units[c] = 0;
    }
    ~Waiting() {
      for (CoreId c = 0; c < units.size(); ++c) on[c] -= units[c];
    }
  } waiting{cores_[core]->waiting_on, std::vector<std::size_t>(cores)};
  for (CoreId c = 0; c < cores; ++c) {
    if (c == core || units[c].empty()) continue;
    forwarded[c] = units[c].size();
    cores_[core]->forwarded_to[c] += units[c].size();
    cores_[core]->waiting_on[c] += units[c].size();
    waiting.units[c] = units[c].size();
    auto list = std::make_shared<std::vector<Unit>>(std::move(units[c]));
    // A shard's work never waits, so it runs as a posted task: no fiber is made for it.
    // Unless the owner core is busy: then it waits there in a fiber, and the connection's
    // core waits for it.
    if (buggify(rt_, kSlowTarget)) {
      const Duration delay(rt_.random().between(10'000, 5'000'000));
      futures[c] = run_on(rt_, c, [&rt = rt_, shard = shards_[c].get(), list, batch_owner, delay] {
        rt.sleep(delay);
        return shard->execute(*list, true);
      });
      continue;
    }
    futures[c] = call_on(rt_, c, [shard = shards_[c].get(), list, batch_owner = batch_owner] {
      return shard->execute(*list, true);
    });
  }
  std::vector<ShardReplies> results(cores);
  if (!units[core].empty()) results[core] = shards_[core]->execute(units[core], false);
  for (CoreId c = 0; c < cores; ++c) {
    if (!futures[c].valid()) continue;
    auto got = futures[c].get();
    waiting.answered(c);
    if (!got) {
      for (std::size_t u = 0; u < forwarded[c]; ++u) {
        append_server_error(results[c].bytes, "shutting down");
        results[c].ends.push_back(static_cast<std::uint32_t>(results[c].bytes.size()));
      }
      continue;
    }
    results[c] = std::move(*got);
    if (config_.planted_bug == KvPlantedBug::swapped_replies && results[c].ends.size() >= 2) {
      swap_first_two(results[c]);
    }
  }
  for (std::size_t i = begin; i < end; ++i) {
    BatchEntry& e = batch[i];
    out += e.immediate;
    if (e.answered) continue;
    const Request& r = *e.request;
    if (is_retrieval(r.verb)) {
      for (std::size_t k = 0; k < r.keys.size(); ++k) {
        const auto [c, idx] = placed[e.first_unit + k];
        out += results[c].at(idx);
      }
      append_reply(out, Reply::end);
    } else if (!r.noreply) {
      const auto [c, idx] = placed[e.first_unit];
      out += results[c].at(idx);
    }
  }
}

void KvService::flush_all(const Request& r, std::string& out) {
  // With a delay, one flush time for every core, from core 0's clock. Without
  // one, each core flushes now by its own clock: another core's "now" may be
  // ahead of it, and would turn the flush into a delayed one there.
  const std::int64_t now = shards_[0]->now_seconds();
  const std::int64_t at = r.delay ? absolute_expiry(*r.delay, now) : 0;
  for (CoreId c = 0; c < rt_.core_count(); ++c) {
    (void)run_on(rt_, c, [shard = shards_[c].get(), at] {
      const std::int64_t shard_now = shard->now_seconds();
      shard->flush_all(at == 0 ? shard_now : at, shard_now);
    }).get();
  }
  if (!r.noreply) append_reply(out, Reply::ok);
}

std::string KvService::connection_stats() {
  std::string out;
  for (CoreId c = 0; c < rt_.core_count(); ++c) {
    auto lines = run_on(rt_, c, [this, c] {
                   std::string part;
                   const std::int64_t now = shards_[c]->now_seconds();
                   for (const auto& [stream, conn] : cores_[c]->connections) {
                     const std::string p = std::to_string(conn.id) + ":";
                     append_stat(part, p + "addr", "tcp:" + conn.peer.to_string());
                     append_stat(part, p + "state", "conn_parse_cmd");
                     append_stat(part, p + "secs_since_last_cmd", now - conn.last_command_s);
                   }
                   return part;
                 }).get();
    if (lines) out += *lines;
  }
  return out;
}

// lru_crawler metadump all (or class,...: a class is a core + 1, as stats items/slabs number
// them): each core lists its own live items, in core order; unknown classes list nothing.
void KvService::metadump(const Request& r, std::string& out) {
  DOPPEL_ASSERT(r.subcommand.starts_with("metadump "));  // the only one the parser takes
  const std::string_view classes = std::string_view(r.subcommand).substr(9);
  const auto wanted = [&](CoreId c) {
    if (classes == "all") return true;
    const std::string id = std::to_string(c + 1);
    for (std::size_t at = 0; at <= classes.size();) {
      const std::size_t comma = std::min(classes.find(',', at), classes.size());
      if (classes.substr(at, comma - at) == id) return true;
      at = comma + 1;
    }
    return false;
  };
  for (CoreId c = 0; c < rt_.core_count(); ++c) {
    if (!wanted(c)) continue;
    auto lines = run_on(rt_, c, [shard = shards_[c].get()] { return shard->metadump(); }).get();
    if (lines) out += *lines;
  }
  append_reply(out, Reply::end);
}

void KvService::stop() {
  stopping_ = true;
  rt_.record(Event("KvStopping"));
  if (metrics_server_) metrics_server_->stop();
  for (CoreId c = 0; c < rt_.core_count(); ++c) {
    // Stop accepting; close idle connections (a busy one finishes its batch).
    (void)run_on(rt_, c, [this, c] {
      CoreState& cs = *cores_[c];
      if (cs.listener) cs.listener->close();
      if (cs.core_listener) cs.core_listener->close();
      for (auto& [s, conn] : cs.connections) s->close();
      const Instant deadline = rt_.now() + 5s;
      while (cs.live > 0 && rt_.now() < deadline) cs.drained->wait(deadline);
    }).get();
  }
}

Result<std::unique_ptr<Service>> boot(Runtime& rt, const NodeConfig& node,
                                      const KvSettings& settings) {
  if (Status s = settings.check(); !s) return s.error();
  auto service = std::make_unique<KvService>(rt, settings, node);
  if (Status s = service->start(); !s) return s.error();
  return std::unique_ptr<Service>(std::move(service));
}

}  // namespace doppel::kv
