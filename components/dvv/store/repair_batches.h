#pragma once
// Durable delivery of many objects to other nodes, as handoffs need it: a
// node drops its copy of an object (a hint, a replica it no longer serves)
// once every node it went to holds it durably. Objects are grouped by
// destination into `repairs` messages (messages.h) of at most kBatchObjects
// objects and kBatchBytes bytes (but for an object alone), up to
// kBatchesInFlight at once (send_window.h); a replica answers one once it
// has taken its objects and synced its log. So one fsync covers a batch,
// and the answer itself is the proof of durability: a separate sync after
// the repairs could reach a node that crashed and lost them in between (a
// new boot, a new connection) and succeed.
//
// riak_core streams a vnode's objects in batches the same way, rather than
// one round trip per object.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "components/dvv/clock/object_clock.h"
#include "components/dvv/store/object_log.h"
#include "components/dvv/store/peers.h"
#include "components/dvv/store/replica_client.h"
#include "runtime/runtime.h"

namespace doppel::dvv {

// A key's object bound for the nodes `to`.
struct Delivery {
  ObjectKey key;
  Object object;
  std::vector<NodeIndex> to;
};

struct DeliveryCount {
  std::uint64_t objects = 0;  // object copies taken, summed over the nodes
  std::uint64_t bytes = 0;    // their encoded keys and objects
};

class RepairBatches {
 public:
  static constexpr std::size_t kBatchObjects = 256;
  static constexpr std::size_t kBatchBytes = 1u << 20;
  static constexpr std::size_t kBatchesInFlight = 16;

  // `self`'s own copies go through `replicas` too (taken into its own replica, then synced).
  RepairBatches(Runtime& rt, Peers& peers, ReplicaClient& replicas, NodeIndex self,
                Duration timeout)
      : rt_(rt), peers_(peers), replicas_(replicas), self_(self), timeout_(timeout) {}

  // By item: whether every node of its `to` took it durably. A node that is down takes none.
  std::vector<bool> deliver(std::shared_ptr<const std::vector<Delivery>> items,
                            DeliveryCount* count = nullptr);

 private:
  Runtime& rt_;
  Peers& peers_;
  ReplicaClient& replicas_;
  NodeIndex self_;
  Duration timeout_;
};

}  // namespace doppel::dvv
