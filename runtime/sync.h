#pragma once
// Fiber-aware waiting: WaitList, Mutex, Condition. Core-local: to talk to
// another core, use run_on / spawn_on. Everything waits through
// Runtime::park, so a crash or shutdown unwinds waiters with Cancelled.

#include <cstddef>

#include "runtime/runtime.h"

namespace doppel {

// An intrusive FIFO of waiters; no allocation.
class WaitList {
 public:
  WaitList() = default;
  WaitList(const WaitList&) = delete;
  WaitList& operator=(const WaitList&) = delete;
  ~WaitList() { DOPPEL_ASSERT_MSG(head_ == nullptr, "destroying a WaitList with waiters"); }

  bool empty() const { return head_ == nullptr; }

  // Parks the calling fiber at the back of the list until notified or the
  // deadline passes.
  Wake wait(Runtime& rt, Instant deadline = kNever);
  bool notify_one();  // false if nobody waited
  void notify_all();

 private:
  friend struct Waiter;
  void push_back(Waiter& w);
  Waiter* pop_front();
  void remove(Waiter& w);

  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
};

class Mutex {
 public:
  explicit Mutex(Runtime& rt) : rt_(rt) {}
  void lock();
  bool try_lock();
  void unlock();

 private:
  Runtime& rt_;
  bool locked_ = false;
  WaitList waiters_;
};

class LockGuard {
 public:
  explicit LockGuard(Mutex& m) : m_(m) { m_.lock(); }
  ~LockGuard() { m_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  Mutex& m_;
};

// No mutex to pass: fibers on one core never preempt each other, so a
// predicate checked before wait() cannot change until this fiber parks.
class Condition {
 public:
  explicit Condition(Runtime& rt) : rt_(rt) {}
  Wake wait(Instant deadline = kNever) { return waiters_.wait(rt_, deadline); }
  void notify_one() { waiters_.notify_one(); }
  void notify_all() { waiters_.notify_all(); }

 private:
  Runtime& rt_;
  WaitList waiters_;
};

}  // namespace doppel
