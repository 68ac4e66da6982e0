#include "components/dedup/store/reverse_dedup.h"

#include <unordered_map>

namespace doppel::dedup {

void count_direct_refs(const Recipe& recipe, std::int64_t sign, RefDeltas& deltas) {
  for (const RecipeEntry& e : recipe.entries) {
    if (e.kind == RefKind::direct) deltas[e.target][e.index] += sign;
  }
}

ReverseDedupCount reverse_dedup(Recipe& previous, const Recipe& next, RefDeltas& deltas) {
  DOPPEL_ASSERT(previous.image == next.image && previous.version < next.version);
  DOPPEL_ASSERT(next.version <= kVersionNumberMax);
  std::unordered_map<Fingerprint, std::uint32_t, FingerprintHash> first_at;
  first_at.reserve(next.entries.size());
  for (std::size_t p = 0; p < next.entries.size(); ++p) {
    const RecipeEntry& e = next.entries[p];
    DOPPEL_ASSERT_MSG(e.kind != RefKind::indirect, "the new version holds an indirect reference");
    if (e.kind == RefKind::direct) first_at.try_emplace(e.fp, static_cast<std::uint32_t>(p));
  }
  ReverseDedupCount count;
  for (std::size_t p = 0; p < previous.entries.size(); ++p) {
    RecipeEntry& e = previous.entries[p];
    DOPPEL_ASSERT_MSG(e.kind != RefKind::indirect, "the previous version was not the newest");
    if (e.kind != RefKind::direct) continue;
    std::uint32_t at = 0;
    if (p < next.entries.size() && next.entries[p].kind == RefKind::direct &&
        next.entries[p].fp == e.fp) {
      at = static_cast<std::uint32_t>(p);
    } else {
      auto it = first_at.find(e.fp);
      if (it == first_at.end()) continue;
      at = it->second;
    }
    deltas[e.target][e.index] -= 1;
    e.kind = RefKind::indirect;
    e.target = next.version;
    e.index = at;
    ++count.blocks;
    count.bytes += previous.block_length(p);
  }
  return count;
}

std::uint64_t repoint(Recipe& older, const Recipe& removed, RefDeltas& deltas) {
  DOPPEL_ASSERT(older.image == removed.image && older.version < removed.version);
  std::uint64_t changed = 0;
  for (RecipeEntry& e : older.entries) {
    if (e.kind != RefKind::indirect || e.target != removed.version) continue;
    DOPPEL_ASSERT(e.index < removed.entries.size());
    const RecipeEntry& to = removed.entries[e.index];
    DOPPEL_ASSERT_MSG(to.kind != RefKind::null, "an indirect reference to a null block");
    DOPPEL_ASSERT_MSG(to.fp == e.fp, "an indirect reference to other content");
    e.kind = to.kind;
    e.target = to.target;
    e.index = to.index;
    if (e.kind == RefKind::direct) deltas[e.target][e.index] += 1;
    ++changed;
  }
  return changed;
}

}  // namespace doppel::dedup
