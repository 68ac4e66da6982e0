#include "runtime/real/timer_heap.h"

namespace doppel::real {

std::uint64_t TimerHeap::add(Instant deadline, Waiter* w) {
  DOPPEL_ASSERT_MSG(live_.size() < kTimersMax, "too many timers on one core");
  const std::uint64_t h = next_handle_++;
  heap_.push(Entry{to_ns(deadline), h});
  live_.emplace(h, w);
  return h;
}

void TimerHeap::drop_dead() {
  while (!heap_.empty() && live_.count(heap_.top().handle) == 0) heap_.pop();
}

Instant TimerHeap::next() {
  drop_dead();
  return heap_.empty() ? kNever : instant_ns(heap_.top().deadline);
}

Waiter* TimerHeap::pop_expired(Instant now) {
  drop_dead();
  if (heap_.empty() || heap_.top().deadline > to_ns(now)) return nullptr;
  const std::uint64_t h = heap_.top().handle;
  heap_.pop();
  auto it = live_.find(h);
  Waiter* w = it->second;
  live_.erase(it);
  return w;
}

}  // namespace doppel::real
