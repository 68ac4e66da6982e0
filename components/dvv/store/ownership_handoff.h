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
//             goes to the key's primaries, and once all of them took it
//             durably (repair_batches.h) the node takes a new replica id and
//             drops it if the ring then names no other node for it
//             (replica_store.h):
//             writes that reached an old owner after its transfer, or from a
//             coordinator with an older ring, are never dropped unsent.
//
// Objects travel kObjectsPerRound at a time (their copies held while they
// do), batched by destination (repair_batches.h). A transfer pass goes
// through every partition it can; a release round drops up to
// kObjectsPerRound keys, and the next round starts at once while whole
// rounds go.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <vector>

#include "components/dvv/settings.h"
#include "components/dvv/store/cluster_changes.h"
#include "components/dvv/store/membership.h"
#include "components/dvv/store/peers.h"
#include "components/dvv/store/props_table.h"
#include "components/dvv/store/repair_batches.h"
#include "components/dvv/store/replica_client.h"
#include "components/dvv/store/replica_store.h"
#include "runtime/runtime.h"

namespace doppel::dvv {

class OwnershipHandoff {
 public:
  static constexpr std::size_t kObjectsPerRound = 4096;

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
  using Outgoing = std::vector<Delivery>;

  // True once every object reached its newcomers (a failed pass resumes in the next round).
  bool transfer();
  // True if a whole round's objects were dropped (more may wait).
  bool release();
  // RepairBatches::deliver, counted in objects_sent_ and bytes_sent_.
  std::vector<bool> deliver(std::shared_ptr<const Outgoing> items);

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
