#pragma once
// Talking to one replica of a key, this node's own included: read its
// object, have it store a coordinator's object (a primary syncs it in, a
// fallback keeps it as a hint), repair it with a merged object, ask it to
// reap a tombstone. This node's own replica is served in place (through
// the same dispatch as a peer's request where the request is the message:
// a hint, a reap), the others over RPC (messages.h).

#include <cstdint>

#include "components/dvv/clock/object_clock.h"
#include "components/dvv/store/object_log.h"
#include "components/dvv/store/peers.h"
#include "components/dvv/store/props_table.h"
#include "components/dvv/store/replica_store.h"
#include "components/dvv/store/ring.h"
#include "runtime/runtime.h"

namespace doppel::dvv {

class RpcDispatch;

// The node's wall clock in milliseconds: sibling timestamps (last write wins),
// vv entry timestamps and prune times. May be skewed; never orders events.
std::int64_t wall_now_ms(Runtime& rt);

class ReplicaClient {
 public:
  ReplicaClient(Runtime& rt, NodeIndex self, Peers& peers, const PropsTable& props,
                ReplicaStore& store, RpcDispatch& local);
  ReplicaClient(const ReplicaClient&) = delete;
  ReplicaClient& operator=(const ReplicaClient&) = delete;

  // The replica's object as one of the bucket's clock kind (an empty object
  // when it has none); an error if it did not answer.
  Result<Object> read(NodeIndex node, const ObjectKey& key, Duration timeout);
  // A coordinator's object to one replica of its preference list; `durable`
  // says whether the replica synced it.
  Status store(const Replica& replica, const ObjectKey& key, const Object& object, bool* durable,
               Duration timeout);
  // Read repair, handoff, anti-entropy: the replica syncs `object` in (not durably).
  Status repair(NodeIndex node, const ObjectKey& key, const Object& object, Duration timeout);
  // Many repairs in one message (encode_keyed_object's bytes each, at most kRepairsMax): for
  // each, whether the replica took it.
  Result<std::vector<bool>> repairs(NodeIndex node, const std::vector<std::string>& keyed_objects,
                                    Duration timeout);
  // Everything `node` took so far is durable when this returns: a handoff's copies, before the
  // sender drops its own (a repair's record may still be only in the page cache).
  Status sync(NodeIndex node, Duration timeout);
  // The replica drops `tombstone` if it still holds exactly it.
  // True if the node dropped the tombstone and the hints it supersedes (or held neither).
  Result<bool> reap(NodeIndex node, const ObjectKey& key, const Object& tombstone,
                    Duration timeout);
  // The nodes of the cluster's configuration, members or not.
  NodeIndex nodes() const { return static_cast<NodeIndex>(peers_.size()); }

 private:
  Runtime& rt_;
  NodeIndex self_;
  Peers& peers_;
  const PropsTable& props_;
  ReplicaStore& store_;
  RpcDispatch& local_;
};

}  // namespace doppel::dvv
