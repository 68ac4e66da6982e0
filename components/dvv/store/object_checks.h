#pragma once
// What the store's assertions say about objects and clocks: pure functions
// over object_clock.h's values, each stating one invariant, so that an
// assertion reads as the invariant (DOPPEL_ASSERT(history_covers(merged,
// local))). Nothing here is on a path that decides behaviour.

#include <cstdint>
#include <string>
#include <vector>

#include "components/dvv/clock/object_clock.h"

namespace doppel::dvv {

// `id`'s counter in a DVVSet clock or context: the highest dot of `id` in its
// causal history (0 when absent, and for the vv kind).
std::uint64_t dot_counter(const Object& object, const ReplicaId& id);
std::uint64_t dot_counter(const Context& context, const ReplicaId& id);

// Counters never go backwards: every entry of `earlier`'s clock is in
// `later`'s with a counter at least as high. False for two kinds.
bool history_covers(const Object& later, const Object& earlier);
// The same for the entries that `later` kept: a pruned vv clock drops entries
// on purpose, but never lowers the ones it keeps.
bool kept_counters_not_behind(const Object& later, const Object& earlier);

// The ids of a clock (dvvset: replica ids; vv: client ids), sorted.
std::vector<std::string> clock_ids(const Object& object);
std::vector<std::string> clock_ids(const Context& context);
// Every id of `ids` is one of `allowed`.
bool ids_within(const std::vector<std::string>& ids, const std::vector<std::string>& allowed);

// The vv baseline's bound, which prune() leaves at `now_s`: at most
// small_vclock entries; or the oldest entry (so every entry) younger than
// young_vclock_s; or at most big_vclock entries none older than old_vclock_s.
// So a pruned clock exceeds big_vclock entries only while all of them are
// young: the baseline has no hard bound, DVVSet's is n_val. True for dvvset.
bool within_prune_bound(const Object& object, std::int64_t now_s, const VvPruneOptions& options);

}  // namespace doppel::dvv
