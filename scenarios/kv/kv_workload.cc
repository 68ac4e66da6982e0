#include "scenarios/kv/kv_workload.h"

#include <algorithm>
#include <limits>

#include "base/toml.h"

namespace doppel::scenarios {
namespace {

using properties::Value;
using Fields = std::vector<std::pair<std::string, Value>>;

constexpr std::array<std::string_view, kKvVerbs> kVerbNames{
    "get",         "gets",   "gat",  "gats", "set",   "add",       "replace", "append", "prepend",
    "cas",         "delete", "incr", "decr", "touch", "flush_all", "version", "stats",  "verbosity",
    "lru_crawler", "quit",   "mg",   "ms",   "md",    "ma",        "mn",      "me",
};
constexpr std::array<kv::Verb, kKvVerbs> kWireVerbs{
    kv::Verb::get,     kv::Verb::gets,      kv::Verb::gat,         kv::Verb::gats,
    kv::Verb::set,     kv::Verb::add,       kv::Verb::replace,     kv::Verb::append,
    kv::Verb::prepend, kv::Verb::cas,       kv::Verb::delete_,     kv::Verb::incr,
    kv::Verb::decr,    kv::Verb::touch,     kv::Verb::flush_all,   kv::Verb::version,
    kv::Verb::stats,   kv::Verb::verbosity, kv::Verb::lru_crawler, kv::Verb::quit,
    kv::Verb::mg,      kv::Verb::ms,        kv::Verb::md,          kv::Verb::ma,
    kv::Verb::mn,      kv::Verb::me,
};
constexpr std::array<std::string_view, 9> kStatsGroups{
    "", "cores", "memory", "settings", "items", "slabs", "sizes", "conns", "reset"};
constexpr std::int64_t kSecondNs = 1'000'000'000;
constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

Value digits(std::uint64_t n) {
  return Value::of(std::to_string(n));
}

Value args_of(Fields fields) {
  return fields.empty() ? Value{} : Value::map(std::move(fields));
}

}  // namespace

std::uint32_t KvWorkload::item_bytes_max() const {
  if (item_size_max != 0) return static_cast<std::uint32_t>(item_size_max);
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(segment_kb << 10, 1 << 20));
}

KvRouting KvRouting::of_seed(const KvWorkload& w, std::uint64_t seed) {
  Prng rng = Prng(seed).fork(0x726f757465);
  KvRouting r;
  r.core_ports = rng.below(100) < w.core_ports_percent;
  r.libmemcached_hash = rng.below(100) < w.libmemcached_hash_percent;
  return r;
}

std::string kv_node_config(const KvWorkload& w, const KvRouting& routing) {
  // trace_evictions: the memory-limit oracle follows every eviction (KvItemEvicted).
  std::string config = "memory_kb = " + std::to_string(w.memory_kb) +
                       "\nsegment_kb = " + std::to_string(w.segment_kb) +
                       "\nitem_size_max = " + std::to_string(w.item_bytes_max()) +
                       "\nconnections_max = " + std::to_string(w.connections_max) +
                       "\ntrace_evictions = true\n";
  if (routing.core_ports) config += "core_ports = " + std::to_string(KvRouting::kCorePorts) + "\n";
  if (routing.libmemcached_hash) config += "owner_hash = \"libmemcached-murmur3\"\n";
  return config;
}

