#pragma once
// A node's DVVSet replica id: the name its dots carry. A node starts as
// "n<index>" and keeps that name while its log holds every dot it minted.
// When a boot finds records lost from the log (a damaged record skipped, a
// tail cut), the node may have forgotten its latest dot of some key while
// the other replicas still hold it; minting on from what it remembers would
// hand that dot out again for another value, and the replicas would keep
// one of the two (Riak's kv679). So it takes a new name, "n<index>~<epoch>"
// with a random epoch, and mints under that one from then on (as Riak's
// vnodes take a new epoch id). Its old dots stay in the clocks as another
// id's: a clock may then hold more than n_val ids, at most one per primary
// per renewal.

#include <cstdint>
#include <string>
#include <string_view>

#include "components/dvv/clock/dvvset.h"
#include "components/dvv/store/ring.h"

namespace doppel::dvv {

inline ReplicaId initial_replica_id(NodeIndex node) {
  return "n" + std::to_string(node);
}

ReplicaId renewed_replica_id(NodeIndex node, std::uint64_t epoch);

// The node a replica id names ("n3~1f..." -> "n3"); any other id as it is.
std::string_view replica_node_name(std::string_view id);

}  // namespace doppel::dvv
