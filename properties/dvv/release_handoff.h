#pragma once
// The handoff-before-release property: a node gives its replica of a key up
// (drops it because, in the ring it holds, it is no longer one of the key's
// primaries) only once every primary of the key in that ring durably holds
// what the replica held. "What the replica held" is the node's last own
// record of the key in its log, read from its disk by the oracle's decoder
// (log_values.h) the moment it reports the release; "durably holds" is the
// primary's log as it survives a crash, every record it ever held
// (pw-dw-durable's reading, write_promises.h):
//   - each value of the replica, or a value written knowing it, or a clock
//     covering the value's dot (a later write or a tombstone superseded it);
//   - the replica's whole causal past: for each replica id in its DVVSet
//     clock, a counter at least as high.
// A release that breaks this may lose the only copy of a write (a w=1 PUT,
// or one whose other replicas crashed before syncing), or leave a newcomer
// that serves reads without it until anti-entropy finds it; the first is
// acknowledged-writes-survive's, the second no other property sees.

#include <cstdint>
#include <string>
#include <vector>

#include "properties/dvv/causal_oracle.h"
#include "properties/dvv/log_values.h"

namespace doppel::properties::dvv {

// A primary of the released key, and its log's durable records of the key (nullptr: none).
struct KeyHolder {
  std::uint32_t node = 0;
  const LoggedKey* durable = nullptr;
};

// "" when every primary holds `released` (a LogValues::last_replica); otherwise what is missing
// where.
std::string unheld_release(const CausalOracle& oracle, const LoggedKey& released,
                           const std::vector<KeyHolder>& primaries);

}  // namespace doppel::properties::dvv