Result<KvWorkload> read_kv_workload(const toml::table& t, std::string_view source) {
  KvWorkload w;
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
  u64("item_size_max", 0, 16 << 20, w.item_size_max);
  u64("connections_max", 1, 1 << 20, w.connections_max);
  for (std::size_t v = 0; v < kKvVerbs; ++v) {
    u64("mix_" + std::string(kVerbNames[v]), 0, 1000, w.mix[v]);
  }
  w.mix_swarm = f.boolean("mix_swarm", w.mix_swarm);
  u64("multiget_keys_max", 1, 64, w.multiget_keys_max);
  for (auto [key, field] : {std::pair{"noreply_percent", &w.noreply_percent},
                            {"ttl_percent", &w.ttl_percent},
                            {"ttl_absolute_percent", &w.ttl_absolute_percent},
                            {"numeric_percent", &w.numeric_percent},
                            {"large_percent", &w.large_percent},
                            {"long_key_percent", &w.long_key_percent},
                            {"flags_percent", &w.flags_percent},
                            {"binary_percent", &w.binary_percent},
                            {"duplicate_key_percent", &w.duplicate_key_percent},
                            {"flush_delay_percent", &w.flush_delay_percent},
                            {"quiet_percent", &w.quiet_percent},
                            {"core_ports_percent", &w.core_ports_percent},
                            {"libmemcached_hash_percent", &w.libmemcached_hash_percent}}) {
    u64(key, 0, 100, *field);
  }
  u64("ttl_s_max", 1, 3600, w.ttl_s_max);
  u64("quiet_ops", 1, 100000, w.quiet_ops);
  u64("search_steps_max", 1000, std::int64_t{1} << 40, w.search_steps_max);
  w.think_ms_max = f.integer("think_ms_max", 0, 60000, w.think_ms_max);
  w.timeout_ms = f.integer("timeout_ms", 1, 600000, w.timeout_ms);
  w.quiet_op_ms = f.integer("quiet_op_ms", 1, 600000, w.quiet_op_ms);
  f.reject_unknown_keys();
  std::uint64_t total = 0;
  for (const std::uint64_t m : w.mix) total += m;
  if (f.ok() && total == 0) f.fail("mix_get", "every mix weight is zero");
  if (f.ok() && (w.item_bytes_max() < 1024 || w.item_bytes_max() > (w.segment_kb << 10))) {
    f.fail("item_size_max", "must be in [1024, segment_kb * 1024]");
  }
  if (!f.ok()) return f.error();
  return w;
}

KvOpGenerator::KvOpGenerator(const KvWorkload& w, std::uint64_t seed)
    : w_(w), item_bytes_max_(w.item_bytes_max()) {
  Prng rng = Prng(seed).fork(0x6b76);
  // Swarm testing: a quarter of the verbs off, the rest weighed 1 to 3 times.
  for (std::size_t v = 0; v < kKvVerbs; ++v) {
    mix_[v] = w.mix[v] * (w.mix_swarm ? rng.below(4) : 1);
    mix_total_ += mix_[v];
  }
  if (mix_total_ == 0) {
    mix_ = w.mix;
    for (const std::uint64_t m : mix_) mix_total_ += m;
  }
  for (std::uint64_t i = 0; i < w.keys; ++i) {
    std::string key = "k" + std::to_string(i);
    if (rng.below(100) < w.long_key_percent) {
      key += ':';
      key.resize(kKeyBytesMax, static_cast<char>('a' + i % 26));
    }
    keys_.push_back(std::move(key));
  }
}

KvVerb KvOpGenerator::pick_verb(Prng& rng) const {
  std::uint64_t r = rng.below(mix_total_);
  for (std::size_t v = 0; v < kKvVerbs; ++v) {
    if (r < mix_[v]) return static_cast<KvVerb>(v);
    r -= mix_[v];
  }
  return KvVerb::get;
}

std::string KvOpGenerator::value(Prng& rng, std::uint32_t client, std::uint64_t n) const {
  // Unique values make a wrong read stand out.
  std::string tag = "c" + std::to_string(client) + "." + std::to_string(n) + ";";
  if (rng.below(100) < w_.numeric_percent) {
    switch (rng.below(6)) {
      case 0:
        return std::to_string(kU64Max - rng.below(64));  // incr wraps
      case 1:
        return "000" + std::to_string(rng.below(100));  // leading zeros are digits too
      case 2:
        return std::string(20, '9');  // 20 digits over 2^64: not a number
      case 3:
        return "-" + std::to_string(rng.below(100));  // signs are not numbers
      default:
        return std::to_string(rng.below(1000));
    }
  }
  if (rng.below(100) < w_.large_percent) {
    // Around the limit: some fit, some are refused (SERVER_ERROR object too large).
    const std::int64_t around =
        static_cast<std::int64_t>(w_.item_bytes_max()) + rng.between(-300, 300);
    tag.resize(static_cast<std::size_t>(std::max<std::int64_t>(around, 1)), 'L');
    return tag;
  }
  const std::uint64_t pad = rng.below(w_.value_bytes_max + 1);
  if (rng.below(100) < w_.binary_percent) {
    // Values are bytes: "\r\n", NUL and "END\r\n" inside one must not end it.
    tag += "\r\nEND\r\n";
    while (tag.size() < pad) tag += static_cast<char>(rng.below(256));
    return tag;
  }
  if (tag.size() < pad) tag.append(pad - tag.size(), 'x');
  return tag;
}

