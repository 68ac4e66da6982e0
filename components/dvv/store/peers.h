#pragma once
// The other nodes as this one sees them: one RPC client per node (the
// node's own slot exists but is never called) and whether each is up.
// Liveness: a ping to every other node each ping_interval; a node is up
// while its last answer is younger than down_after. Preference lists,
// forwarding and the background work all ask up().

#include <memory>
#include <vector>

#include "components/dvv/settings.h"
#include "components/dvv/store/ring.h"
#include "components/dvv/store/rpc.h"
#include "runtime/runtime.h"

namespace doppel::dvv {

class Peers {
 public:
  Peers(Runtime& rt, const DvvSettings& config, const std::vector<Endpoint>& endpoints,
        NodeIndex self);
  Peers(const Peers&) = delete;
  Peers& operator=(const Peers&) = delete;

  std::size_t size() const { return clients_.size(); }
  NodeIndex self() const { return self_; }
  RpcClient& at(NodeIndex n);
  bool up(NodeIndex n) const;

  // Pings every other node each ping_interval until `stopping`.
  void ping_loop(const bool& stopping);
  // Closes every connection; calls in flight fail.
  void close();

 private:
  Runtime& rt_;
  const DvvSettings& config_;
  NodeIndex self_;
  std::vector<std::unique_ptr<RpcClient>> clients_;
  std::vector<Instant> last_seen_;  // of each node's last answer to a ping
};

}  // namespace doppel::dvv
