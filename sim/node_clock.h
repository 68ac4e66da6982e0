#pragma once
// One node's clocks, as its processes read them.
//
// Fault model. A machine's clocks all tick from its own oscillator, which
// runs fast or slow by some parts per million (a crystal: up to ~100 ppm; a
// broken one or a VM with a miscalibrated TSC: percent). So the node's
// monotonic clock (Runtime::now(), and with it every sleep, timer and park
// deadline on the node) runs at 1 + ppm/1e6 of true time, and its wall clock
// runs with it. The `clock_skew` fault changes the rate (the monotonic clock
// stays continuous: it never steps and never runs backwards) and steps the
// wall clock (NTP or an operator setting the time). When the fault phase
// ends, NTP has done its work: the rate is true again and the wall clock
// reads true time; the monotonic clock keeps what it gained or lost.
//
// Times are integer nanoseconds; the rate arithmetic is done in 128 bits, so
// it is exact and the same on every build.

#include <cstdint>

#include "runtime/assert.h"
#include "runtime/time.h"

namespace doppel::sim {

__extension__ typedef __int128 Int128;  // GCC's and Clang's; __extension__: not ISO C++

class NodeClock {
 public:
  // Must stay well above -1e6 so that the clock runs forwards.
  static constexpr std::int64_t kDriftPpmLimit = 100'000;

  explicit NodeClock(std::int64_t wall_epoch_ns) : wall_epoch_ns_(wall_epoch_ns) {}

  // The node's monotonic clock at world time `global` (global >= the last
  // rate change).
  Instant local_at(Instant global) const {
    const std::int64_t d = to_ns(global) - base_global_ns_;
    DOPPEL_ASSERT(d >= 0);
    if (ppm_ == 0) return instant_ns(base_local_ns_ + d);
    return instant_ns(base_local_ns_ + d + scaled(d));
  }

  // The earliest world time at which the monotonic clock reads `local` (or
  // later): when a deadline on this node falls due. kNever stays kNever.
  Instant global_at(Instant local) const {
    if (local == kNever) return kNever;
    const std::int64_t x = to_ns(local) - base_local_ns_;
    if (x <= 0) return instant_ns(base_global_ns_);
    if (ppm_ == 0) return instant_ns(base_global_ns_ + x);
    // d + floor(d * ppm / 1e6) >= x: start from the real-valued answer and
    // step to the exact integer one (at most a step or two).
    Int128 d = (static_cast<Int128>(x) * kMillion + (kMillion + ppm_) - 1) / (kMillion + ppm_);
    while (d + scaled128(d) < x) ++d;
    while (d > 0 && (d - 1) + scaled128(d - 1) >= x) --d;
    const Int128 g = base_global_ns_ + d;
    if (g >= to_ns(kNever)) return kNever;
    return instant_ns(static_cast<std::int64_t>(g));
  }

  WallTime wall_at(Instant global) const {
    return WallTime(Duration(wall_epoch_ns_ + to_ns(local_at(global)) + wall_offset_ns_));
  }

  std::int64_t drift_ppm() const { return ppm_; }

  // From `now` on the clock runs at 1 + ppm/1e6; the monotonic reading is
  // continuous across the change.
  void set_drift(Instant now, std::int64_t ppm) {
    DOPPEL_ASSERT(ppm >= -kDriftPpmLimit && ppm <= kDriftPpmLimit);
    base_local_ns_ = to_ns(local_at(now));
    base_global_ns_ = to_ns(now);
    ppm_ = ppm;
  }

  // The wall clock steps; the monotonic clock does not.
  void step_wall(Duration offset) { wall_offset_ns_ += to_ns(offset); }

  // NTP caught up: true rate, and the wall clock reads true time from `now`.
  void make_true(Instant now) {
    set_drift(now, 0);
    wall_offset_ns_ = to_ns(now) - to_ns(local_at(now));
  }

 private:
  static constexpr std::int64_t kMillion = 1'000'000;

  // floor(d * ppm / 1e6), exactly.
  std::int64_t scaled(std::int64_t d) const { return static_cast<std::int64_t>(scaled128(d)); }
  Int128 scaled128(Int128 d) const {
    const Int128 p = d * ppm_;
    Int128 q = p / kMillion;
    if (p % kMillion != 0 && p < 0) --q;  // floor, not truncation
    return q;
  }

  std::int64_t wall_epoch_ns_;
  std::int64_t base_global_ns_ = 0;  // the world time of the last rate change
  std::int64_t base_local_ns_ = 0;   // the monotonic reading then
  std::int64_t ppm_ = 0;
  std::int64_t wall_offset_ns_ = 0;  // wall = epoch + monotonic + offset
};

}  // namespace doppel::sim
