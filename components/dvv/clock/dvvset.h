#pragma once
// DVVSet: the "dotted version vector set" of Gonçalves and Almeida, one clock
// per key that holds every sibling (the compact DVV of the DVV paper, as
// riak_kv uses it). The semantics follow the reference Erlang implementation,
// dvvset.erl; each function below names its Erlang counterpart.
//
// Representation. A clock is a list of entries sorted by replica id, each
// (id, counter, values) with the values newest first, plus a list of
// anonymous values (values written without a dot: a client's new value before
// a replica has given it one, or the result of reconcile/lww).
//
//   entry (id, n, [v_k ... v_1])  means: the dots (id, 1) .. (id, n) are in the
//   causal history, and values[j] is the still-current value of dot (id, n - j).
//
// So values.size() <= counter, always. A clock's causal history is its
// version vector, join(clock); two clocks are compared by that alone.
//
// Ids are replica ids as strings (1 .. kReplicaIdBytesMax bytes), ordered
// bytewise. Strings rather than small integers so that the same ids appear in
// the wire format, in traces and in tests without a mapping table; with
// entries bounded by the replication degree their size does not matter.
// Values are opaque byte strings.
//
// The rule that makes DVVSet exact: only replica r makes dots with id r, and it
// does so with update() on its own current clock (the `server` argument), so a
// dot names one value everywhere.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace doppel::dvv {

using ReplicaId = std::string;
using Value = std::string;

inline constexpr std::size_t kReplicaIdBytesMax = 255;

struct DvvEntry {
  ReplicaId id;
  std::uint64_t counter = 0;
  std::vector<Value> values;  // newest first; values[j] is the value of dot (id, counter - j)

  bool operator==(const DvvEntry&) const = default;
};

// One entry of a version vector: the context a GET hands out.
struct DvvVectorEntry {
  ReplicaId id;
  std::uint64_t counter = 0;

  bool operator==(const DvvVectorEntry&) const = default;
};
using DvvVector = std::vector<DvvVectorEntry>;  // sorted by id, ids unique

struct DvvSet {
  std::vector<DvvEntry> entries;  // sorted by id, ids unique
  std::vector<Value> anonymous;

  // Structural equality (values and their order included); compare causal
  // histories with dvvset::equal.
  bool operator==(const DvvSet&) const = default;
};

// True when a <= b: "a is not newer than b" (Erlang's F(A, B) of last/lww).
using LessOrEqual = std::function<bool(const Value& a, const Value& b)>;
// Makes one value out of all of a clock's values (reconcile's F).
using Reconciler = std::function<Value(const std::vector<Value>& values)>;

namespace dvvset {

// new/1: no causal history, one anonymous value.
DvvSet make(Value value);
// new_list/1: no causal history, these anonymous values.
DvvSet make_list(std::vector<Value> values);
// new/2: the causal history of `context` (a GET's join()), one anonymous
// value: the client side of a PUT with a context. The context is sorted
// first, as in the reference (a defense against order-changing transports).
DvvSet make(const DvvVector& context, Value value);
// new_list/2.
DvvSet make_list(const DvvVector& context, std::vector<Value> values);

// sync/2: merges both causal histories and keeps every value that neither
// clock has made obsolete. Anonymous values: if one clock is less() than the
// other, the other's anonymous values are kept; otherwise the union.
DvvSet sync(const DvvSet& a, const DvvSet& b);
// sync/1: a left fold of sync/2; sync({}) is the empty clock.
DvvSet sync(std::span<const DvvSet> clocks);

// join/1: the causal history as a version vector (no values).
DvvVector join(const DvvSet& clock);

// update/2: a PUT with no server clock. `client` is the result of make()
// (exactly one anonymous value); that value gets the next dot of `id`.
DvvSet update(const DvvSet& client, const ReplicaId& id);
// update/3: the coordinator's PUT. Syncs the client's causal history (without
// its value) with the replica's current clock `server`, then gives the new
// value the next dot of `id`. The result is newer than both arguments; the
// server's values that the client had not seen survive as siblings.
DvvSet update(const DvvSet& client, const DvvSet& server, const ReplicaId& id);

// size/1: the number of values, anonymous ones included.
std::size_t size(const DvvSet& clock);
// ids/1: the ids of the entries, sorted.
std::vector<ReplicaId> ids(const DvvSet& clock);
// values/1: the anonymous values, then each entry's values in id order.
std::vector<Value> values(const DvvSet& clock);

// less/2: a's causal history is strictly contained in b's (a's values are
// outdated). Values are ignored.
bool less(const DvvSet& a, const DvvSet& b);
// equal/2: the same causal history: same ids, counters and number of values
// per entry. Values are ignored (and so are anonymous values).
bool equal(const DvvSet& a, const DvvSet& b);

// last/2: the newest value by `less_or_equal`. Like the reference, only the
// newest value of each entry competes (the others are older values of the
// same coordinator), then every anonymous value; on a tie the later one in
// that order wins. The clock must hold a value.
Value last(const LessOrEqual& less_or_equal, const DvvSet& clock);
// lww/2: the same causal history with only the value last() picks, left in
// its entry (or, if anonymous, as the only anonymous value).
DvvSet lww(const LessOrEqual& less_or_equal, const DvvSet& clock);
// reconcile/2: the same causal history, with one anonymous value made by
// `reconciler` out of values(clock).
DvvSet reconcile(const Reconciler& reconciler, const DvvSet& clock);

// The representation invariants above: ids non-empty, at most
// kReplicaIdBytesMax bytes, strictly increasing; values.size() <= counter.
bool is_well_formed(const DvvSet& clock);
bool is_well_formed(const DvvVector& vector);

}  // namespace dvvset
}  // namespace doppel::dvv
