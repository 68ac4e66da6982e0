#pragma once
// The KV scenarios' workload: every verb the server answers, in proportions
// a scenario sets ([workload] mix_*) and each seed varies (swarm testing: a
// seed turns some verbs off and weighs the others up), with the arguments
// that reach the server's less travelled paths: multi-key gets across cores,
// cas with uniques seen and stale, incr/decr at the edges of 64 bits and on
// values that are not numbers, relative, absolute and past expiry times,
// flags, noreply, values around item_size_max, 250-byte keys, flush_all with
// and without a delay.
//
// Each request is also what the history records of it (f, keys, argument),
// in the shape the linearizability checker's kv model reads (model.h).

#include <toml++/toml.h>

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "components/kv/client/memcached_client.h"
#include "components/kv/protocol/request.h"
#include "properties/history/history.h"
#include "runtime/random.h"
#include "runtime/result.h"

namespace doppel::scenarios {

// The verbs the workload sends, in the order of their mix_* keys.
enum class KvVerb : std::uint8_t {
  get,
  gets,
  gat,
  gats,
  set,
  add,
  replace,
  append,
  prepend,
  cas,
  delete_,
  incr,
  decr,
  touch,
  flush_all,
  version,
  stats,
  verbosity,
  lru_crawler,
  quit,
  mg,
  ms,
  md,
  ma,
  mn,
  me,
};
inline constexpr std::size_t kKvVerbs = 26;

struct KvWorkload {
  std::uint64_t keys = 8;
  std::uint64_t ops_per_client = 200;
  std::uint64_t value_bytes_max = 64;
  std::uint64_t pipeline_max = 4;
  std::int64_t think_ms_max = 5;
  std::int64_t timeout_ms = 500;
  std::uint64_t memory_kb = 65536;
  std::uint64_t segment_kb = 2048;
  std::uint64_t item_size_max = 0;  // 0: min(segment, 1 MiB), as the node's default
  std::uint64_t connections_max = 4096;
  // Weights of the verbs (KvVerb order). Defaults: reads and stores of every
  // kind, a little incr/decr and touch, a rare flush_all, version, stats,
  // verbosity, lru_crawler metadump and quit; the meta commands as often as
  // their classic counterparts, with every flag (kv_meta_workload.cc).
  std::array<std::uint64_t, kKvVerbs> mix{20, 10, 4, 4, 20, 5, 5, 8,  4,  8, 10, 4, 3,
                                          4,  1,  1, 1, 1,  1, 1, 12, 12, 5, 5,  1, 1};
  std::uint64_t quiet_percent = 20;  // of meta requests: with q (and so with O)
  bool mix_swarm = true;             // each seed switches some verbs off and weighs the rest
  std::uint64_t multiget_keys_max = 4;
  std::uint64_t noreply_percent = 5;
  std::uint64_t ttl_percent = 25;           // of stores, touches and gats: an expiry
  std::uint64_t ttl_absolute_percent = 30;  // of those: absolute unix time
  std::uint64_t ttl_s_max = 3;
  std::uint64_t numeric_percent = 25;   // of stored values: numbers for incr/decr
  std::uint64_t large_percent = 3;      // of stored values: around item_size_max
  std::uint64_t long_key_percent = 25;  // of keys: 250 bytes long
  std::uint64_t flags_percent = 30;
  std::uint64_t binary_percent = 10;         // of stored values: any bytes, "\r\n" included
  std::uint64_t duplicate_key_percent = 10;  // of multi-key gets: a key asked twice
  std::uint64_t flush_delay_percent = 50;
  std::uint64_t quiet_ops = 10;  // each client's operations after the faults heal: must succeed
  // An operation after the heal must succeed within this (retries included).
  std::int64_t quiet_op_ms = 3000;
  // Per key; past it the run is inconclusive. The every-verb workload's
  // busiest keys (pending noreply and timed-out requests, expiry windows on a
  // skewed clock) need up to ~15 M steps on about 1 seed in 500.
  std::uint64_t search_steps_max = 40'000'000;
  // Of seeds: the nodes also listen on a port per core (KvSettings::core_ports)
  // and each client connection goes to one of them or to the shared port.
  std::uint64_t core_ports_percent = 50;
  // Of seeds: keys owned by libmemcached's murmur3 (KvSettings::owner_hash).
  std::uint64_t libmemcached_hash_percent = 50;

