#pragma once
// A core's timers: deadlines of parked fibers, in a binary heap. Cancelling
// is O(1) (the entry is forgotten and skipped when it surfaces).

#include <cstdint>
#include <queue>
#include <unordered_map>
#include <vector>

#include "runtime/runtime.h"

namespace doppel::real {

class TimerHeap {
 public:
  static constexpr std::size_t kTimersMax = 1u << 22;

  std::uint64_t add(Instant deadline, Waiter* w);  // returns a handle, never 0
  void cancel(std::uint64_t handle) { live_.erase(handle); }
  // The earliest live deadline, or kNever.
  Instant next();
  // Removes and returns a waiter whose deadline is <= now, or nullptr.
  Waiter* pop_expired(Instant now);
  std::size_t size() const { return live_.size(); }

 private:
  struct Entry {
    std::int64_t deadline;
    std::uint64_t handle;
    bool operator>(const Entry& o) const {
      return deadline != o.deadline ? deadline > o.deadline : handle > o.handle;
    }
  };
  void drop_dead();
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
  std::unordered_map<std::uint64_t, Waiter*> live_;
  std::uint64_t next_handle_ = 1;
};

}  // namespace doppel::real
