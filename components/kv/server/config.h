#pragma once
// The KV component's settings, from the node config's [kv] table.

#include <cstdint>
#include <string>

#include "runtime/node.h"
#include "runtime/result.h"

namespace doppel::kv {

struct KvConfig {
  std::uint64_t memory_bytes = 64ull << 20;  // memcached's -m, for the whole node
  std::uint32_t segment_bytes = 2u << 20;    // the paper's 2 MiB segments
  std::uint32_t item_bytes_max = 1u << 20;   // memcached's -I
  std::uint32_t connections_max = 4096;      // per node
  bool trace_evictions = false;              // record KvItemEvicted per key (simulation)
  bool strict_keys = false;                  // refuse control bytes in keys (protocol.txt)
  // Test-only planted bugs (the simulator's scenarios; serve refuses them):
  bool bug_swapped_replies = false;  // a forwarded reply matched to the wrong request
  bool bug_lost_at_roll = false;     // an item lost when its segment rolls over
};

// Errors name the setting: "memory_mb: ...".
Result<KvConfig> parse_kv_config(const NodeConfig& node);

}  // namespace doppel::kv
