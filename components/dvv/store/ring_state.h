#pragma once
// Cluster membership as data, after riak_core's ring: which configured nodes
// are members, which partitions each owns, and, while ownership moves, which
// it will own next. One node, the claimant (the lowest-numbered member that
// is not leaving), makes every change; each change raises the version, and
// nodes gossip the state, keeping the higher version (ties, which only two
// claimants at once during a partition make, go to the larger encoding, so
// every node keeps the same one).
//
// A change is staged (join, leave, replace, force-remove), planned (claim()
// computes the next owners, moving as few partitions as it can) and
// committed: the state then holds `next` beside `owner`, and every member
// that held data hands off what its new owners lack (membership.h). Once
// every member reported its handoff done, the claimant settles the state:
// `next` becomes `owner`, joining nodes are valid, leaving ones have left.
// One transition at a time, as Riak's "ring not ready".
//
// Deviation from Riak: nodes are the configuration's peers (an index and an
// address each), members or not; a node joins the cluster it is configured
// for, it does not bring a new address with it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "components/dvv/store/ring.h"
#include "runtime/result.h"

namespace doppel::dvv {

enum class MemberStatus : std::uint8_t {
  none = 0,     // configured, never joined (or left and may join again)
  joining = 1,  // owns partitions in `next` only
  valid = 2,
  leaving = 3,  // owns partitions in `owner` only; stops once the transition settles
};
std::string_view member_status_name(MemberStatus s);

struct MemberChange {
  enum class Kind : std::uint8_t { join = 0, leave = 1, replace = 2, force_remove = 3 };
  Kind kind = Kind::join;
  NodeIndex node = 0;
  NodeIndex with = 0;  // replace: the node that takes over `node`'s partitions
  bool operator==(const MemberChange&) const = default;
};
std::string describe(const MemberChange& c);

struct RingState {
  static constexpr NodeIndex kNodesMax = 256;

  std::uint64_t version = 0;
  std::vector<MemberStatus> members;  // by node index: every configured node
  std::vector<NodeIndex> owner;       // by partition
  std::vector<NodeIndex> next;        // by partition; empty unless a transition is pending
  std::vector<bool> handed_off;       // by node index: its handoff of this transition is done

  // The first ring of a cluster of `nodes` configured nodes of which the first `members` are
  // members: partitions round-robin over them (so a cluster that never changed has the ring a
  // static configuration had).
  static RingState initial(std::uint32_t partitions, NodeIndex nodes, NodeIndex members);

  bool pending() const { return !next.empty(); }
  Ring ring() const { return Ring(owner); }
  // The owners once the pending transition settles (the current ones if none is pending).
  Ring next_ring() const { return Ring(pending() ? next : owner); }
  bool member(NodeIndex n) const;  // joining, valid or leaving
  // The member that makes changes: the lowest-numbered valid member (nullopt: none).
  std::optional<NodeIndex> claimant() const;
  // Members that hold data and have not yet handed off the pending transition's.
  std::vector<NodeIndex> awaiting_handoff() const;

  bool operator==(const RingState&) const = default;
};

// Partitions for `members` (sorted, distinct), starting from `owner`: every member ends with
// partitions/members or one more; a partition keeps its owner unless that owner is no member
// or holds more than its share; a moved partition goes to a node that owns none of the
// n_val - 1 partitions on either side where one can (preference lists spread over distinct
// nodes), else to the node furthest below its share.
std::vector<NodeIndex> claim(const std::vector<NodeIndex>& owner,
                             const std::vector<NodeIndex>& members, std::uint32_t n_val);

// The state once `changes` are committed: `next` planned, version raised. Errors (invalid
// argument, named): a transition is pending; a change names an unknown node, joins a member,
// removes a non-member, leaves the cluster with no valid member, two changes name one node,
// or a leave takes it below n_val members (and below the members it has).
Result<RingState> plan_changes(const RingState& now, const std::vector<MemberChange>& changes,
                               std::uint32_t n_val);
// The state once the pending transition settled: `next` is `owner`; version raised.
RingState settle(const RingState& now);
// `node`'s handoff is done; version raised. Nothing to do (nullopt) if it was already.
std::optional<RingState> mark_handed_off(const RingState& now, NodeIndex node);

// Whether `a` replaces `b` (gossip): the higher version, then the larger encoding.
bool newer(const RingState& a, const RingState& b);

std::string encode_ring_state(const RingState& s);
// Any bytes: what does not parse or breaks the state's invariants is an error value.
Result<RingState> decode_ring_state(std::string_view bytes);

}  // namespace doppel::dvv
