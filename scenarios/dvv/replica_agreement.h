#pragma once
// The final check of one key's primaries, once the faults healed and
// anti-entropy ran: each one's own copy (GET /debug/local/...) must be the
// same on all of them (replicas-converge), and each stored clock, measured
// from its bytes, within DVVSet's bound (clock-entries-bounded, clock_judge.h).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "components/dvv/client/riak_client.h"
#include "components/dvv/store/ring.h"
#include "scenarios/dvv/clock_judge.h"

namespace doppel::scenarios {

struct ReplicaVerdict {
  std::string property;  // the property broken
  std::string detail;
};

// The first property the primaries break, if any. `clocks` null: clocks not judged;
// `converge` false: copies may differ.
std::optional<ReplicaVerdict> check_replicas(
    Runtime& rt, const std::vector<doppel::dvv::NodeIndex>& primaries,
    const std::function<doppel::dvv::RiakClient&(std::uint32_t node)>& client_of,
    const std::string& bucket, const std::string& key, Duration timeout, ClockJudge* clocks,
    bool converge);

}  // namespace doppel::scenarios
