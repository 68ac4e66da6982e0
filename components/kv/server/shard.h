#pragma once
// One core's share of the KV node: its store, its counters. Touched only by
// its own core (shared-nothing): other cores reach it through run_on.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "components/kv/protocol/request.h"
#include "components/kv/settings.h"
#include "components/kv/store/store.h"
#include "runtime/runtime.h"

namespace doppel::kv {

struct ShardCounters {
  std::uint64_t cmd_get = 0, get_hits = 0, get_misses = 0;
  std::uint64_t cmd_set = 0, cmd_touch = 0, cmd_flush = 0;
  std::uint64_t delete_hits = 0, delete_misses = 0;
  std::uint64_t incr_hits = 0, incr_misses = 0, decr_hits = 0, decr_misses = 0;
  std::uint64_t cas_hits = 0, cas_misses = 0, cas_badval = 0;
  std::uint64_t touch_hits = 0, touch_misses = 0;
  std::uint64_t forwarded_in = 0;  // units executed here for another core's connection
  std::uint64_t curr_connections = 0, total_connections = 0;
};

// memcached's exptime (relative up to 30 days, else unix time; negative: already expired) as
// the store's absolute unix seconds, by the clock `now`.
std::int64_t absolute_expiry(std::int64_t exptime, std::int64_t now);

// One key's worth of work: a whole single-key command, or one key of a
// multi-key retrieval (whose result is a VALUE fragment, or "" for a miss).
struct Unit {
  const Request* request = nullptr;
  std::size_t key_index = 0;
  std::int64_t expires_at = 0;  // the absolute expiry, for commands that set one
};

// A run of units' replies, end to end in one buffer: reply i is bytes[ends[i-1], ends[i]).
// Two allocations for a whole forwarded run, not one per reply.
struct ShardReplies {
  std::string bytes;
  std::vector<std::uint32_t> ends;

  std::string_view at(std::size_t i) const {
    const std::uint32_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(bytes).substr(begin, ends[i] - begin);
  }
};

class Shard final : private EvictionListener {
 public:
  Shard(Runtime& rt, CoreId core, const KvSettings& config, std::uint64_t memory_bytes);

  // Executes units in order on this core; one reply (or fragment) each.
  ShardReplies execute(const std::vector<Unit>& units, bool forwarded);
  // Executes one unit and appends its reply (or fragment) to `out`.
  void execute_into(const Unit& unit, std::string& out);

  ShardCounters& counters() { return counters_; }
  const ShardCounters& counters() const { return counters_; }
  // The store's figures; its running counts (evictions, expiries, ...) since the last reset.
  StoreStats store_stats() const;
  // `stats reset`: the command counts and the store's running counts start over (the
  // connections open and what the store holds stay, as in memcached).
  void reset_counters();
  // lru_crawler metadump: a line per live item, "key=<%-escaped> exp=<unix time, -1: never>
  // cas=<unique> cls=<core + 1> size=<key + value bytes>\r\n", as memcached's (which adds the
  // last access and whether it was fetched, which this store does not keep).
  std::string metadump();
  void flush_all(std::int64_t at, std::int64_t now);
  std::int64_t now_seconds();

 private:
  void item_evicted(std::string_view key) override;
  void segment_allocated(std::uint32_t bytes) override;
  void segments_released(std::uint64_t bytes) override;
  void run_one(const Unit& unit, std::string& out);
  // In simulation (Runtime::expensive_checks) the store's balances are walked after every
  // change of its segments and every kWalkEveryOps operations: a bug that breaks one fails
  // the run at the operation that broke it, not when a client happens to notice.
  void verify_store();
  static constexpr std::uint32_t kWalkEveryOps = 32;
  void retrieve(const Unit& unit, std::int64_t now, std::string& out);
  void store(const Unit& unit, std::int64_t now, std::string& out);
  // Meta commands (shard_meta.cc).
  std::string meta_get(const Request& request, std::int64_t now);
  std::string meta_set(const Unit& unit, std::int64_t now);
  std::string meta_delete(const Request& request, std::int64_t now);
  std::string meta_arithmetic(const Request& request, std::int64_t now);
  std::string meta_debug(const Request& request, std::int64_t now);

  Runtime& rt_;
  CoreId core_;
  KvSettings config_;
  Store store_;
  ShardCounters counters_;
  std::int64_t last_now_ = 0;
  StoreStats reset_at_;  // the store's running counts at the last reset
  bool walk_due_ = false;
  std::uint32_t ops_since_walk_ = 0;
};

}  // namespace doppel::kv
