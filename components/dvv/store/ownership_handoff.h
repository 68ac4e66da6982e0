#pragma once
// Ownership handoff: moving a partition's data to its new owners while reads
// and writes go on (riak_core's handoff). Every handoff_interval:
//
//   transfer  while a transition is pending and this node has not reported
//             it yet: every object it holds of the partitions it owns goes to
//             the key's newcomers (its primaries in the next ring that are not
//             primaries now), as a repair; once every one arrived, the node
//             reports to the claimant (cluster_changes.h). One sender per
//             partition: a copy only another primary holds arrives by
//             anti-entropy, or by that primary's release. Until the transition settles the
//             current owners serve reads and count toward quorums; the
//             newcomers take the writes too through this copy and the
//             release below. A pass that cannot reach a newcomer ends and
//             starts over next round (crashes and partitions of either side
//             only delay it);
//   release   every object of a key this node no longer serves (membership.h)
//             goes to the key's primaries, and once all of them took it and
//             synced it (a repair is answered before its record is durable)
//             the node takes a new replica id and drops it (replica_store.h):
//             writes that reached an old owner after its transfer, or from a
//             coordinator with an older ring, are never dropped unsent.
//
// At most kObjectsPerRound objects a round, so a large store moves in steps
// and the node's other work goes on between them; up to kSendsInFlight
// objects travel at once (send_window.h).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "components/dvv/settings.h"
#include "components/dvv/store/cluster_changes.h"
#include "components/dvv/store/membership.h"
#include "components/dvv/store/peers.h"
#include "components/dvv/store/props_table.h"
#include "components/dvv/store/replica_client.h"
#include "components/dvv/store/replica_store.h"
#include "runtime/runtime.h"

namespace doppel::dvv {

class OwnershipHandoff {
 public:
  static constexpr std::size_t kObjectsPerRound = 4096;
  static constexpr std::size_t kSendsInFlight = 16;

  OwnershipHandoff(Runtime& rt, const DvvSettings& config, Membership& membership,
                   ClusterChanges& changes, Peers& peers, const PropsTable& props,
                   ReplicaStore& store, ReplicaClient& replicas);
  OwnershipHandoff(const OwnershipHandoff&) = delete;
  OwnershipHandoff& operator=(const OwnershipHandoff&) = delete;

  void loop(const bool& stopping);

  // Objects and bytes sent by transfers and releases since boot.
  std::uint64_t objects_sent() const { return objects_sent_; }
  std::uint64_t bytes_sent() const { return bytes_sent_; }

 private:
  // True once every object reached its newcomers (the pass may span rounds).
  bool transfer();
  void release();
  // `key`'s object to each of `to`; false if one did not take it.
  bool send(const ObjectKey& key, const Object& object, const std::vector<NodeIndex>& to);

  Runtime& rt_;
  const DvvSettings& config_;
  Membership& membership_;
  ClusterChanges& changes_;
  Peers& peers_;
  const PropsTable& props_;
  ReplicaStore& store_;
  ReplicaClient& replicas_;
  // Where the pending transfer goes on from: the next owners it is for, the next partition.
  std::vector<NodeIndex> transfer_next_;
  std::uint32_t transfer_partition_ = 0;
  std::uint64_t objects_sent_ = 0;
  std::uint64_t bytes_sent_ = 0;
};

}  // namespace doppel::dvv