std::int64_t KvOpGenerator::expiry(Prng& rng, std::int64_t now_ns, std::int64_t wall_ns,
                                   Fields& fields) const {
  if (rng.below(100) >= w_.ttl_percent) return 0;
  if (rng.chance(1, 10)) {
    fields.emplace_back("ttl_s", Value::of(-1));  // already expired
    return -1;
  }
  const auto ttl = static_cast<std::int64_t>(1 + rng.below(w_.ttl_s_max));
  if (rng.below(100) < w_.ttl_absolute_percent) {
    // memcached's absolute exptime: unix seconds. The history has its own time.
    const std::int64_t at_s = wall_ns / kSecondNs + ttl;
    fields.emplace_back("expires_ns", Value::of(at_s * kSecondNs - (wall_ns - now_ns)));
    return at_s;
  }
  fields.emplace_back("ttl_s", Value::of(ttl));
  return ttl;
}

std::uint64_t KvOpGenerator::cas_unique(Prng& rng, const std::string& key,
                                        const SeenUniques& seen) const {
  const auto it = seen.find(key);
  const std::uint64_t roll = rng.below(10);
  if (it != seen.end() && !it->second.empty() && roll < 8) {
    // Mostly the newest seen (it may still hold), else an older, stale one.
    if (roll < 6 || it->second.size() == 1) return it->second.back();
    return it->second[rng.below(it->second.size() - 1)];
  }
  return rng.below(2) == 0 ? 0 : 1 + rng.below(1000);
}

std::uint64_t KvOpGenerator::delta(Prng& rng) const {
  switch (rng.below(8)) {
    case 0:
      return kU64Max - rng.below(10);  // incr wraps, decr floors at 0
    case 1:
      return rng.below(std::uint64_t{1} << 40);
    default:
      return 1 + rng.below(100);
  }
}

KvOp KvOpGenerator::next(Prng& rng, std::uint32_t client, std::uint64_t n, const SeenUniques& seen,
                         std::int64_t now_ns, std::int64_t wall_ns) const {
  const KvVerb verb = pick_verb(rng);
  if (static_cast<std::size_t>(verb) >= static_cast<std::size_t>(KvVerb::mg)) {
    return meta(verb, rng, client, n, seen, now_ns, wall_ns);
  }
  const auto v = static_cast<std::size_t>(verb);
  KvOp op;
  op.f = std::string(kVerbNames[v]);
  op.request.verb = kWireVerbs[v];
  kv::Request& r = op.request;
  const std::string& key = keys_[rng.below(keys_.size())];
  Fields fields;
  if (kv::is_retrieval(r.verb)) {
    // Several keys, likely owned by different cores, answered in key order.
    const std::uint64_t count =
        1 + rng.below(std::min<std::uint64_t>(w_.multiget_keys_max, keys_.size()));
    while (r.keys.size() < count) {
      const std::string& k = keys_[rng.below(keys_.size())];
      if (std::find(r.keys.begin(), r.keys.end(), k) == r.keys.end()) r.keys.push_back(k);
    }
    if (rng.below(100) < w_.duplicate_key_percent) {
      // memcached answers a key asked twice twice.
      r.keys.insert(r.keys.begin() + static_cast<std::ptrdiff_t>(rng.below(r.keys.size() + 1)),
                    r.keys[rng.below(r.keys.size())]);
    }
    op.keys = r.keys;
    if (verb == KvVerb::gat || verb == KvVerb::gats) {
      r.exptime = expiry(rng, now_ns, wall_ns, fields);
    }
    op.args = args_of(std::move(fields));
    return op;
  }
  if (verb == KvVerb::version || verb == KvVerb::quit) return op;  // no key, no history
  if (verb == KvVerb::stats) {
    r.stats_group = std::string(kStatsGroups[rng.below(kStatsGroups.size())]);
    return op;
  }
  if (verb == KvVerb::verbosity) {
    r.verbosity = static_cast<std::uint32_t>(rng.below(2));
    return op;
  }
  if (verb == KvVerb::lru_crawler) {
    r.subcommand = rng.chance(1, 2) ? "metadump all" : "metadump 1,2";
    return op;
  }
  if (verb == KvVerb::flush_all) {
    op.keys = {""};
    if (rng.below(100) < w_.flush_delay_percent) {
      r.delay = 1 + static_cast<std::int64_t>(rng.below(2));
      fields.emplace_back("delay_s", Value::of(*r.delay));
    }
    op.args = args_of(std::move(fields));
    return op;
  }
  r.keys = {key};
  op.keys = {key};
  if (kv::is_storage(r.verb)) {
    r.data = value(rng, client, n);
    fields.emplace_back("value", Value::of(r.data));
    if (rng.below(100) < w_.flags_percent) {
      const std::array<std::uint32_t, 3> edges{1, 0x8000'0000u, 0xffff'ffffu};
      r.flags = rng.chance(1, 2) ? edges[rng.below(edges.size())]
                                 : static_cast<std::uint32_t>(rng.next());
      fields.emplace_back("flags", Value::of(std::int64_t{r.flags}));
    }
    if (verb != KvVerb::append && verb != KvVerb::prepend) {
      r.exptime = expiry(rng, now_ns, wall_ns, fields);
    }
    if (verb == KvVerb::cas) {
      r.cas_unique = cas_unique(rng, key, seen);
      fields.emplace_back("unique", digits(r.cas_unique));
    }
  } else if (verb == KvVerb::incr || verb == KvVerb::decr) {
    r.delta = delta(rng);
    fields.emplace_back("delta", digits(r.delta));
  } else if (verb == KvVerb::touch) {
    r.exptime = expiry(rng, now_ns, wall_ns, fields);
  }
  op.args = args_of(std::move(fields));
  return op;
}

