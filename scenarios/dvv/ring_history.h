#pragma once
// Which rings the servers held, and when, for the oracles that name a key's
// primaries (pw-dw-durable, clock-entries-bounded) in a scenario whose ring
// changes (membership_admin.h). Each server's state is read from its
// simulated disk whenever it reports taking one (DvvRingAdopted: saved before
// used), so the oracle knows exactly the states nodes acted on, without a
// line of the server's code written for it.
//
// A PUT is judged against every ring some node could have coordinated or
// replicated it with: the states held by any node when it began, and every
// state taken before it was acked, each with its next owners too.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "components/dvv/store/ring_state.h"

namespace doppel::scenarios {

class RingHistory {
 public:
  using NodeIndex = doppel::dvv::NodeIndex;
  // The lowest version any server held at some moment.
  using Mark = std::uint64_t;

  RingHistory(std::uint32_t partitions, NodeIndex nodes, NodeIndex members);

  // Server `node` took the state saved in `file` (the bytes of its ring file). Bytes that do
  // not decode (a bit the simulator flipped right after the save) leave the history incomplete.
  void adopted(NodeIndex node, std::string_view file);
  // Server `node` booted with `file` (nullptr: none) as its saved state: it holds that state,
  // or the first ring if there is none or it does not decode (Membership::load).
  void booted(NodeIndex node, const std::string* file);
  // Whether every state taken was read: the oracles judge nothing against an incomplete one.
  bool complete() const { return complete_; }
  // Server `node` took a new replica id (a boot that lost records, a release, a join).
  void renewed(NodeIndex node) { ++renewals_[node]; }

  Mark mark() const;
  // The version of the state server `node` holds.
  std::uint64_t held_version(NodeIndex node) const { return held_.at(node); }
  bool changed() const { return states_.size() > 1; }
  // Primaries of `partition` (owners or next owners) in any state held from `since` on.
  std::set<NodeIndex> primaries_since(Mark since, std::uint32_t partition,
                                      std::uint32_t n_val) const;
  // Primaries of `partition` in the ring server `node` holds now (its owners, not next owners).
  std::set<NodeIndex> primaries_held(NodeIndex node, std::uint32_t partition,
                                     std::uint32_t n_val) const;
  std::set<NodeIndex> ever_primaries(std::uint32_t partition, std::uint32_t n_val) const {
    return primaries_since(0, partition, n_val);
  }
  std::uint32_t renewals(NodeIndex node) const;
  std::uint32_t partition_of(const std::string& bucket, const std::string& key) const {
    return ring_.partition_of(bucket, key);
  }

 private:
  doppel::dvv::Ring ring_;                                       // for partition_of
  doppel::dvv::Ring first_;                                      // the first state's
  std::multimap<std::uint64_t, doppel::dvv::RingState> states_;  // by version
  std::vector<std::uint64_t> held_;                              // by server: the version it holds
  std::vector<doppel::dvv::Ring> held_rings_;                    // by server: that state's ring
  std::map<NodeIndex, std::uint32_t> renewals_;
  bool complete_ = true;
};

}  // namespace doppel::scenarios
