#pragma once
// The dvv properties judged on the servers' simulated disks at a moment a
// client or a server reports (DiskPromises reads the logs):
//   pw-dw-durable           when a PUT's ack reaches its client, w nodes' logs hold
//                           the value, pw primaries' as their own replica, dw nodes'
//                           durably (properties/dvv/write_promises.h); the key's
//                           primaries are those of every ring some server held from
//                           the PUT's start on;
//   handoff-before-release  when a server gives its replica of a key up, every primary
//                           of the key in the ring it decided under durably holds what
//                           the replica held (properties/dvv/release_handoff.h).
// Each counts what it judged and what it could not (an ack exposed to last write wins,
// the vv baseline, an incomplete ring history): a run that could judge nothing says so.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "components/dvv/client/riak_client.h"
#include "properties/dvv/causal_oracle.h"
#include "scenarios/dvv/disk_promises.h"
#include "scenarios/dvv/ring_history.h"
#include "sim/world.h"

namespace doppel::scenarios {

class DurabilityJudge {
 public:
  using Violated = std::function<void(std::string_view property, std::string detail)>;
  struct Options {
    std::string bucket;  // the scenario's one bucket
    std::uint32_t n_val = 3;
    bool dvvset = true;         // false: the client-id vv baseline
    bool clock_switch = false;  // the bucket's clock kind flips during the run
  };

  // Watches the servers' disks from now on.
  DurabilityJudge(sim::World& world, std::vector<sim::NodeId> servers,
                  const properties::dvv::CausalOracle& oracle, const RingHistory& rings,
                  Options options, Violated violated);

  // The disks' reader, for the bits the simulator flips (ServerEvents).
  DiskPromises& disks() { return promises_; }

  // pw-dw-durable: the PUT of `value`, begun when the ring history stood at `ring_mark`,
  // acknowledged now with quorums `q`; `exposed`: to last write wins.
  void acked(const std::string& key, const std::string& value, const doppel::dvv::Quorum& q,
             bool exposed, RingHistory::Mark ring_mark);
  // handoff-before-release: server `server` gave its replica of `key` up, decided under its
  // ring of version `ring`.
  void released(RingHistory::NodeIndex server, const std::string& key, std::uint64_t ring);

  std::uint64_t acks_judged() const { return acks_judged_; }
  std::uint64_t acks_unjudged() const { return acks_unjudged_; }
  std::uint64_t releases_judged() const { return releases_judged_; }
  std::uint64_t releases_unjudged() const { return releases_unjudged_; }

 private:
  const properties::dvv::CausalOracle& oracle_;
  const RingHistory& rings_;
  Options options_;
  Violated violated_;
  DiskPromises promises_;
  std::uint64_t acks_judged_ = 0, acks_unjudged_ = 0, releases_judged_ = 0, releases_unjudged_ = 0;
};

}  // namespace doppel::scenarios
