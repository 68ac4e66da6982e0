#pragma once
// The simulator's agenda: callbacks ordered by (virtual time, sequence number).
// The sequence number makes ties deterministic (first scheduled, first run).
// Cancelled entries stay in the heap and are skipped when they surface, which
// keeps cancel() O(1); slots are reused through a free list.

#include <cstdint>
#include <vector>

#include "runtime/task.h"
#include "runtime/time.h"

namespace doppel::sim {

class EventQueue {
 public:
  using Handle = std::uint64_t;                        // 0 is never a valid handle
  static constexpr std::size_t kEventsMax = 1u << 24;  // a runaway scenario stops here

  Handle schedule(Instant at, Task fn);
  // No effect on a handle that already ran or was cancelled.
  void cancel(Handle handle);

  bool empty();         // no live entry left
  Instant next_time();  // precondition: !empty()
  // Removes the earliest live entry; its time goes to *at.
  Task pop(Instant* at, std::uint64_t* seq);

  std::size_t size() const { return heap_.size(); }
  std::uint64_t scheduled_total() const { return next_seq_; }

 private:
  struct Entry {
    std::int64_t time;
    std::uint64_t seq;
    std::uint32_t slot;
  };
  struct Slot {
    Task fn;
    std::uint32_t generation = 1;
    bool live = false;
  };
  static bool later(const Entry& a, const Entry& b) {
    return a.time != b.time ? a.time > b.time : a.seq > b.seq;
  }
  void drop_dead_top();
  void release(std::uint32_t slot);

  std::vector<Entry> heap_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
  std::uint64_t next_seq_ = 0;
  std::int64_t floor_ = 0;  // the last popped time: nothing may go before it
};

}  // namespace doppel::sim
