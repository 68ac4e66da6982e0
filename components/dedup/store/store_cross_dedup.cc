// Cross-image block dedup at commit (cross_dedup.h): the new version's fresh
// segments lend their blocks' content to segments stored already.

#include <algorithm>

#include "components/dedup/store/cross_dedup.h"
#include "components/dedup/store/store.h"
#include "components/dedup/store/store_internal.h"

namespace doppel::dedup {
namespace {

// Candidate segments whose metadata one fresh segment reads: bounds a commit's extra reads.
constexpr std::size_t kCandidatesMax = 8;

}  // namespace

// Segments sharing a hook with `fresh`'s present blocks, most shared hooks first (ties: newer).
// Left out: segments nothing references (uploads in flight, this commit's own fresh ones) and
// segments only the image's previous version references (`own`: its direct references per
// segment). Those hold the image's own history, which reverse dedup handles the paper's way:
// the latest version stays sequential and the old one gives its copies up.
std::vector<SegmentId> Store::cross_dedup_candidates(
    const SegmentMeta& fresh, const std::map<SegmentId, std::uint64_t>& own) {
  std::map<SegmentId, std::size_t> hits;
  for (const SegmentBlock& b : fresh.blocks) {
    if (b.state != BlockState::present) continue;
    for (const SegmentId id : segments_.with_hook(block_hook(b.fp))) ++hits[id];
  }
  std::vector<std::pair<std::size_t, SegmentId>> ranked;
  for (const auto& [id, n] : hits) {
    const SegmentSummary* s = segments_.find(id);
    if (id == fresh.id || s == nullptr || s->header.refs_total == 0) continue;
    auto it = own.find(id);
    if (it != own.end() && s->header.refs_total <= it->second) continue;
    ranked.emplace_back(n, id);
  }
  std::sort(ranked.begin(), ranked.end(), std::greater<>());
  std::vector<SegmentId> out;
  for (std::size_t i = 0; i < ranked.size() && i < kCandidatesMax; ++i) {
    out.push_back(ranked[i].second);
  }
  return out;
}

// Points the new version's entries for lent blocks at their other copies and notes the fresh
// copies for removal (plan.lent); the reference counts follow from the recipe.
Status Store::cross_dedup(Recipe& next, const Recipe* previous, Plan& plan) {
  const std::uint32_t per_mib = options_.cross_dedup_segments_per_mib;
  if (per_mib == 0) return {};
  std::map<SegmentId, std::uint64_t> own;
  if (previous != nullptr) {
    for (const RecipeEntry& e : previous->entries) {
      if (e.kind == RefKind::direct) ++own[e.target];
    }
  }
  // The fresh segments, each once, in the order the version names them.
  std::vector<SegmentId> fresh;
  for (const RecipeEntry& e : next.entries) {
    if (e.kind != RefKind::direct) continue;
    const SegmentSummary* s = segments_.find(e.target);
    DOPPEL_ASSERT(s != nullptr);
    // (A segment uploaded borrowing chose its lenders then, within the budget: plan.lent.)
    if (s->header.refs_total == 0 && !plan.lent.contains(e.target) &&
        std::find(fresh.begin(), fresh.end(), e.target) == fresh.end()) {
      fresh.push_back(e.target);
    }
  }
  std::map<SegmentId, std::vector<std::optional<BlockRef>>> lent;
  for (const SegmentId id : fresh) {
    Result<const SegmentMeta*> meta = loaded_meta(id, plan);
    if (!meta) return meta.error();
    std::vector<const SegmentMeta*> candidates;
    for (const SegmentId c : cross_dedup_candidates(**meta, own)) {
      Result<const SegmentMeta*> m = loaded_meta(c, plan);
      if (!m) return m.error();
      candidates.push_back(*m);
    }
    if (candidates.empty()) continue;
    CrossDedupPlan p =
        plan_cross_dedup(**meta, candidates, cross_dedup_targets_max((*meta)->bytes, per_mib));
    if (p.blocks == 0) continue;
    std::vector<std::uint32_t>& removed = plan.lent[id];
    for (std::uint32_t b = 0; b < p.lent.size(); ++b) {
      if (p.lent[b]) removed.push_back(b);
    }
    plan.blocks_cross_deduped += p.blocks;
    lent.emplace(id, std::move(p.lent));
  }
  for (std::size_t pos = 0; pos < next.entries.size(); ++pos) {
    RecipeEntry& e = next.entries[pos];
    if (e.kind != RefKind::direct) continue;
    auto it = lent.find(e.target);
    if (it == lent.end() || !it->second[e.index]) continue;
    const BlockRef to = *it->second[e.index];
    e.target = to.segment;
    e.index = to.block;
    next.saved.cross_bytes += next.block_length(pos);
  }
  return {};
}

}  // namespace doppel::dedup
