#pragma once
// This node's view of the cluster's membership (ring_state.h): the ring
// state it holds, saved whole (written new, synced, renamed over) before it
// is used, and the two rings the rest of the node reads: ring(), whose owners
// serve reads and count toward quorums, and next_ring(), the owners once the
// pending transition settles (the same ring when none is). Both are objects
// that live as long as the node; a newer state changes them in place, so the
// parts that hold a reference always see the ring this node holds now.
//
// A node serves a key as a replica while it is among the key's primaries in
// either ring: it takes writes and repairs of it then, and refuses them
// otherwise (a coordinator with an older ring must not leave the only copy of
// an acknowledged write on a node about to drop the key).
//
// No network here: gossip and the claimant are cluster_changes.h, moving
// data is ownership_handoff.h.

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "components/dvv/settings.h"
#include "components/dvv/store/ring.h"
#include "components/dvv/store/ring_state.h"
#include "runtime/runtime.h"
#include "runtime/sync.h"

namespace doppel::dvv {

class Membership {
 public:
  // The file the state is saved in (checked_file.h), in the node's data directory.
  static constexpr std::string_view kFile = "ring";

  Membership(Runtime& rt, const DvvSettings& config, NodeIndex self, NodeIndex nodes);
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  // The saved state, or the first ring of the configuration (settings' `members`).
  Status load();
  const RingState& state() const { return state_; }
  const Ring& ring() const { return ring_; }
  const Ring& next_ring() const { return next_; }
  NodeIndex self() const { return self_; }
  NodeIndex nodes() const { return static_cast<NodeIndex>(state_.members.size()); }

  // Whether `node` is a primary of `partition` in the ring or the next one.
  bool serves(NodeIndex node, std::uint32_t partition, std::uint32_t n_val) const;
  // Whether it is with each of `n_vals` (PropsTable::n_vals: then it serves every key of the
  // partition; a release round of a node that holds a million keys and serves them all looks
  // at none of them).
  bool serves_all(NodeIndex node, std::uint32_t partition,
                  const std::set<std::uint32_t>& n_vals) const;
  // Primaries of `partition` in the next ring that are not primaries in the ring.
  std::vector<NodeIndex> newcomers(std::uint32_t partition, std::uint32_t n_val) const;

  // Takes `theirs` if it is newer (ring_state.h's newer()); saves it first. True if taken.
  Result<bool> adopt(const RingState& theirs);
  // Called after each state taken (in the fiber that took it).
  void on_change(std::function<void()> f) { on_change_.push_back(std::move(f)); }

 private:
  Status save(const RingState& s);

  Runtime& rt_;
  const DvvSettings& config_;
  NodeIndex self_;
  RingState state_;
  Ring ring_;
  Ring next_;
  Mutex save_lock_;
  std::vector<std::function<void()>> on_change_;
};

}  // namespace doppel::dvv
