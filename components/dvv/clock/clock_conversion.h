#pragma once
// Converting objects and contexts between the two kinds of clock, so that a
// bucket's clock kind can change while it holds data (bucket property
// `clock`). The store converts lazily: an object or a client's context of the
// other kind is converted where the store meets it (a read, a PUT, a replica's
// merge), so replicas that have not heard of the change yet keep working.
//
// What a conversion keeps, and what it cannot:
//   dvvset -> vv: every value becomes a sibling; every entry (id, n) becomes
//     the actor entry (id', n) with timestamp 0 (a DVVSet keeps no times, so
//     the entries are the first a pruning drops). The vv baseline has no
//     place for which dot made which value, so the object keeps the DVVSet
//     it came from as its origin (as Riak keeps a value's dot in metadata).
//   vv -> dvvset: an object whose siblings and counters are still exactly
//     its origin's conversion (nothing written under vv, nothing pruned; a
//     sync of two such objects syncs their origins) becomes that origin
//     again, every value under its old dot. Without this a replica that
//     missed a delete would bring the deleted value back with a fresh dot
//     its peers' tombstone never covered.
//     Any other object: the clock's entries become entries without values (the
//     history), and each sibling gets a dot of its own under an id made from
//     a hash of the sibling and the clock's counters ("vv~" + 32 hex digits,
//     counter 1). Replicas that convert the same object make the same dots,
//     so a dot still names one value everywhere; a read-modify-write with the
//     converted context supersedes the siblings, a blind write keeps them.
//     (Anonymous values would not do: DVVSet keeps a server's anonymous values
//     through every update, so they would never go.) Two replicas holding the
//     same value under different clocks give it two dots: one value shown
//     twice until a write supersedes both, never a value lost.
// Neither direction drops a value or claims a history it did not have (short
// of a 128-bit hash collision), so a conversion can make siblings that an
// exact oracle would call false conflicts, never lose a write.
//
// Ids. DVVSet ids name replicas and vv actors name clients, so an id crosses
// over renamed, or a client called "n1" would claim replica n1's dots:
//   dvvset id -> actor: "vv:x" -> "x" (an actor that came from vv goes back),
//                       any other id -> "dvv:" + id;
//   actor -> dvvset id: "dvv:x" -> "x", any other actor -> "vv:" + actor.
// Round trips give back the same ids. Only ids a client crafted into a context
// ("vv:dvv:...") can map two ids onto one; their entries merge by the larger
// counter, and an id the prefix would make too long is dropped -- both claim
// less of the history, never more, so the worst outcome is an extra sibling.
#include <string>
#include <string_view>

#include "components/dvv/clock/object_clock.h"

namespace doppel::dvv {

// The actor a DVVSet id becomes, and the DVVSet id an actor becomes (above).
std::string actor_of_replica_id(std::string_view id);
std::string replica_id_of_actor(std::string_view actor);

// `object` as a clock of kind `to` (unchanged if it is of that kind).
Object convert(const Object& object, ClockKind to);
// `context` as a context of kind `to` (unchanged if it is of that kind).
Context convert(const Context& context, ClockKind to);

}  // namespace doppel::dvv
