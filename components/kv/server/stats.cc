#include "components/kv/server/stats.h"

#include "components/kv/protocol/response.h"
#include "components/kv/server/server.h"
#include "runtime/future.h"

namespace doppel::kv {
namespace {}  // namespace

std::vector<CoreSnapshot> gather_cores(KvService& service) {
  Runtime& rt = service.runtime();
  std::vector<CoreSnapshot> out(rt.core_count());
  for (CoreId c = 0; c < rt.core_count(); ++c) {
    Shard* shard = &service.shard(c);
    auto snap = run_on(rt, c, [shard] {
                  return CoreSnapshot{shard->counters(), shard->store_stats()};
                }).get();
    if (snap) out[c] = *snap;
  }
  return out;
}

namespace {

void general(KvService& service, const std::vector<CoreSnapshot>& cores, std::string& out) {
  ShardCounters t;
  StoreStats s;
  for (const CoreSnapshot& c : cores) {
    const ShardCounters& x = c.counters;
    t.cmd_get += x.cmd_get;
    t.get_hits += x.get_hits;
    t.get_misses += x.get_misses;
    t.cmd_set += x.cmd_set;
    t.cmd_touch += x.cmd_touch;
    t.cmd_flush += x.cmd_flush;
    t.delete_hits += x.delete_hits;
    t.delete_misses += x.delete_misses;
    t.incr_hits += x.incr_hits;
    t.incr_misses += x.incr_misses;
    t.decr_hits += x.decr_hits;
    t.decr_misses += x.decr_misses;
    t.cas_hits += x.cas_hits;
    t.cas_misses += x.cas_misses;
    t.cas_badval += x.cas_badval;
    t.touch_hits += x.touch_hits;
    t.touch_misses += x.touch_misses;
    t.forwarded_in += x.forwarded_in;
    t.curr_connections += x.curr_connections;
    t.total_connections += x.total_connections;
    s.items_live += c.store.items_live;
    s.live_bytes += c.store.live_bytes;
    s.items_evicted += c.store.items_evicted;
    s.items_expired += c.store.items_expired;
  }
  const std::int64_t now = service.shard(0).now_seconds();
  append_stat(out, "pid", static_cast<std::int64_t>(0));
  append_stat(out, "uptime", now - service.started_at());
  append_stat(out, "time", now);
  append_stat(out, "version", kVersion);
  append_stat(out, "pointer_size", static_cast<std::int64_t>(sizeof(void*) * 8));
  append_stat(out, "curr_connections", t.curr_connections);
  append_stat(out, "total_connections", t.total_connections);
  append_stat(out, "cmd_get", t.cmd_get);
  append_stat(out, "cmd_set", t.cmd_set);
  append_stat(out, "cmd_flush", t.cmd_flush);
  append_stat(out, "cmd_touch", t.cmd_touch);
  append_stat(out, "get_hits", t.get_hits);
  append_stat(out, "get_misses", t.get_misses);
  append_stat(out, "get_expired", s.items_expired);
  append_stat(out, "delete_misses", t.delete_misses);
  append_stat(out, "delete_hits", t.delete_hits);
  append_stat(out, "incr_misses", t.incr_misses);
  append_stat(out, "incr_hits", t.incr_hits);
  append_stat(out, "decr_misses", t.decr_misses);
  append_stat(out, "decr_hits", t.decr_hits);
  append_stat(out, "cas_misses", t.cas_misses);
  append_stat(out, "cas_hits", t.cas_hits);
  append_stat(out, "cas_badval", t.cas_badval);
  append_stat(out, "touch_hits", t.touch_hits);
  append_stat(out, "touch_misses", t.touch_misses);
  append_stat(out, "threads", static_cast<std::uint64_t>(cores.size()));
  append_stat(out, "curr_items", s.items_live);
  append_stat(out, "bytes", s.live_bytes);
  append_stat(out, "evictions", s.items_evicted);
  append_stat(out, "limit_maxbytes", service.config().memory_bytes);
  append_stat(out, "forwarded", t.forwarded_in);
}

void per_core(const std::vector<CoreSnapshot>& cores, std::string& out) {
  for (std::size_t i = 0; i < cores.size(); ++i) {
    const std::string p = "core" + std::to_string(i) + ":";
    const CoreSnapshot& c = cores[i];
    append_stat(out, p + "curr_items", c.store.items_live);
    append_stat(out, p + "bytes", c.store.live_bytes);
    append_stat(out, p + "cmd_get", c.counters.cmd_get);
    append_stat(out, p + "cmd_set", c.counters.cmd_set);
    append_stat(out, p + "forwarded_in", c.counters.forwarded_in);
    append_stat(out, p + "curr_connections", c.counters.curr_connections);
    append_stat(out, p + "evictions", c.store.items_evicted);
  }
}

void memory(KvService& service, const std::vector<CoreSnapshot>& cores, std::string& out) {
  StoreStats t;
  // Planted bug: the totals leave out the last core.
  const std::size_t counted = service.config().planted_bug == KvPlantedBug::stats_skip_last_core
                                  ? cores.size() - 1
                                  : cores.size();
  for (std::size_t i = 0; i < counted; ++i) {
    const StoreStats& s = cores[i].store;
    t.items_live += s.items_live;
    t.live_bytes += s.live_bytes;
    t.live_footprint_bytes += s.live_footprint_bytes;
    t.dead_bytes += s.dead_bytes;
    t.segments_in_use += s.segments_in_use;
    t.segments_max += s.segments_max;
    t.bytes_allocated += s.bytes_allocated;
    t.index_entries += s.index_entries;
    t.index_bytes += s.index_bytes;
    t.items_evicted += s.items_evicted;
    t.items_expired += s.items_expired;
    t.items_flushed += s.items_flushed;
    t.segments_evicted += s.segments_evicted;
    t.overwrites_in_place += s.overwrites_in_place;
    t.overwrites_moved += s.overwrites_moved;
  }
  append_stat(out, "segment_bytes", service.config().segment_bytes);
  append_stat(out, "segments", t.segments_in_use);
  append_stat(out, "segments_max", t.segments_max);
  append_stat(out, "bytes_allocated", t.bytes_allocated);
  append_stat(out, "live_items", t.items_live);
  append_stat(out, "live_bytes", t.live_bytes);
  append_stat(out, "live_footprint_bytes", t.live_footprint_bytes);
  append_stat(out, "dead_bytes", t.dead_bytes);
  append_stat(out, "index_entries", t.index_entries);
  append_stat(out, "index_bytes", t.index_bytes);
  append_stat(out, "evicted_items", t.items_evicted);
  append_stat(out, "evicted_segments", t.segments_evicted);
  append_stat(out, "expired_items", t.items_expired);
  append_stat(out, "flushed_items", t.items_flushed);
  append_stat(out, "overwrites_in_place", t.overwrites_in_place);
  append_stat(out, "overwrites_moved", t.overwrites_moved);
}

// memcached's settings, as far as ours have them, and ours besides.
void settings(KvService& service, std::string& out) {
  const KvSettings& c = service.config();
  append_stat(out, "maxbytes", c.memory_bytes);
  append_stat(out, "maxconns", std::uint64_t{c.connections_max});
  append_stat(out, "num_threads", static_cast<std::uint64_t>(service.runtime().core_count()));
  append_stat(out, "item_size_max", std::uint64_t{c.item_bytes_max});
  append_stat(out, "evictions", "on");
  append_stat(out, "cas_enabled", "yes");
  append_stat(out, "binding_protocol", "ascii");
  append_stat(out, "hash_algorithm", "murmur3");
  append_stat(out, "slab_chunk_max", std::uint64_t{c.segment_bytes});
  append_stat(out, "segment_bytes", std::uint64_t{c.segment_bytes});
  append_stat(out, "strict_keys", c.strict_keys ? "yes" : "no");
}

// memcached's slab classes are its allocator's size classes. Ours has one log of segments per
// core and no size classes, so each core is a class (numbered from 1, as memcached's): its
// "pages" are the segments in use, each one "chunk" of segment_bytes, all of them used (a log
// only appends). `stats items` gives each class's items and evictions.
void items(const std::vector<CoreSnapshot>& cores, std::string& out) {
  for (std::size_t i = 0; i < cores.size(); ++i) {
    const StoreStats& s = cores[i].store;
    if (s.segments_in_use == 0) continue;
    const std::string p = "items:" + std::to_string(i + 1) + ":";
    append_stat(out, p + "number", s.items_live);
    append_stat(out, p + "evicted", s.items_evicted);
    append_stat(out, p + "reclaimed", s.items_expired);
    append_stat(out, p + "outofmemory", std::uint64_t{0});
  }
}

void slabs(KvService& service, const std::vector<CoreSnapshot>& cores, std::string& out) {
  std::uint64_t active = 0, allocated = 0;
  for (std::size_t i = 0; i < cores.size(); ++i) {
    const StoreStats& s = cores[i].store;
    if (s.segments_in_use == 0) continue;
    ++active;
    allocated += s.bytes_allocated;
    const std::string p = std::to_string(i + 1) + ":";
    append_stat(out, p + "chunk_size", std::uint64_t{service.config().segment_bytes});
    append_stat(out, p + "chunks_per_page", std::uint64_t{1});
    append_stat(out, p + "total_pages", s.segments_in_use);
    append_stat(out, p + "total_chunks", s.segments_in_use);
    append_stat(out, p + "used_chunks", s.segments_in_use);
    append_stat(out, p + "free_chunks", std::uint64_t{0});
    append_stat(out, p + "mem_requested", s.live_bytes);
    append_stat(out, p + "get_hits", cores[i].counters.get_hits);
    append_stat(out, p + "cmd_set", cores[i].counters.cmd_set);
    append_stat(out, p + "delete_hits", cores[i].counters.delete_hits);
    append_stat(out, p + "touch_hits", cores[i].counters.touch_hits);
  }
  append_stat(out, "active_slabs", active);
  append_stat(out, "total_malloced", allocated);
}

void reset(KvService& service) {
  Runtime& rt = service.runtime();
  for (CoreId c = 0; c < rt.core_count(); ++c) {
    Shard* shard = &service.shard(c);
    (void)run_on(rt, c, [shard] {
      shard->reset_counters();
      return true;
    }).get();
  }
}

}  // namespace

bool is_stats_group(std::string_view group) {
  for (std::string_view g : kStatsGroups) {
    if (g == group) return true;
  }
  return false;
}

void append_stats(KvService& service, std::string_view group, std::string& out) {
  if (!is_stats_group(group)) {
    append_reply(out, Reply::error);
    return;
  }
  if (group == "reset") {
    reset(service);
    append_reply(out, Reply::reset);
    return;
  }
  if (group == "settings") {
    settings(service, out);
  } else if (group == "conns") {
    out += service.connection_stats();
  } else if (group == "sizes") {
    // memcached keeps a histogram of item sizes only when started with -o track_sizes.
    append_stat(out, "sizes_status", "disabled");
  } else {
    const std::vector<CoreSnapshot> cores = gather_cores(service);
    if (group.empty()) general(service, cores, out);
    if (group == "cores") per_core(cores, out);
    if (group == "memory") memory(service, cores, out);
    if (group == "items") items(cores, out);
    if (group == "slabs") slabs(service, cores, out);
  }
  append_reply(out, Reply::end);
}

}  // namespace doppel::kv
