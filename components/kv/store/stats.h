#pragma once
// What a store holds and what it has done, for `stats` and for the memory
// budget (RSS <= 1.15 x live key+value bytes). Gauges first, then counters.
//
// Balances that always hold (Store::check_invariants asserts them):
//   the sum over segments of their filled bytes == live_footprint_bytes + dead_bytes
//   items_live == the entries in the index
//   live_bytes == the sum of key + value bytes of the items in the index

#include <cstdint>

namespace doppel::kv {

struct StoreStats {
  // --- what is stored now
  // Items the index points to. Expired items count until they are reclaimed
  // (on access, by reclaim_expired or with their segment), as in memcached.
  std::uint64_t items_live = 0;
  std::uint64_t live_bytes = 0;            // key + value bytes of those items
  std::uint64_t live_footprint_bytes = 0;  // their whole footprint: header, key, value, slack
  std::uint64_t dead_bytes = 0;            // footprint of dead versions still in segments
  std::uint64_t segments_in_use = 0;
  std::uint64_t segments_max = 0;     // the memory limit, in segments
  std::uint64_t bytes_allocated = 0;  // segments_in_use x segment_bytes
  std::uint64_t index_entries = 0;
  std::uint64_t index_bytes = 0;  // the hash index's memory

  // --- what happened (counters)
  std::uint64_t items_evicted = 0;  // unexpired items dropped with their segment
  std::uint64_t items_expired = 0;  // expired items reclaimed
  std::uint64_t items_flushed = 0;  // items dropped by flush_all
  std::uint64_t segments_evicted = 0;
  std::uint64_t overwrites_in_place = 0;  // new version written over the old one
  std::uint64_t overwrites_moved = 0;     // new version appended; the old one became dead
};

}  // namespace doppel::kv