void make_noreply(KvOp& op) {
  if (!kv::takes_noreply(op.request.verb)) return;
  op.request.noreply = true;
  Fields fields = op.args.kind == Value::Kind::map ? op.args.fields : Fields{};
  fields.emplace_back("noreply", Value::of(1));
  op.args = Value::map(std::move(fields));
}

KvReplyMeaning interpret_reply(const KvOp& op, const Result<kv::McReply>& reply) {
  if (kv::is_meta(op.request.verb)) return interpret_meta_reply(op, reply);
  KvReplyMeaning m;
  const kv::Verb verb = op.request.verb;
  if (!reply) {
    const Error& e = reply.error();
    m.word = e.what.substr(0, e.what.find(' '));
    // Two refusals are answers the model knows; any other CLIENT_ERROR or
    // ERROR refuses a request the workload made well-formed.
    if (kv::is_storage(verb) && kv::is_too_large(e)) {
      m.kind = KvReplyMeaning::Kind::known;
      m.results.assign(op.keys.size(), Value::of("TOO_LARGE"));
    } else if ((verb == kv::Verb::incr || verb == kv::Verb::decr) && kv::is_non_numeric(e)) {
      m.kind = KvReplyMeaning::Kind::known;
      m.results.assign(op.keys.size(), Value::of("NON_NUMERIC"));
    } else if (e.code == Errc::protocol || e.code == Errc::invalid_argument) {
      m.kind = KvReplyMeaning::Kind::malformed;
      m.why = "'" + e.what + "' in reply to " + op.f + " " +
              (op.keys.empty() ? op.request.stats_group : op.keys[0].substr(0, 32));
    }
    return m;  // otherwise unknown: a broken stream or a SERVER_ERROR
  }
  m.kind = KvReplyMeaning::Kind::known;
  m.word = reply->word;
  if (!kv::is_retrieval(verb)) {
    const bool number = reply->word == "NUMBER";
    m.results.push_back(number ? digits(reply->number) : Value::of(reply->word));
    if (number) m.word = std::to_string(reply->number);
    return m;
  }
  const bool with_unique = verb == kv::Verb::gets || verb == kv::Verb::gats;
  // Hits come in the order the keys were asked (McReader checked): match
  // them to the asked keys in that order, a key asked twice taking one each.
  std::size_t next = 0;
  for (const std::string& key : op.keys) {
    Value result;
    if (next < reply->values.size() && reply->values[next].key == key) {
      const kv::McValue& v = reply->values[next++];
      Fields fields{{"value", Value::of(v.data)}, {"flags", Value::of(std::int64_t{v.flags})}};
      if (with_unique) fields.emplace_back("unique", digits(v.cas_unique));
      result = Value::map(std::move(fields));
    }
    m.results.push_back(std::move(result));
  }
  if (reply->hit()) m.word = "VALUE";
  return m;
}

}  // namespace doppel::scenarios
