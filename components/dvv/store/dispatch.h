#pragma once
// The node's side of node-to-node requests: decodes each kind's message
// (messages.h) and hands it to the part that serves it: the replica store
// (get, put, repair, reap), the coordinator (a forwarded PUT), anti-entropy
// (segment hashes and keys), the props table (gossip), membership (ring
// gossip, admin changes, handoff reports). The RPC server calls
// handle() in a fiber per request; the node also calls it for itself where
// its own replica must take exactly a peer's path.

#include <string>
#include <string_view>

#include "components/dvv/store/rpc.h"
#include "runtime/result.h"
#include "runtime/runtime.h"

namespace doppel::dvv {

class AntiEntropy;
class ClusterChanges;
class Coordinator;
class PropsTable;
class ReplicaStore;
class Ring;

class RpcDispatch {
 public:
  RpcDispatch(Runtime& rt, const Ring& ring, ReplicaStore& store, Coordinator& coordinator,
              AntiEntropy& anti_entropy, PropsTable& props, ClusterChanges& changes);
  RpcDispatch(const RpcDispatch&) = delete;
  RpcDispatch& operator=(const RpcDispatch&) = delete;

  // The reply's payload, or an error the caller sees as the call's error.
  Result<std::string> handle(RpcKind kind, std::string_view payload);

 private:
  Result<std::string> get(std::string_view payload);
  Result<std::string> put(std::string_view payload);
  Result<std::string> coordinate(std::string_view payload);
  Result<std::string> repair(std::string_view payload);
  Result<std::string> repairs(std::string_view payload);
  Result<std::string> reap(std::string_view payload);
  Result<std::string> aae_segments(std::string_view payload);
  Result<std::string> aae_keys(std::string_view payload);
  Result<std::string> props(std::string_view payload);

  Runtime& rt_;
  const Ring& ring_;
  ReplicaStore& store_;
  Coordinator& coordinator_;
  AntiEntropy& anti_entropy_;
  PropsTable& props_;
  ClusterChanges& changes_;
};

}  // namespace doppel::dvv
