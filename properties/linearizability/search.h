#pragma once
// The search for a linearization of one key's operations: Wing & Gong's
// algorithm with Lowe's memoisation (as Porcupine and Knossos's "wgl" do).
//
// The calls and returns of the operations are laid out in time order, a
// return after a call at the same instant (so operations that touch overlap).
// The search walks the list from its head: a call whose step the model
// accepts is linearized (lifted out of the list with its return) and the walk
// restarts at the head; a return met before its call was lifted means the
// choices so far cannot be right, so the last one is undone and the walk goes
// on past it. A pending operation has no return, so it may stay
// unlinearized: reaching the end of the list is success. Each (set of
// linearized operations, model state) is visited once: the set is a bitset
// with an incremental Zobrist hash, kept in one open-addressed table.
//
// Pending operations are what makes the search exponential (each may or may
// not have happened, at any time). So: those no linearization can need (a
// pending write of a value nothing observes...) are left out first, as
// search.cc argues, unless the search is to report final states or the
// longest linearization; completed operations are tried before pending ones;
// and a configuration is skipped when one seen before had the same completed
// operations and state and used a subset of its pending ones (it dominates).
// Both are sound: the answer never changes, only the work.
//
// Iterative, no recursion; bounded by a step limit and a memory limit, past
// which the answer is "limit" (unknown), never a guess.

#include <cstdint>
#include <span>
#include <vector>

#include "properties/linearizability/model.h"

namespace doppel::properties::linearizability {

struct SearchOp {
  Step step;
  std::int64_t call_ns = 0;
  std::int64_t return_ns = 0;  // ignored when pending
  bool pending = false;        // may take effect at any time after its call, or never
};

enum class Outcome : std::uint8_t { linearizable, not_linearizable, limit };

struct SearchLimits {
  std::uint64_t steps_max = 10'000'000;
  std::uint64_t memo_bytes_max = std::uint64_t{512} << 20;
};

struct SearchResult {
  Outcome outcome = Outcome::limit;
  std::uint64_t steps = 0;
  // With all_final_states: every state some linearization ends in, sorted by id.
  std::vector<StateId> final_states;
  // With track_longest: the longest linearization met (positions in `ops`),
  // and the state after each of its operations.
  std::vector<std::uint32_t> longest;
  std::vector<StateId> longest_states;
};

struct SearchMode {
  bool all_final_states = false;  // keep searching after a success
  bool track_longest = false;
};

// One entry of the time-ordered list: an operation's call or return.
struct Entry {
  std::uint32_t op = 0;
  bool call = true;
  std::int64_t time_ns = 0;
};

// The calls and returns in time order; at equal times calls first, then by
// position in `ops`. Pending operations have no return.
std::vector<Entry> order_entries(std::span<const SearchOp> ops);

SearchResult search(std::span<const SearchOp> ops, StateId initial, Stepper& stepper,
                    const SearchLimits& limits, SearchMode mode = {});

// The positions of the operations a linearization may need: all but the
// pending ones whose effect nothing observes. `ops` has a linearization if
// and only if these do. The stepper says which stores may be refused as too
// large (a set so refused removes the key: its effect is then an absence).
std::vector<std::uint32_t> needed(std::span<const SearchOp> ops, const Stepper& stepper);

}  // namespace doppel::properties::linearizability
