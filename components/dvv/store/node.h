#pragma once
// A node of the replicated store, Dynamo/Riak style (the DVV paper's
// setting). DvvNode is the Service that owns the node's parts and wires
// them; each part is a file that says what it is:
//
//   settings.h       the node's settings (ring size, intervals, limits)
//   peers.h          an RPC client per node, and which nodes are up (pings)
//   props_table.h    bucket properties: this node's table, saved, pushed, gossiped
//   replica_store.h  this node's replicas and hints: the object log, key locks,
//                    the read-modify-writes (coordinator's update, sync_in, reap)
//   replica_client.h talking to one replica of a key, this node's own included
//   coordinator.h    client GET / PUT / DELETE: preference lists, quorums, read repair
//   reaper.h         tombstones dropped once every primary holds exactly one
//   handoff.h        hinted handoff from fallbacks to primaries back up
//   membership.h     the ring this node holds (ring_state.h), saved; cluster_changes.h
//                    gossips it and makes changes at the claimant; ownership_handoff.h
//                    moves data to new owners and drops what the node no longer owns
//   anti_entropy.h   primaries compare segment hashes and sync what differs
//   messages.h       the node-to-node messages; dispatch.h serves them
//
// A ring is ring.h; objects persist in object_log.h, so a restarted node
// recovers them. All of a node's logic runs on its core 0 (the KV component
// is the thread-per-core showcase; this one is about distribution).

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "components/dvv/clock/object_clock.h"
#include "components/dvv/settings.h"
#include "components/dvv/store/anti_entropy.h"
#include "components/dvv/store/bucket_props.h"
#include "components/dvv/store/cluster_changes.h"
#include "components/dvv/store/coordinator.h"
#include "components/dvv/store/dispatch.h"
#include "components/dvv/store/handoff.h"
#include "components/dvv/store/membership.h"
#include "components/dvv/store/object_log.h"
#include "components/dvv/store/ownership_handoff.h"
#include "components/dvv/store/peers.h"
#include "components/dvv/store/props_table.h"
#include "components/dvv/store/reaper.h"
#include "components/dvv/store/replica_client.h"
#include "components/dvv/store/replica_store.h"
#include "components/dvv/store/requests.h"
#include "components/dvv/store/ring.h"
#include "components/dvv/store/rpc.h"
#include "components/dvv/store/sibling.h"
#include "components/metrics/metric_set.h"
#include "runtime/node.h"
#include "runtime/sync.h"

namespace doppel::dvv {

class DvvNode final : public Service {
 public:
  DvvNode(Runtime& rt, const NodeConfig& node, const DvvSettings& config);
  const DvvSettings& config() const { return config_; }
  ~DvvNode() override;
  Status start();
  void stop() override;

  // --- the client API (the HTTP layer maps onto these)
  Result<GetReply> get(const ObjectKey& key, const RequestOptions& o);
  Result<PutReply> put(const ObjectKey& key, Sibling value, std::optional<std::string> context,
                       const RequestOptions& o);
  Result<PutReply> remove(const ObjectKey& key, std::optional<std::string> context,
                          const RequestOptions& o);
  BucketProps props(const std::string& bucket) const;
  // False: `if_version` was given and the bucket's props here are another version.
  Result<bool> set_props(const std::string& bucket, BucketProps props,
                         std::optional<std::uint64_t> if_version = std::nullopt);

  // --- introspection, for the simulator's checks and stats
  const ObjectLog& log() const { return store_.log(); }
  // The id this node's dots carry (replica_id.h).
  const ReplicaId& replica_id() const { return store_.self_id(); }
  const Ring& ring() const { return membership_.ring(); }
  const Membership& membership() const { return membership_; }
  // An admin's membership request (cluster_changes.h), done by the claimant.
  Result<std::string> cluster(ClusterOp op, std::optional<MemberChange> change = std::nullopt);
  // Objects and bytes this node handed to new owners since it booted.
  std::uint64_t handoff_objects() const { return ownership_.objects_sent(); }
  std::uint64_t handoff_bytes() const { return ownership_.bytes_sent(); }
  // Replicas this node holds of keys it no longer serves (to be handed off and dropped).
  std::uint64_t unserved_objects() const;
  NodeIndex self() const { return self_; }
  bool peer_up(NodeIndex n) const;
  // The nodes of the cluster's configuration (the peers), members of the ring or not.
  NodeIndex nodes() const { return static_cast<NodeIndex>(node_.peers.size()); }
  Runtime& runtime() { return rt_; }
  // The node's own metrics (on core 0): client requests by operation and outcome, siblings
  // per read, the log's size, the peers seen up. A copy, with the gauges read now.
  metrics::MetricSet metrics() const;

 private:
  // Runs `loop` in a fiber of its own, counted until it returns.
  void run_background(std::function<void()> loop);
  template <class R>
  R count(std::string_view op, R result);

  metrics::MetricSet metrics_;

  Runtime& rt_;
  NodeConfig node_;
  DvvSettings config_;
  Membership membership_;
  NodeIndex self_;
  bool stopping_ = false;  // the background loops end once set
  // Declared in the order they must be destroyed in reverse: the peers'
  // connections close first, then the RPC server, the log last.
  ReplicaStore store_;
  std::unique_ptr<RpcServer> rpc_;
  Peers peers_;
  PropsTable props_;
  ClusterChanges changes_;
  ReplicaClient replicas_;
  Reaper reaper_;
  Coordinator coordinator_;
  Handoff handoff_;
  AntiEntropy anti_entropy_;
  OwnershipHandoff ownership_;
  RpcDispatch dispatch_;
  int background_ = 0;  // fibers of the loops still running
  std::unique_ptr<Condition> background_done_;
};

}  // namespace doppel::dvv
