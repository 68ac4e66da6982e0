#pragma once
// The size of a causal context measured from the bytes a client received
// (X-Riak-Vclock, base64), not from what the server says about it: the
// clock-entries-bounded property must not take the server's word.

#include <cstddef>
#include <string_view>

#include "components/dvv/clock/object_clock.h"
#include "runtime/result.h"

namespace doppel::properties::dvv {

struct ClockSize {
  std::size_t entries = 0;  // ids (DVVSet) or actors (VV) in the context
  std::size_t bytes = 0;    // the encoded context, after base64
};

// Errc::corrupt (or the base64 error) when the header does not decode to a context of `kind`.
Result<ClockSize> measure_context(std::string_view vclock_base64, doppel::dvv::ClockKind kind);

}  // namespace doppel::properties::dvv
