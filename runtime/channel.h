#pragma once
// A bounded FIFO between fibers of one core. push() waits while it is full,
// pop() while it is empty; close() wakes everyone: pushes fail, pops drain
// what is left and then return nothing.

#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

#include "runtime/sync.h"

namespace doppel {

template <class T>
class Channel {
 public:
  Channel(Runtime& rt, std::size_t capacity) : rt_(rt), capacity_(capacity) {
    DOPPEL_ASSERT(capacity > 0);
  }

  // False if the channel was closed or the deadline passed first.
  bool push(T value, Instant deadline = kNever) {
    while (!closed_ && items_.size() >= capacity_) {
      if (writers_.wait(rt_, deadline) == Wake::timed_out) return false;
    }
    if (closed_) return false;
    items_.push_back(std::move(value));
    readers_.notify_one();
    return true;
  }

  bool try_push(T value) {
    if (closed_ || items_.size() >= capacity_) return false;
    items_.push_back(std::move(value));
    readers_.notify_one();
    return true;
  }

  // Nothing once closed and drained, or when the deadline passed.
  std::optional<T> pop(Instant deadline = kNever) {
    while (items_.empty() && !closed_) {
      if (readers_.wait(rt_, deadline) == Wake::timed_out) return std::nullopt;
    }
    if (items_.empty()) return std::nullopt;
    T value = std::move(items_.front());
    items_.pop_front();
    writers_.notify_one();
    return value;
  }

  std::optional<T> try_pop() {
    if (items_.empty()) return std::nullopt;
    T value = std::move(items_.front());
    items_.pop_front();
    writers_.notify_one();
    return value;
  }

  void close() {
    closed_ = true;
    readers_.notify_all();
    writers_.notify_all();
  }

  bool closed() const { return closed_; }
  std::size_t size() const { return items_.size(); }
  std::size_t capacity() const { return capacity_; }

 private:
  Runtime& rt_;
  std::size_t capacity_;
  bool closed_ = false;
  std::deque<T> items_;
  WaitList readers_;
  WaitList writers_;
};

}  // namespace doppel
