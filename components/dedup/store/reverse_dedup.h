#pragma once
// Reverse deduplication (paper §3.2) on recipes, and the re-pointing that
// removing a version needs. Pure code: recipes in, recipes and reference
// count changes out; the store loads and saves.

#include <cstdint>
#include <map>

#include "components/dedup/store/recipe.h"

namespace doppel::dedup {

// Per segment, per block: how its reference count changes.
using BlockDeltas = std::map<std::uint32_t, std::int64_t>;
using RefDeltas = std::map<SegmentId, BlockDeltas>;

// Adds `sign` (+1 or -1) for every direct reference of `recipe`.
void count_direct_refs(const Recipe& recipe, std::int64_t sign, RefDeltas& deltas);

struct ReverseDedupCount {
  std::uint64_t blocks = 0;
  std::uint64_t bytes = 0;
};

// Paper §3.2.2: every direct block of `previous` whose content is also in
// `next` (same fingerprint, at the same position if it is there, else at the
// first position holding it) becomes an indirect reference to that position
// of `next`, and its count drops by one. `previous` must be the newest
// version before `next`: it holds no indirect reference.
ReverseDedupCount reverse_dedup(Recipe& previous, const Recipe& next, RefDeltas& deltas);

// Before `removed` goes: every entry of `older` that points into it takes
// over what it points to (a direct reference counts once more; an indirect
// one now points further). Returns how many entries changed.
std::uint64_t repoint(Recipe& older, const Recipe& removed, RefDeltas& deltas);

}  // namespace doppel::dedup
