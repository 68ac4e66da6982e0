#pragma once
// Expiry times inside the store: absolute unix seconds, 0 = never (store.h).

#include <algorithm>
#include <cstdint>
#include <limits>

namespace doppel::kv {

// A stored item's exptime has come.
inline bool expired(std::uint32_t exptime, std::int64_t now) {
  return exptime != 0 && exptime <= now;
}

// An exptime a request gives is already past: the item is gone at once.
inline bool in_past(std::int64_t exptime, std::int64_t now) {
  return exptime != 0 && exptime <= now;
}

// Stored as 32 unsigned bits: good until 2106. An exptime at or before `now`
// never reaches an item (the store drops such items at once).
inline std::uint32_t stored_exptime(std::int64_t exptime) {
  if (exptime == 0) return 0;
  constexpr std::int64_t kMax = std::numeric_limits<std::uint32_t>::max();
  return static_cast<std::uint32_t>(std::clamp<std::int64_t>(exptime, 1, kMax));
}

}  // namespace doppel::kv
