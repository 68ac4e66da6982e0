#include "components/dedup/store/cross_dedup.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "components/dedup/format/manifest.h"

namespace doppel::dedup {

std::size_t cross_dedup_targets_max(std::uint32_t bytes, std::uint32_t segments_per_mib) {
  if (segments_per_mib == 0) return 0;
  const std::uint64_t allowed = (std::uint64_t{bytes} * segments_per_mib + (1u << 20) - 1) >> 20;
  return static_cast<std::size_t>(std::max<std::uint64_t>(allowed, 2) - 1);
}

CrossDedupPlan plan_cross_dedup(const SegmentMeta& fresh,
                                std::span<const SegmentMeta* const> candidates,
                                std::size_t targets_max) {
  CrossDedupPlan plan;
  plan.lent.resize(fresh.blocks.size());
  DOPPEL_ASSERT(fresh.refs_total() == 0);
  // What each candidate could stand for: fresh block -> its block.
  std::vector<std::map<std::uint32_t, std::uint32_t>> covers(candidates.size());
  for (std::size_t c = 0; c < candidates.size(); ++c) {
    const SegmentMeta& m = *candidates[c];
    DOPPEL_ASSERT(m.id != fresh.id && m.fp.kind == fresh.fp.kind);
    std::unordered_map<Fingerprint, std::uint32_t, FingerprintHash> by_fp;
    for (std::size_t b = 0; b < m.blocks.size(); ++b) {
      const SegmentBlock& blk = m.blocks[b];
      if (blk.state == BlockState::present && blk.refs > 0) {
        by_fp.try_emplace(blk.fp, static_cast<std::uint32_t>(b));
      }
    }
    for (std::size_t b = 0; b < fresh.blocks.size(); ++b) {
      if (fresh.blocks[b].state != BlockState::present) continue;
      auto it = by_fp.find(fresh.blocks[b].fp);
      if (it != by_fp.end() && m.block_length(it->second) == fresh.block_length(b)) {
        covers[c].emplace(static_cast<std::uint32_t>(b), it->second);
      }
    }
  }
  const std::size_t worthwhile =
      std::max<std::size_t>(kBlocksPerTargetMin, fresh.blocks.size() / 128);
  std::vector<bool> taken(candidates.size());
  while (plan.targets.size() < targets_max) {
    // The candidate standing for the most blocks not lent yet; ties to the newer segment.
    std::optional<std::size_t> best;
    std::size_t best_gain = 0;
    for (std::size_t c = 0; c < candidates.size(); ++c) {
      if (taken[c]) continue;
      std::size_t gain = 0;
      for (const auto& [b, at] : covers[c]) gain += plan.lent[b] ? 0 : 1;
      if (gain > best_gain ||
          (best && gain == best_gain && gain > 0 && candidates[c]->id > candidates[*best]->id)) {
        best = c;
        best_gain = gain;
      }
    }
    if (!best || best_gain < worthwhile) break;
    taken[*best] = true;
    plan.targets.push_back(candidates[*best]->id);
    for (const auto& [b, at] : covers[*best]) {
      if (plan.lent[b]) continue;
      plan.lent[b] = BlockRef{candidates[*best]->id, at};
      ++plan.blocks;
      plan.bytes += fresh.block_length(b);
    }
  }
  return plan;
}

}  // namespace doppel::dedup
