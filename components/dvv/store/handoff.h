#pragma once
// Hinted handoff: a fallback that took writes for a primary that was down
// holds them as hints (object_log.h); every handoff_interval it hands each
// up primary its hints, at most kHandoffBatchMax a round, as repairs, and
// drops a hint once the primary has it (unless a newer one arrived since).
// A hint for a node that no longer serves the key (the ring changed since,
// membership.h) goes to the key's replicas now instead.
// The same loop compacts the log when it holds too much dead weight.

#include <cstddef>

#include "components/dvv/settings.h"
#include "components/dvv/store/membership.h"
#include "components/dvv/store/peers.h"
#include "components/dvv/store/props_table.h"
#include "components/dvv/store/replica_client.h"
#include "components/dvv/store/replica_store.h"
#include "runtime/runtime.h"

namespace doppel::dvv {

class Handoff {
 public:
  static constexpr std::size_t kHandoffBatchMax = 256;  // hints per primary per round

  Handoff(Runtime& rt, const DvvSettings& config, NodeIndex self, Peers& peers, ReplicaStore& store,
          ReplicaClient& replicas, const Membership& membership, const PropsTable& props);
  Handoff(const Handoff&) = delete;
  Handoff& operator=(const Handoff&) = delete;

  // One round each handoff_interval, until `stopping`.
  void loop(const bool& stopping);

 private:
  void hand_off(NodeIndex target);

  Runtime& rt_;
  const DvvSettings& config_;
  NodeIndex self_;
  Peers& peers_;
  ReplicaStore& store_;
  ReplicaClient& replicas_;
  const Membership& membership_;
  const PropsTable& props_;
};

}  // namespace doppel::dvv
