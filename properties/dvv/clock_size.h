#pragma once
// The size of a causal context measured from the bytes a client received
// (X-Riak-Vclock, base64), not from what the server says about it: the
// clock-entries-bounded property must not take the server's word.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "components/dvv/clock/object_clock.h"
#include "runtime/result.h"

namespace doppel::properties::dvv {

struct ClockSize {
  std::size_t entries = 0;       // ids (DVVSet) or actors (VV) in the context
  std::size_t bytes = 0;         // the encoded context, after base64
  std::vector<std::string> ids;  // the entries' ids, in the context's order
};

// DVVSet's bound on a context's ids: only a key's primaries coordinate and
// each mints under its own id, renewed at most once per boot when the boot
// lost records (components/dvv/store/replica_id.h), and once per renewal a
// node made while it ran (a release of keys it no longer serves, a join). So
// the ids name at most `nodes_max` nodes (n_val, or every node that was ever
// a primary of the key when the ring changed), and node k at most ids(k)
// times. Returns what breaks it, or nothing. `ids_max` answers for a node name
// ("n<index>"); for names that are not a node's it is not asked.
std::optional<std::string> dvvset_ids_beyond_bound(
    const std::vector<std::string>& ids, std::size_t nodes_max,
    const std::function<std::optional<std::uint32_t>(std::size_t node)>& ids_max);

// Errc::corrupt (or the base64 error) when the header does not decode to a context of `kind`.
Result<ClockSize> measure_context(std::string_view vclock_base64, doppel::dvv::ClockKind kind);

}  // namespace doppel::properties::dvv
