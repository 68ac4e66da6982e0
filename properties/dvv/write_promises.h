#pragma once
// The pw-dw-durable property: what an acknowledged PUT promised about where
// it is, checked on the nodes' disks the moment the client hears the ack,
// without the store's word (its acks, its counters, its code).
//
// A PUT acknowledged with quorums w, pw and dw (given on the request, or the
// bucket's defaults: w = dw = quorum, pw = 0) promises that
//   - w nodes of the key's preference list took it: their object log on
//     disk (what reads of the file see, synced or not) has a record of the
//     key holding it, as a replica or as a hint for a primary that was down;
//   - pw of them are primaries (the first n_val nodes of the key's
//     preference list, not fallbacks): a record of the key as the node's own
//     replica, not a hint;
//   - dw of them made it durable: the record is in what survives a crash
//     for sure (the simulated disk's synced bytes of the file that the synced
//     directory names), replica or hint.
// A record "holds" the write if one of its siblings is the write's value, or a
// value the causal oracle says was written knowing it (a later write that
// landed first is as good), or if its DVVSet clock covers the write's dot (as
// the coordinator's own record of it names it): then the node's object
// descends from the write even where no body says so (a tombstone that
// superseded it: DELETE has no body, and a blind one covers what its
// coordinator found). Records are read by the oracle's own decoder
// (log_values.h) as the files change, and every record the node's log held
// until the ack counts, not only what it holds at the ack: a compaction may
// have rewritten it since without the write (a later write or a delete
// replaced it), and whether a later record may replace it is
// acknowledged-writes-survive's business. A bit the simulator flipped in a
// stored record (disk_corrupt, bit rot after the sync) is put back before the
// record is read: the store cannot prevent that fault, only repair it.
//
// Judged where that reading is exact, and otherwise explicitly not (counted
// as unjudged by the driver, never passed): a DELETE (a tombstone carries no
// body naming it), and a PUT made while allow_mult may have been false on
// any node (last write wins may drop the value at its coordinator in favour
// of a concurrent one, so that no node ever holds it: the promise was about
// the write, kept by its winner, which the disk cannot tell from a write that
// never arrived), or a PUT on the client-id vv baseline (a blind write of a
// client that wrote before gets a clock that the stored object already has,
// and the store keeps the older value: the paper's lost update). A run in
// which no PUT could be judged fails the property as inconclusive.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "properties/dvv/causal_oracle.h"
#include "properties/dvv/log_values.h"

namespace doppel::properties::dvv {

// One node's view of the key.
struct NodeLog {
  std::uint32_t node = 0;
  bool primary = false;
  const LoggedKey* written = nullptr;  // ever in the file's bytes (nullptr: no record)
  const LoggedKey* durable = nullptr;  // ever in the bytes that survive a crash
};

struct WritePromise {
  std::uint32_t w = 0, pw = 0, dw = 0;
};

struct PromiseCount {
  std::uint32_t written = 0, primaries = 0, durable = 0;
};

// Whether a node's records of the key (`k`, replica or hints; nullptr: none) hold `value`, or a
// value the oracle says was written knowing it, or a clock that covers its `dot` (a tombstone or
// a value that superseded it, nameless or not).
bool holds_value(const CausalOracle& oracle, const std::string& value,
                 const std::optional<Dot>& dot, const LoggedKey* k);

// Counts the nodes that hold `value` of `key` (or a value written knowing it).
PromiseCount count_holders(const CausalOracle& oracle, const std::string& value,
                           const std::vector<NodeLog>& nodes);

// "" when the count keeps the promise; otherwise what it broke.
std::string broken_promise(const WritePromise& promise, const PromiseCount& count);

}  // namespace doppel::properties::dvv
