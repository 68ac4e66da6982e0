#include "components/kv/settings.h"

#include "base/toml.h"

namespace doppel::kv {

Result<KvSettings> KvSettings::read(const toml::table& table, std::string_view source) {
  KvSettings s;
  TomlFields f(table, source);
  f.known_keys({"memory_mb", "memory_kb", "segment_kb", "item_size_max", "connections_max",
                "trace_evictions", "strict_keys", "core_ports", "owner_hash", "metrics_listen"});
  if (f.has("memory_mb") && f.has("memory_kb"))
    f.fail("memory_kb", "give memory_mb or memory_kb, not both");
  if (f.has("memory_mb"))
    s.memory_bytes = static_cast<std::uint64_t>(f.integer("memory_mb", 1, 1 << 20, 64)) << 20;
  if (f.has("memory_kb")) {
    s.memory_bytes = static_cast<std::uint64_t>(f.integer("memory_kb", 64, 1ll << 30, 65536)) << 10;
  }
  const std::int64_t segment_kb = f.integer("segment_kb", 16, 64 * 1024, s.segment_bytes >> 10);
  if (f.ok() && (segment_kb & (segment_kb - 1)) != 0)
    f.fail("segment_kb", "must be a power of two");
  s.segment_bytes = static_cast<std::uint32_t>(segment_kb << 10);
  s.item_bytes_max =
      static_cast<std::uint32_t>(f.integer("item_size_max", 1024, 16 << 20, s.item_bytes_max));
  s.connections_max =
      static_cast<std::uint32_t>(f.integer("connections_max", 1, 1 << 20, s.connections_max));
  s.trace_evictions = f.boolean("trace_evictions", s.trace_evictions);
  s.strict_keys = f.boolean("strict_keys", s.strict_keys);
  s.core_ports = static_cast<std::uint16_t>(f.integer("core_ports", 0, 65535, 0));
  s.owner_hash = f.choice("owner_hash", {"murmur3", "libmemcached-murmur3"}, "murmur3") == "murmur3"
                     ? OwnerHash::murmur3
                     : OwnerHash::libmemcached_murmur3;
  if (f.has("metrics_listen")) {
    const std::string at = f.string("metrics_listen", "");
    auto ep = parse_endpoint(at);
    if (!ep) {
      f.fail("metrics_listen", "'" + at + "' is not host:port (" + ep.error().what + ")");
    } else {
      s.metrics_listen = *ep;
    }
  }
  if (f.ok() && s.item_bytes_max > s.segment_bytes) {
    f.fail("item_size_max", "larger than a segment (segment_kb)");
  }
  if (!f.ok()) return f.error();
  return s;
}

Status KvSettings::check() const {
  if (memory_bytes == 0) return make_error(Errc::invalid_argument, "memory: zero bytes");
  if (segment_bytes == 0 || (segment_bytes & (segment_bytes - 1)) != 0) {
    return make_error(Errc::invalid_argument, "segment_kb: must be a power of two");
  }
  if (item_bytes_max > segment_bytes) {
    return make_error(Errc::invalid_argument, "item_size_max: larger than a segment (segment_kb)");
  }
  if (connections_max == 0) return make_error(Errc::invalid_argument, "connections_max: zero");
  return {};
}

Status KvSettings::check_ports(std::uint16_t listen_port, std::uint32_t cores) const {
  if (Status s = check(); !s) return s;
  const std::uint16_t metrics_port = metrics_listen ? metrics_listen->port : 0;
  if (metrics_port != 0 && metrics_port == listen_port) {
    return make_error(Errc::invalid_argument,
                      "metrics_listen: port " + std::to_string(metrics_port) +
                          " is the memcached listen port; give it a port of its own");
  }
  if (core_ports == 0) return {};
  if (metrics_port >= core_ports && metrics_port < std::uint32_t{core_ports} + cores) {
    return make_error(Errc::invalid_argument, "metrics_listen: port " +
                                                  std::to_string(metrics_port) +
                                                  " is one of the cores' ports (core_ports)");
  }
  const std::uint32_t last = std::uint32_t{core_ports} + cores - 1;
  if (last > 65535) {
    return make_error(Errc::invalid_argument, "core_ports: " + std::to_string(cores) +
                                                  " cores from port " + std::to_string(core_ports) +
                                                  " run past port 65535");
  }
  if (listen_port >= core_ports && listen_port <= last) {
    return make_error(Errc::invalid_argument, "core_ports: ports " + std::to_string(core_ports) +
                                                  ".." + std::to_string(last) +
                                                  " take in the listen port " +
                                                  std::to_string(listen_port));
  }
  return {};
}

Result<KvPlantedBug> kv_planted_bug(std::string_view name) {
  if (name.empty()) return KvPlantedBug::none;
  if (name == "swapped-replies") return KvPlantedBug::swapped_replies;
  if (name == "lost-at-roll") return KvPlantedBug::lost_at_roll;
  if (name == "node-memory-per-core") return KvPlantedBug::node_memory_per_core;
  if (name == "conn-leak-on-error") return KvPlantedBug::conn_leak_on_error;
  if (name == "stats-skip-last-core") return KvPlantedBug::stats_skip_last_core;
  if (name == "core-port-runs-local") return KvPlantedBug::core_port_runs_local;
  return make_error(Errc::invalid_argument,
                    "bug: kv has no planted bug '" + std::string(name) + "'");
}

}  // namespace doppel::kv
