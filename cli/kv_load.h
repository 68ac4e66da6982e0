#pragma once
// A memcached-protocol load generator of our own, for `doppel bench kv`:
// closed loop (each connection sends its next request when the last one is
// answered) or open loop (requests are due at fixed intervals and latency is
// measured from the intended send time, so a slow server cannot hide its
// queueing: no coordinated omission). Percentiles are exact (every latency is
// kept and sorted).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/net.h"

namespace doppel::cli {

struct LoadSpec {
  Endpoint server;
  // A routing client (as libmemcached's modula distribution with its murmur3 hash): when set,
  // each load connection opens one socket per endpoint (a node's per-core ports, in core
  // order) and sends each request to routed[libmemcached_murmur3(key) % size].
  std::vector<Endpoint> routed;
  int connections = 16;
  int set_percent = 10;          // the rest are gets
  std::uint64_t keys = 100'000;  // key space
  std::size_t key_bytes = 30;
  std::size_t value_bytes = 200;
  Duration duration{std::chrono::seconds(5)};
  double open_loop_rate = 0;  // total requests/s; 0 = closed loop
  std::uint64_t seed = 1;
};

struct LoadResult {
  std::uint64_t ops = 0;
  std::uint64_t errors = 0;  // failed or unexpected replies
  std::uint64_t misses = 0;  // gets that found nothing
  double seconds = 0;
  std::vector<std::int64_t> latencies_ns;  // sorted

  double ops_per_second() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0; }
  std::int64_t percentile_ns(double p) const;
};

// Runs the load on a runtime of its own (one core) and returns when done.
LoadResult run_load(const LoadSpec& spec);

// Stores keys [0, count) with `connections` connections, pipelining; false if
// the server refused.
bool preload(const LoadSpec& spec, std::uint64_t count);

std::string key_name(std::uint64_t index, std::size_t key_bytes);

// One figure of "stats [group]" from the server, or nullopt (no answer, or no such figure).
std::optional<std::uint64_t> read_stat(const Endpoint& server, const std::string& group,
                                       std::string_view name);

}  // namespace doppel::cli
