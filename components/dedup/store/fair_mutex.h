#pragma once
// A mutex that hands itself to the longest waiter. The runtime's Mutex lets
// the fiber that unlocks take it straight back, so a fiber that commits
// version after version would keep a reader streaming a version waiting for
// as long as it commits; here a reader waits for at most the call in
// progress.

#include <cstdint>

#include "runtime/sync.h"

namespace doppel::dedup {

class FairMutex {
 public:
  explicit FairMutex(Runtime& rt) : waiters_(rt) {}
  FairMutex(const FairMutex&) = delete;
  FairMutex& operator=(const FairMutex&) = delete;

  void lock() {
    if (!locked_) {
      locked_ = true;
      return;
    }
    // Tickets, so that the handoff goes to this waiter and no fiber that
    // comes later can take it first.
    const std::uint64_t ticket = next_ticket_++;
    ++waiting_;
    try {
      while (serving_ != ticket) waiters_.wait();
    } catch (...) {
      --waiting_;  // Cancelled: the node is going down with every waiter
      throw;
    }
    --waiting_;
  }

  void unlock() {
    DOPPEL_ASSERT(locked_);
    if (waiting_ == 0) {
      locked_ = false;
      return;
    }
    ++serving_;  // it stays locked, for the oldest waiter
    waiters_.notify_all();
  }

 private:
  Condition waiters_;
  std::uint64_t next_ticket_ = 1;
  std::uint64_t serving_ = 0;  // the last ticket handed the mutex
  std::uint32_t waiting_ = 0;
  bool locked_ = false;
};

class FairLockGuard {
 public:
  explicit FairLockGuard(FairMutex& m) : m_(m) { m_.lock(); }
  ~FairLockGuard() {
    if (!leaked_) m_.unlock();
  }
  // Planted bug failed-commit-keeps-lock only: the lock stays taken for good.
  void leak() { leaked_ = true; }
  FairLockGuard(const FairLockGuard&) = delete;
  FairLockGuard& operator=(const FairLockGuard&) = delete;

 private:
  FairMutex& m_;
  bool leaked_ = false;
};

}  // namespace doppel::dedup
