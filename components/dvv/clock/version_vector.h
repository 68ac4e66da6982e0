#pragma once
// The baseline DVV is measured against: Riak 0.13's client-id version vectors
// (riak_core's vclock.erl and riak_kv's riak_object/riak_kv_vnode of that
// era). One merged clock per object, with the object's siblings stored
// alongside it; each entry is (actor = the client's X-Riak-ClientId, counter,
// timestamp in seconds of the entry's last increment).
//
// Because actors are clients, clocks grow with the number of clients that
// ever wrote the key, so Riak prunes them (prune() below). Pruning forgets
// history: a write that had seen a pruned entry's value no longer descends a
// clock that still holds the entry, and the store keeps both as siblings — a
// false conflict. That is the DVV paper's point; the tests show it happening.
//
// Entries are kept sorted by actor (Erlang keeps the list unsorted and sorts
// to compare; sorting once is the same semantics and one canonical encoding).
// Timestamps are signed: a skewed node may stamp an entry in the future.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "components/dvv/clock/dvvset.h"

namespace doppel::dvv {

using ActorId = std::string;  // a client id; 1 .. kActorIdBytesMax bytes

inline constexpr std::size_t kActorIdBytesMax = 255;

struct VvEntry {
  ActorId actor;
  std::uint64_t counter = 0;     // >= 1
  std::int64_t timestamp_s = 0;  // when this actor last incremented it

  bool operator==(const VvEntry&) const = default;
};

struct VersionVector {
  std::vector<VvEntry> entries;  // sorted by actor, actors unique

  bool operator==(const VersionVector&) const = default;
};

// Riak's bucket properties for pruning, with Riak's defaults.
struct VvPruneOptions {
  std::size_t small_vclock = 50;
  std::size_t big_vclock = 50;
  std::int64_t young_vclock_s = 20;
  std::int64_t old_vclock_s = 86400;
};

// An object of the baseline store: the merged clock and the siblings.
struct VvObject {
  VersionVector clock;
  std::vector<Value> siblings;  // sorted, unique (riak_object:merge takes lists:usort)
  // The DVVSet this object was converted from while the bucket's clock kind was switched to vv
  // (clock_conversion.h), kept so that converting back restores each value's dot, as Riak keeps
  // a value's dot in its metadata. sync() keeps it where the result is still that DVVSet's
  // conversion; a vv write drops it.
  std::optional<DvvSet> origin;

  bool operator==(const VvObject&) const = default;
};

namespace vv {

// descends/2: a has seen everything b has (every entry of b is in a with a
// counter at least as high). Every clock descends itself and the empty clock.
// Timestamps are ignored.
bool descends(const VersionVector& a, const VersionVector& b);
// dominates/2: descends(a, b) and not descends(b, a).
bool dominates(const VersionVector& a, const VersionVector& b);
// merge/1: the least clock that descends both; for an actor in both, the
// higher counter with its timestamp, and on equal counters the later timestamp.
VersionVector merge(const VersionVector& a, const VersionVector& b);
// increment/3: the actor's counter + 1 (1 if absent), stamped `timestamp_s`.
VersionVector increment(const VersionVector& clock, const ActorId& actor, std::int64_t timestamp_s);
// get_counter/2: 0 when the actor is absent.
std::uint64_t counter(const VersionVector& clock, const ActorId& actor);

// prune/3 of riak_core's vclock.erl, with `now_s` the PUT's start time:
//
//   Sort the entries oldest first by (timestamp, actor) — the actor breaks
//   ties so that every replica prunes the same entries. Then, repeatedly:
//     if the clock has <= small_vclock entries, stop;
//     if the oldest entry is younger than young_vclock (now - ts < young), stop;
//     if the clock has > big_vclock entries, or the oldest entry is older than
//       old_vclock (now - ts > old), remove the oldest entry and repeat;
//     otherwise stop.
//
// So nothing is pruned from a clock of small_vclock entries or fewer, no entry
// younger than young_vclock is ever removed, and pruning stops at big_vclock
// entries unless the oldest entries are older than old_vclock.
VersionVector prune(const VersionVector& clock, std::int64_t now_s, const VvPruneOptions& options);

// riak_object:syntactic_merge/2 (which the replicas, read repair and handoff
// use): if one clock dominates the other, that object; otherwise (concurrent,
// or equal clocks) the merged clock with the union of the siblings, and the
// two origins synced when both have one.
VvObject sync(const VvObject& a, const VvObject& b);

// A PUT as Riak 0.13 ran it. The client's object is the context (the clock a
// GET returned, or none) incremented at `client_id`, holding `value`. The
// replica keeps `stored` unchanged if its clock descends the client's (the
// vnode's "oldobj": the write is taken as already seen — this is how a client
// id reused without a context loses writes), otherwise syncs the two and
// prunes the merged clock at `timestamp_s`.
VvObject put(const VvObject& stored, const VersionVector* context, Value value,
             const ActorId& client_id, std::int64_t timestamp_s, const VvPruneOptions& options);

// Actors non-empty, at most kActorIdBytesMax bytes, strictly increasing;
// counters >= 1. For an object also: siblings sorted and unique, an origin well formed.
bool is_well_formed(const VersionVector& clock);
bool is_well_formed(const VvObject& object);

}  // namespace vv
}  // namespace doppel::dvv
