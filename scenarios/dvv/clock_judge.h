#pragma once
// clock-entries-bounded's side in the simulator: a causal context, measured
// from the bytes a client (or the final check) received, against DVVSet's
// bound (properties/dvv/clock_size.h) with what the world knows: each
// server's boots, the replica ids it renewed while it ran, and, when the ring
// changed, every node that was ever a primary of the key (ring_history.h).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "components/dvv/clock/object_clock.h"
#include "scenarios/dvv/ring_history.h"
#include "sim/world.h"

namespace doppel::scenarios {

class ClockJudge {
 public:
  ClockJudge(const sim::World& world, std::vector<sim::NodeId> servers, std::uint32_t n_val,
             doppel::dvv::ClockKind kind, const RingHistory& rings)
      : world_(world), servers_(std::move(servers)), n_val_(n_val), kind_(kind), rings_(rings) {}

  // What about `vclock` (base64, X-Riak-Vclock) of `key` is beyond the bound, if anything.
  std::optional<std::string> judge(const std::string& bucket, const std::string& key,
                                   std::string_view vclock);
  std::uint64_t max_entries() const { return max_entries_; }

 private:
  const sim::World& world_;
  std::vector<sim::NodeId> servers_;
  std::uint32_t n_val_;
  doppel::dvv::ClockKind kind_;
  const RingHistory& rings_;
  std::uint64_t max_entries_ = 0;
};

}  // namespace doppel::scenarios
