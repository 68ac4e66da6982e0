#pragma once
// Runs step(0) .. step(count - 1) in up to `width` fibers of the calling core at once, and
// returns the first failure (Status{} if every step succeeded). For steps that mostly wait on
// the disk -- writing and syncing many small files -- which a disk behind a queue serves side
// by side (the runtime's blocking calls overlap on the epoll backend, io_uring queues them).
//
// After a failure no new step starts; the ones running finish. Every fiber is awaited before
// this returns, so a step may use the caller's locals. A step's order is not its index's: the
// steps must not depend on each other.

#include <algorithm>
#include <cstddef>
#include <functional>
#include <optional>
#include <vector>

#include "runtime/future.h"
#include "runtime/result.h"
#include "runtime/runtime.h"

namespace doppel::dedup {

inline Status fan_out(Runtime& rt, std::size_t count, std::size_t width,
                      const std::function<Status(std::size_t)>& step) {
  DOPPEL_ASSERT(width > 0);
  std::size_t next = 0;
  Status first;
  const auto run = [&] {
    while (next < count && first) {
      const std::size_t i = next++;
      if (Status s = step(i); !s && first) first = s;
    }
  };
  std::vector<Future<Unit>> fibers;
  for (std::size_t k = 1; k < std::min(width, count); ++k) {
    fibers.push_back(run_on(rt, rt.this_core(), run));
  }
  run();
  for (Future<Unit>& f : fibers) {
    // A broken future: the node is stopping (its fibers are being cancelled).
    if (!f.get() && first) first = make_error(Errc::cancelled, "the node is stopping");
  }
  return first;
}

}  // namespace doppel::dedup
