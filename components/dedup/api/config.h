#pragma once
// The dedup node's settings, from the node config's [dedup] table:
//
//   [dedup]
//   segment_mb = 4                  # segment size clients cut at (GET /info), and the largest
//                                   # segment the store accepts: 1 to 32
//   hash = "sha256"                 # or "sha1" (the paper's)
//   rebuild_threshold_percent = 20  # punch below it, compact at or above it (paper 3.2.3)
//   image_gb = 64                   # the largest image (a commit holds its recipes in memory)
//   unreferenced_ttl_s = 3600       # gc keeps an unreferenced segment this long (an upload
//                                   # may be under way)
//   verify_reads = true             # re-hash every block a read returns
//   connections_max = 64            # open HTTP connections
//
// Errors name the setting: "segment_mb: expected a whole number from 1 to 32, got '0'".

#include <cstdint>

#include "components/dedup/store/options.h"
#include "runtime/node.h"
#include "runtime/result.h"

namespace doppel::dedup {

struct DedupConfig {
  StoreOptions store;
  std::uint32_t segment_bytes = kSegmentBytesDefault;  // what clients are told to cut at
  std::uint32_t connections_max = 64;
};

Result<DedupConfig> parse_dedup_config(const NodeConfig& node);

// The largest encoded manifest of an image of image_bytes_max cut into segments of
// segment_bytes: the HTTP body limit must admit it.
std::uint64_t manifest_bytes_max(const DedupConfig& config);

}  // namespace doppel::dedup
