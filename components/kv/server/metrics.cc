#include "components/kv/server/metrics.h"

#include <string>

#include "components/kv/server/stats.h"
#include "runtime/future.h"

namespace doppel::kv {
namespace {

void commands(metrics::MetricSet& m, const std::string& core, const ShardCounters& t) {
  struct Outcome {
    std::string_view command, outcome;
    std::uint64_t n;
  };
  const Outcome outcomes[] = {
      {"get", "hit", t.get_hits},        {"get", "miss", t.get_misses},
      {"delete", "hit", t.delete_hits},  {"delete", "miss", t.delete_misses},
      {"incr", "hit", t.incr_hits},      {"incr", "miss", t.incr_misses},
      {"decr", "hit", t.decr_hits},      {"decr", "miss", t.decr_misses},
      {"cas", "hit", t.cas_hits},        {"cas", "miss", t.cas_misses},
      {"cas", "badval", t.cas_badval},   {"touch", "hit", t.touch_hits},
      {"touch", "miss", t.touch_misses},
  };
  for (const Outcome& o : outcomes) {
    m.add("doppel_kv_command_outcomes_total",
          "Keys looked up by a command, by outcome (memcached's get_hits, cas_badval...).",
          static_cast<double>(o.n),
          {{"core", core}, {"command", o.command}, {"outcome", o.outcome}});
  }
  const Outcome counts[] = {{"get", "", t.cmd_get},
                            {"set", "", t.cmd_set},
                            {"touch", "", t.cmd_touch},
                            {"flush_all", "", t.cmd_flush}};
  for (const Outcome& o : counts) {
    m.add("doppel_kv_commands_total",
          "Commands by kind (memcached's cmd_get counts keys; cmd_set every storage command).",
          static_cast<double>(o.n), {{"core", core}, {"command", o.command}});
  }
  m.add("doppel_kv_forwarded_in_total", "Units executed on this core for another core's client.",
        static_cast<double>(t.forwarded_in), {{"core", core}});
  m.set("doppel_kv_connections", "Client connections open now.",
        static_cast<double>(t.curr_connections), {{"core", core}});
  m.add("doppel_kv_connections_total", "Client connections accepted.",
        static_cast<double>(t.total_connections), {{"core", core}});
}

void store(metrics::MetricSet& m, const std::string& core, const StoreStats& s) {
  auto gauge = [&](std::string_view name, std::string_view help, std::uint64_t v) {
    m.set(name, help, static_cast<double>(v), {{"core", core}});
  };
  auto counter = [&](std::string_view name, std::string_view help, std::uint64_t v) {
    m.add(name, help, static_cast<double>(v), {{"core", core}});
  };
  gauge("doppel_kv_items", "Items the index points to (expired ones until reclaimed).",
        s.items_live);
  gauge("doppel_kv_live_bytes", "Key and value bytes of the items.", s.live_bytes);
  gauge("doppel_kv_live_footprint_bytes", "The items' whole footprint in segments.",
        s.live_footprint_bytes);
  gauge("doppel_kv_dead_bytes", "Footprint of dead versions still in segments.", s.dead_bytes);
  gauge("doppel_kv_segments", "Segments in use.", s.segments_in_use);
  gauge("doppel_kv_segments_max", "The memory limit, in segments.", s.segments_max);
  gauge("doppel_kv_allocated_bytes", "Bytes of the segments in use.", s.bytes_allocated);
  gauge("doppel_kv_index_bytes", "Memory of the hash index.", s.index_bytes);
  counter("doppel_kv_evictions_total", "Unexpired items dropped with their segment (FIFO).",
          s.items_evicted);
  counter("doppel_kv_expired_total", "Expired items reclaimed.", s.items_expired);
  counter("doppel_kv_flushed_total", "Items dropped by flush_all.", s.items_flushed);
  counter("doppel_kv_segments_evicted_total", "Segments evicted.", s.segments_evicted);
}

}  // namespace

metrics::MetricSet kv_metrics(KvService& service) {
  metrics::MetricSet m;
  Runtime& rt = service.runtime();
  const std::vector<CoreSnapshot> cores = gather_cores(service);
  for (CoreId c = 0; c < cores.size(); ++c) {
    const std::string core = std::to_string(c);
    commands(m, core, cores[c].counters);
    store(m, core, cores[c].store);
    auto to = run_on(rt, c, [&service, c] {
                return std::make_pair(service.forwarded_to(c), service.waiting_on(c));
              }).get();
    if (!to) continue;
    for (CoreId t = 0; t < to->first.size(); ++t) {
      if (t == c) continue;
      const std::string target = std::to_string(t);
      m.add("doppel_kv_forwarded_total",
            "Units a core's connections sent to their owner core, by core pair.",
            static_cast<double>(to->first[t]), {{"from", core}, {"to", target}});
      m.set("doppel_kv_forward_queue_depth",
            "Units a core sent to their owner core and is still waiting for, by core pair.",
            static_cast<double>(to->second[t]), {{"from", core}, {"to", target}});
    }
  }
  m.set("doppel_kv_memory_limit_bytes", "The node's memory limit (memcached's -m).",
        static_cast<double>(service.config().memory_bytes));
  return m;
}

}  // namespace doppel::kv
