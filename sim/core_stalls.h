#pragma once
// Which cores of which nodes run nothing, and until when (the core_stall
// fault). The scheduler holds back the fibers of a stalled core and the World
// releases them when the stall ends; a task posted to a stalled core waits in
// a fiber. Node ids and cores are dense, so lookups are two vector indexings:
// the scheduler asks on every fiber wake-up.

#include <algorithm>
#include <vector>

#include "runtime/assert.h"
#include "sim/scheduler.h"
#include "sim/sim_context.h"

namespace doppel::sim {

class CoreStalls {
 public:
  explicit CoreStalls(const VirtualClock& clock) : clock_(clock) {}

  // Nodes are added in id order, as the World adds them.
  void add_node(NodeId node, CoreId cores) {
    DOPPEL_ASSERT(node == stalled_until_.size());
    stalled_until_.emplace_back(cores, instant_ns(0));
  }

  // False for the main context (kNoNode) and for cores a node does not have.
  bool stalled(NodeId node, CoreId core) const {
    if (node >= stalled_until_.size()) return false;
    const std::vector<Instant>& cores = stalled_until_[node];
    return core < cores.size() && cores[core] > clock_.now();
  }

  // A stall never shortens one already running.
  void stall(NodeId node, CoreId core, Instant until) {
    DOPPEL_ASSERT(node < stalled_until_.size() && core < stalled_until_[node].size());
    Instant& at = stalled_until_[node][core];
    at = std::max(at, until);
  }

  // Every stall of the node ends now.
  void end(NodeId node) {
    DOPPEL_ASSERT(node < stalled_until_.size());
    for (Instant& at : stalled_until_[node]) at = clock_.now();
  }

 private:
  const VirtualClock& clock_;
  std::vector<std::vector<Instant>> stalled_until_;  // by node, then core
};

}  // namespace doppel::sim
