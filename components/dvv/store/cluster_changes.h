#pragma once
// How membership changes are made and spread (riak-admin cluster ...):
//
//   stage    a join, leave, replace or force-remove, held by the claimant
//            (ring_state.h) in memory until committed or cleared (as Riak's
//            staged changes: a claimant restart forgets them);
//   plan     what a commit of the staged changes would do, without doing it;
//   commit   the planned state, saved, then pushed to every node;
//   handoff  each member reports to the claimant once it handed off what the
//            new owners lack (ownership_handoff.h); the last report settles
//            the transition, and the settled state is pushed too.
//
// Any node takes the admin requests and forwards them to the claimant it
// knows. Every gossip_interval a node that has a changed ring (version > 0)
// swaps states with one other node picked at random, so a node that missed a
// push (down, partitioned, not yet booted) catches up; a cluster that never
// changed sends nothing (its runs stay what they were before membership).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "components/dvv/settings.h"
#include "components/dvv/store/membership.h"
#include "components/dvv/store/peers.h"
#include "components/dvv/store/ring_state.h"
#include "runtime/runtime.h"
#include "runtime/sync.h"

namespace doppel::dvv {

enum class ClusterOp : std::uint8_t { stage = 0, plan = 1, commit = 2, clear = 3 };

class ClusterChanges {
 public:
  static constexpr std::size_t kStagedMax = 64;

  ClusterChanges(Runtime& rt, const DvvSettings& config, Membership& membership, Peers& peers);
  ClusterChanges(const ClusterChanges&) = delete;
  ClusterChanges& operator=(const ClusterChanges&) = delete;

  // The admin requests, at any node: done by the claimant (forwarded to it over RPC). Each
  // answers text for the operator; errors are invalid_argument (a change that cannot be made,
  // named) or the forwarding's.
  Result<std::string> request(ClusterOp op, std::optional<MemberChange> change = std::nullopt);
  // This node handed off the pending transition's data: tells the claimant.
  Status report_handed_off();

  // RPC handlers (dispatch.h): an admin request forwarded here; a handoff report; a gossip
  // exchange (their state in, this node's out).
  Result<std::string> serve_request(std::string_view payload);
  Result<std::string> serve_handed_off(std::string_view payload);
  Result<std::string> serve_exchange(std::string_view payload);

  // Swaps states with `node` now (gossip on demand: a node that refused a request because it
  // holds a newer ring). Either side takes the other's state if it is newer.
  Status exchange(NodeIndex node, Duration timeout);
  // Swaps states with one other node each gossip_interval until `stopping`; the claimant
  // also settles a transition whose reports are all in (a settle whose save failed).
  void gossip_loop(const bool& stopping);

 private:
  // At the claimant.
  Result<std::string> apply(ClusterOp op, std::optional<MemberChange> change);
  Result<std::string> describe_plan(const RingState& planned) const;
  // Takes `next` (the claimant's change) and pushes it to every other node.
  Status change(const RingState& next);
  Status handed_off(NodeIndex node);
  void push();
  bool is_claimant() const { return membership_.state().claimant() == membership_.self(); }

  Runtime& rt_;
  const DvvSettings& config_;
  Membership& membership_;
  Peers& peers_;
  std::vector<MemberChange> staged_;
  Mutex change_lock_;  // one change at a time: read the state, change it, save it
};

std::string encode_cluster_request(ClusterOp op, const std::optional<MemberChange>& change);

}  // namespace doppel::dvv
