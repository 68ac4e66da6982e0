#include "sim/event_queue.h"

#include <algorithm>

#include "runtime/assert.h"

namespace doppel::sim {

EventQueue::Handle EventQueue::schedule(Instant at, Task fn) {
  DOPPEL_ASSERT_MSG(heap_.size() < kEventsMax, "simulator event queue over its limit");
  DOPPEL_ASSERT_MSG(to_ns(at) >= floor_, "an event scheduled in the past");
  std::uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[slot];
  s.fn = std::move(fn);
  s.live = true;
  heap_.push_back(Entry{to_ns(at), next_seq_++, slot});
  std::push_heap(heap_.begin(), heap_.end(), later);
  return (static_cast<std::uint64_t>(s.generation) << 32) | slot;
}

void EventQueue::cancel(Handle handle) {
  if (handle == 0) return;
  const auto slot = static_cast<std::uint32_t>(handle & 0xffffffffu);
  const auto generation = static_cast<std::uint32_t>(handle >> 32);
  if (slot >= slots_.size()) return;
  Slot& s = slots_[slot];
  if (s.generation != generation || !s.live) return;
  s.live = false;
  s.fn = Task();
}

void EventQueue::release(std::uint32_t slot) {
  Slot& s = slots_[slot];
  s.live = false;
  s.fn = Task();
  ++s.generation;
  free_.push_back(slot);
}

void EventQueue::drop_dead_top() {
  while (!heap_.empty() && !slots_[heap_.front().slot].live) {
    const std::uint32_t slot = heap_.front().slot;
    std::pop_heap(heap_.begin(), heap_.end(), later);
    heap_.pop_back();
    release(slot);
  }
}

bool EventQueue::empty() {
  drop_dead_top();
  return heap_.empty();
}

Instant EventQueue::next_time() {
  drop_dead_top();
  DOPPEL_ASSERT(!heap_.empty());
  return instant_ns(heap_.front().time);
}

Task EventQueue::pop(Instant* at, std::uint64_t* seq) {
  drop_dead_top();
  DOPPEL_ASSERT(!heap_.empty());
  const Entry top = heap_.front();
  std::pop_heap(heap_.begin(), heap_.end(), later);
  heap_.pop_back();
  Task fn = std::move(slots_[top.slot].fn);
  release(top.slot);
  *at = instant_ns(top.time);
  floor_ = top.time;
  *seq = top.seq;
  return fn;
}

}  // namespace doppel::sim
