#pragma once
// The KV node's settings: typed, read once from the node config's [kv] table
// (doppel serve) or filled in by a scenario driver (the simulator):
//
//   [kv]
//   memory_mb = 64          # memcached's -m, for the whole node (or memory_kb)
//   segment_kb = 2048       # the paper's 2 MiB segments; a power of two
//   item_size_max = 1048576 # memcached's -I; at most a segment
//   connections_max = 4096  # per node
//   strict_keys = false     # refuse control bytes in keys (protocol.txt)
//   core_ports = 0          # if set, core c also listens on port core_ports + c
//   owner_hash = "murmur3"  # or "libmemcached-murmur3": own keys as a client spreads them
//   metrics_listen = ""     # "127.0.0.1:9150": GET /metrics (Prometheus) over HTTP there
//   trace_evictions = false # record KvItemEvicted per key (simulation)
//
// Errors name the file, the line and the key.

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "runtime/net.h"
#include "runtime/result.h"

namespace doppel::kv {

// Test-only planted bugs: set by the simulator's scenarios, never read from a
// node config (doppel serve refuses a `bug` key).
enum class KvPlantedBug : std::uint8_t {
  none,
  swapped_replies,       // a forwarded reply matched to the wrong request
  lost_at_roll,          // an item lost when its segment rolls over
  node_memory_per_core,  // each core's store sized with the whole node's memory
  conn_leak_on_error,    // a connection that ends in an error keeps its slot
  stats_skip_last_core,  // stats memory totals leave out the last core
  core_port_runs_local,  // a request that came in on a core's own port runs there, owner or not
};

// How a key's owner core is found (ownership.h): the Sphinx paper's
// MurmurHash3_x86_32 with seed 0, or libmemcached's "murmur3" hash (the same
// function, seeded with 0xdeadbeef times the key's length), so that a client
// using libmemcached's modula distribution over the per-core ports sends each
// key straight to its owner.
enum class OwnerHash : std::uint8_t { murmur3, libmemcached_murmur3 };

struct KvSettings {
  std::uint64_t memory_bytes = 64ull << 20;  // memcached's -m, for the whole node
  std::uint32_t segment_bytes = 2u << 20;    // the paper's 2 MiB segments
  std::uint32_t item_bytes_max = 1u << 20;   // memcached's -I
  std::uint32_t connections_max = 4096;      // per node
  bool trace_evictions = false;              // record KvItemEvicted per key (simulation)
  bool strict_keys = false;                  // refuse control bytes in keys (protocol.txt)
  // Per-core ports (0 = off): core c also listens on core_ports + c, alone
  // (no SO_REUSEPORT), on the node's listen address, beside the shared port.
  std::uint16_t core_ports = 0;
  OwnerHash owner_hash = OwnerHash::murmur3;
  // Where GET /metrics is served (Prometheus's text format), on its own HTTP port: the
  // memcached port speaks only memcached. Off when unset.
  std::optional<Endpoint> metrics_listen;
  KvPlantedBug planted_bug = KvPlantedBug::none;

  // From a [kv] table; `source` names the file in errors.
  static Result<KvSettings> read(const toml::table& table, std::string_view source);
  // The constraints between fields (also for settings a driver filled in).
  Status check() const;
  // check(), and that the per-core ports fit beside `listen_port` on a node of `cores`.
  Status check_ports(std::uint16_t listen_port, std::uint32_t cores) const;
};

// The planted bug of that name (scenarios' `bug` key); nullopt if kv has none.
Result<KvPlantedBug> kv_planted_bug(std::string_view name);

}  // namespace doppel::kv
