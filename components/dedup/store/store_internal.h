#pragma once
// What the parts of the store (store*.cc) share and nobody else sees.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "components/dedup/store/block_removal.h"
#include "components/dedup/store/store.h"

namespace doppel::dedup {

// One change in the making: what it stages, and what the in-memory tables
// become once it is applied.
struct Store::Plan {
  std::map<SegmentId, SegmentMeta> loaded;  // segment metadata as it is now
  std::vector<SegmentMeta> metas;           // as it will be
  std::vector<SegmentId> dropped;
  // Fresh segments whose blocks cross-image dedup found elsewhere: those blocks, to remove.
  std::map<SegmentId, std::vector<std::uint32_t>> lent;
  std::uint64_t blocks_cross_deduped = 0;
  std::vector<std::pair<std::string, VersionSummary>> versions;  // new or rewritten
  std::vector<std::pair<std::string, VersionNumber>> removed;
  std::uint64_t blocks_reverse_deduped = 0;
  std::uint64_t blocks_removed = 0;
  std::uint64_t blocks_punched = 0;
  std::uint64_t bytes_freed = 0;
  std::uint32_t segments_punched = 0;
  std::uint32_t segments_compacted = 0;
  std::uint32_t segments_dropped = 0;
};

// A version with its chains of indirect references followed: where each
// block position's content is. Valid for one epoch.
struct Store::Resolved {
  struct Location {
    SegmentId segment = 0;  // 0: a null block
    std::uint32_t block = 0;
  };
  std::string image;
  VersionNumber version = 0;
  std::uint64_t epoch = 0;
  std::uint64_t image_bytes = 0;
  std::uint32_t chain_max = 0;  // the longest chain of indirect references followed
  std::vector<Location> blocks;
};

VersionSummary summary_of(const RecipeHeader& header);

}  // namespace doppel::dedup
