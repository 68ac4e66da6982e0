#pragma once
// A bounded single-producer single-consumer ring, lock-free: the cross-core
// channel of the real runtime (one per ordered pair of cores). Each side
// caches the other's index so the common case touches one shared cache line.

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>

#include "runtime/assert.h"

namespace doppel::real {

template <class T>
class SpscQueue {
 public:
  explicit SpscQueue(std::size_t capacity_pow2)
      : mask_(capacity_pow2 - 1), slots_(new T[capacity_pow2]) {
    DOPPEL_ASSERT(capacity_pow2 >= 2 && (capacity_pow2 & mask_) == 0);
  }

  // Producer side. False when full.
  bool push(T value) {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ > mask_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ > mask_) return false;
    }
    slots_[tail & mask_] = std::move(value);
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Consumer side. False when empty.
  bool pop(T& out) {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_cache_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head == tail_cache_) return false;
    }
    out = std::move(slots_[head & mask_]);
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Either side; a hint only.
  bool empty() const {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }

 private:
  static constexpr std::size_t kLine = 64;
  const std::size_t mask_;
  std::unique_ptr<T[]> slots_;
  alignas(kLine) std::atomic<std::size_t> head_{0};  // consumer writes
  std::size_t tail_cache_ = 0;                       // consumer's view of tail
  alignas(kLine) std::atomic<std::size_t> tail_{0};  // producer writes
  std::size_t head_cache_ = 0;                       // producer's view of head
};

}  // namespace doppel::real
