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

// One key's worth of work: a whole single-key command, or one key of a
// multi-key retrieval (whose result is a VALUE fragment, or "" for a miss).
struct Unit {
  const Request* request = nullptr;
  std::size_t key_index = 0;
  std::int64_t expires_at = 0;  // the absolute expiry, for commands that set one
};

class Shard final : private EvictionListener {
 public:
  Shard(Runtime& rt, CoreId core, const KvSettings& config, std::uint64_t memory_bytes);

  // Executes units in order on this core; one reply (or fragment) each.
  std::vector<std::string> execute(const std::vector<Unit>& units, bool forwarded);
  std::string execute_one(const Unit& unit);

  ShardCounters& counters() { return counters_; }
  const ShardCounters& counters() const { return counters_; }
  StoreStats store_stats() const { return store_.stats(); }
  void flush_all(std::int64_t at, std::int64_t now);
  std::int64_t now_seconds();

 private:
  void item_evicted(std::string_view key) override;
  void segment_allocated(std::uint32_t bytes) override;
  void segments_released(std::uint64_t bytes) override;
  std::string retrieve(const Unit& unit, std::int64_t now);
  std::string store(const Unit& unit, std::int64_t now);

  Runtime& rt_;
  CoreId core_;
  KvSettings config_;
  Store store_;
  ShardCounters counters_;
  std::int64_t last_now_ = 0;
};

}  // namespace doppel::kv
