#pragma once
// Time is integer nanoseconds. Instants come only from Runtime::now() (a
// monotonic clock) and Runtime::wall_now() (unix time, which may be skewed or
// step in simulation); neither clock type has a now() of its own, so nothing
// can read the host's clock behind the runtime's back.

#include <chrono>
#include <cstdint>

namespace doppel {

using Duration = std::chrono::nanoseconds;

struct MonotonicClock {  // a tag: read it through Runtime::now()
  using duration = Duration;
  using rep = Duration::rep;
  using period = Duration::period;
  using time_point = std::chrono::time_point<MonotonicClock, Duration>;
  static constexpr bool is_steady = true;
};

struct WallClock {  // a tag: unix time, read it through Runtime::wall_now()
  using duration = Duration;
  using rep = Duration::rep;
  using period = Duration::period;
  using time_point = std::chrono::time_point<WallClock, Duration>;
  static constexpr bool is_steady = false;
};

using Instant = MonotonicClock::time_point;
using WallTime = WallClock::time_point;

inline constexpr Instant kNever = Instant::max();

inline constexpr std::int64_t to_ns(Duration d) {
  return d.count();
}
inline constexpr std::int64_t to_ns(Instant t) {
  return t.time_since_epoch().count();
}
inline constexpr Instant instant_ns(std::int64_t ns) {
  return Instant(Duration(ns));
}

// Saturating: a deadline far in the future stays kNever instead of wrapping.
inline constexpr Instant deadline_after(Instant now, Duration d) {
  if (d.count() >= (kNever - now).count()) return kNever;
  return now + d;
}

}  // namespace doppel