  std::uint32_t item_bytes_max() const;
};

// How one seed's nodes listen and own keys.
struct KvRouting {
  static constexpr std::uint16_t kCorePorts = 11300;  // core c: 11300 + c
  bool core_ports = false;
  bool libmemcached_hash = false;

  // Drawn from a stream of its own, so the other draws of a seed do not move.
  static KvRouting of_seed(const KvWorkload& w, std::uint64_t seed);
};

// The node config's [kv] table that boots the scenario's nodes (node_settings.h).
std::string kv_node_config(const KvWorkload& w, const KvRouting& routing);

Result<KvWorkload> read_kv_workload(const toml::table& t, std::string_view source);

// One request of the workload, and what the history records of it.
struct KvOp {
  kv::Request request;
  std::string f;                  // the history's f: the verb
  std::vector<std::string> keys;  // one history operation per key; flush_all: {""}
  properties::Value args;         // each one's invocation value
};

// The request sent with "noreply" (and its history argument saying so), when
// its verb takes it: its outcome is then unknown until a later reply on the
// same connection shows the server executed it.
void make_noreply(KvOp& op);

// What a reply means for the history.
struct KvReplyMeaning {
  enum class Kind : std::uint8_t {
    known,      // `results`, one per history operation of the request
    unknown,    // no reply (or SERVER_ERROR): it may or may not have happened
    malformed,  // a reply that does not fit the request, or a refusal of a well-formed one
  };
  Kind kind = Kind::unknown;
  std::vector<properties::Value> results;
  std::string word;  // the reply's first word, for the trace
  std::string why;   // malformed: what came
};
KvReplyMeaning interpret_reply(const KvOp& op, const Result<kv::McReply>& reply);
// The same for mg, ms, md, ma, mn and me (kv_meta_workload.cc); interpret_reply hands them on.
KvReplyMeaning interpret_meta_reply(const KvOp& op, const Result<kv::McReply>& reply);

// The cas uniques clients have seen (gets, gats), a few per key, newest last.
using SeenUniques = std::map<std::string, std::deque<std::uint64_t>>;

class KvOpGenerator {
 public:
  static constexpr std::size_t kUniquesKeptMax = 4;
  static constexpr std::uint64_t kKeyBytesMax = 250;

  // `seed` varies the mix and the key names per run.
  KvOpGenerator(const KvWorkload& w, std::uint64_t seed);

  // The next request of `client` (its n-th). now_ns: the history's time;
  // wall_ns: the client's wall clock (for absolute expiry times).
  KvOp next(Prng& rng, std::uint32_t client, std::uint64_t n, const SeenUniques& seen,
            std::int64_t now_ns, std::int64_t wall_ns) const;

  const std::array<std::uint64_t, kKvVerbs>& mix() const { return mix_; }
  const std::vector<std::string>& keys() const { return keys_; }

 private:
  KvVerb pick_verb(Prng& rng) const;
  std::string value(Prng& rng, std::uint32_t client, std::uint64_t n) const;
  // The exptime to send, and its field in the history's argument (if any).
  std::int64_t expiry(Prng& rng, std::int64_t now_ns, std::int64_t wall_ns,
                      std::vector<std::pair<std::string, properties::Value>>& fields) const;
  std::uint64_t cas_unique(Prng& rng, const std::string& key, const SeenUniques& seen) const;
  // mg, ms, md, ma, mn, me with their flags (kv_meta_workload.cc).
  KvOp meta(KvVerb verb, Prng& rng, std::uint32_t client, std::uint64_t n, const SeenUniques& seen,
            std::int64_t now_ns, std::int64_t wall_ns) const;
  std::uint64_t delta(Prng& rng) const;

  KvWorkload w_;
  std::uint64_t item_bytes_max_ = 0;
  std::array<std::uint64_t, kKvVerbs> mix_{};
  std::uint64_t mix_total_ = 0;
  std::vector<std::string> keys_;
};

}  // namespace doppel::scenarios
