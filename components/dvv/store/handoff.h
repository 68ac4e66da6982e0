#pragma once
// Hinted handoff: a fallback that took writes for a primary that was down
// holds them as hints (object_log.h); every handoff_interval it hands each
// up primary its hints, at most kHandoffBatchMax a round, as repairs, and
// drops a hint once the primary has it (unless a newer one arrived since).
// The same loop compacts the log when it holds too much dead weight.

#include <cstddef>

#include "components/dvv/settings.h"
#include "components/dvv/store/peers.h"
#include "components/dvv/store/replica_client.h"
#include "components/dvv/store/replica_store.h"
#include "runtime/runtime.h"

namespace doppel::dvv {

class Handoff {
 public:
  static constexpr std::size_t kHandoffBatchMax = 256;  // hints per primary per round

  Handoff(Runtime& rt, const DvvSettings& config, NodeIndex self, Peers& peers, ReplicaStore& store,
          ReplicaClient& replicas);
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
};

}  // namespace doppel::dvv
