#pragma once
// The stats command: `stats` (memcached's general figures, summed over
// cores), `stats cores` (each core's figures: items, bytes, commands,
// forwarded work, connections), `stats memory` (the log-structured
// allocator: segments, live and dead bytes, evictions, index), and what
// memcached's tools read (memcached-tool, exporters): `stats settings`,
// `stats items` and `stats slabs` (each core's segment log as one "slab
// class", stats.cc says how), `stats sizes` (disabled, as memcached's default)
// `stats conns` (each open connection: peer, state, idle seconds) and `stats
// reset` (the counts start over; answers RESET).

#include <string>
#include <string_view>
#include <vector>

#include "components/kv/server/shard.h"

namespace doppel::kv {

class KvService;

// The groups `stats` answers; any other is "ERROR".
inline constexpr std::string_view kStatsGroups[] = {"",      "cores", "memory", "settings", "items",
                                                    "slabs", "sizes", "conns",  "reset"};
bool is_stats_group(std::string_view group);

void append_stats(KvService& service, std::string_view group, std::string& out);

// One core's figures, read on that core.
struct CoreSnapshot {
  ShardCounters counters;
  StoreStats store;
};
// Every core's (a core that did not answer: zeros). Call from a fiber of the node.
std::vector<CoreSnapshot> gather_cores(KvService& service);

}  // namespace doppel::kv
