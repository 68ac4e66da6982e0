#include "runtime/real/blocking_calls.h"

#include "runtime/real/core.h"

namespace doppel::real {

BlockingCalls::BlockingCalls(std::function<void()> wake_core) : wake_core_(std::move(wake_core)) {}

BlockingCalls::~BlockingCalls() {
  DOPPEL_ASSERT_MSG(in_flight_ == 0, "a core stopped with a blocking call in flight");
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  for (std::thread& h : helpers_) h.join();
}

int BlockingCalls::run(Core& core, std::function<int()> call) {
  if (in_flight_ >= kInFlightMax) return call();
  Call c{std::move(call)};
  ++in_flight_;
  bool start_helper = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queued_.push_back(&c);
    start_helper = queued_.size() > idle_helpers_ && helpers_.size() < kHelpersMax;
  }
  if (start_helper) helpers_.emplace_back([this] { helper_loop(); });
  work_.notify_one();
  // Not cancellable (see the header): only complete() sets done.
  while (!c.done) core.park_raw(c.waiter);
  --in_flight_;
  return c.result;
}

void BlockingCalls::complete() {
  std::vector<Call*> returned;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (returned_.empty()) return;
    returned.swap(returned_);
  }
  for (Call* c : returned) {
    c->done = true;
    unpark(c->waiter);
  }
}

void BlockingCalls::helper_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    ++idle_helpers_;
    work_.wait(lock, [this] { return stopping_ || !queued_.empty(); });
    --idle_helpers_;
    if (queued_.empty()) return;  // stopping, and nothing left
    Call* c = queued_.front();
    queued_.pop_front();
    lock.unlock();
    c->result = c->fn();
    lock.lock();
    returned_.push_back(c);
    // Under the lock: once the core has taken the call back, the helper no longer touches the
    // core's reactor, which may then go away.
    wake_core_();
  }
}

}  // namespace doppel::real
