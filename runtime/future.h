#pragma once
// Promise / Future for one value, and run_on(core, fn): run fn in a fiber on
// another core and get its result back on this one.
//
// The shared state is only ever touched on the core that created it: run_on
// posts the result back to the caller's core before fulfilling the promise,
// so no locks are needed and the real runtime's cores stay shared-nothing.

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "runtime/sync.h"

namespace doppel {

template <class T>
struct FutureState {
  explicit FutureState(Runtime& rt) : rt(rt) {}
  Runtime& rt;
  std::optional<T> value;
  bool broken = false;  // the promise died unfulfilled
  WaitList waiters;
};

template <class T>
class Future {
 public:
  Future() = default;
  explicit Future(std::shared_ptr<FutureState<T>> s) : state_(std::move(s)) {}

  bool valid() const { return state_ != nullptr; }
  bool ready() const { return state_->value.has_value() || state_->broken; }

  // The value; nothing if the promise was dropped unfulfilled or the
  // deadline passed first.
  std::optional<T> get(Instant deadline = kNever) {
    DOPPEL_ASSERT(valid());
    while (!ready()) {
      if (state_->waiters.wait(state_->rt, deadline) == Wake::timed_out) return std::nullopt;
    }
    if (state_->broken) return std::nullopt;
    return std::move(state_->value);
  }

 private:
  std::shared_ptr<FutureState<T>> state_;
};

template <class T>
class Promise {
 public:
  explicit Promise(Runtime& rt) : state_(std::make_shared<FutureState<T>>(rt)) {}
  Promise(Promise&&) noexcept = default;
  Promise& operator=(Promise&& other) noexcept {
    break_if_unset();
    state_ = std::move(other.state_);
    return *this;
  }
  ~Promise() { break_if_unset(); }

  Future<T> future() const { return Future<T>(state_); }

  void set(T value) {
    DOPPEL_ASSERT(state_ && !state_->value && !state_->broken);
    state_->value.emplace(std::move(value));
    state_->waiters.notify_all();
    state_.reset();
  }

 private:
  void break_if_unset() {
    if (!state_) return;
    state_->broken = true;
    state_->waiters.notify_all();
    state_.reset();
  }
  std::shared_ptr<FutureState<T>> state_;
};

struct Unit {
  bool operator==(const Unit&) const = default;
};

// Runs fn() in a new fiber on `core`; the future resolves on the calling core.
// If fn returns void the future holds Unit.
template <class F>
auto run_on(Runtime& rt, CoreId core, F fn) {
  using R0 = std::invoke_result_t<F&>;
  using R = std::conditional_t<std::is_void_v<R0>, Unit, R0>;
  Promise<R> promise(rt);
  Future<R> future = promise.future();
  const CoreId origin = rt.this_core();
  rt.spawn_on(
      core, "run_on", [&rt, origin, fn = std::move(fn), promise = std::move(promise)]() mutable {
        std::optional<R> result;
        try {
          if constexpr (std::is_void_v<R0>) {
            fn();
            result.emplace();
          } else {
            result.emplace(fn());
          }
        } catch (...) {
          // The promise breaks on its own core, never on this one.
          rt.post(origin, [dropped = std::move(promise)]() mutable {});
          throw;
        }
        rt.post(origin, [promise = std::move(promise), result = std::move(*result)]() mutable {
          promise.set(std::move(result));
        });
      });
  return future;
}

// Runs fn() on `core` as a posted task (Runtime::post), outside any fiber, and resolves the
// future on the calling core: no fiber is made, so a round trip costs two queue hops and no
// context switch. Only for fn that never waits (no I/O, no lock, no sleep) and never throws,
// such as a shard's in-memory work. If `core` is stopping, the task is dropped and the future
// breaks, as with run_on.
template <class F>
auto call_on(Runtime& rt, CoreId core, F fn) {
  using R = std::invoke_result_t<F&>;
  static_assert(!std::is_void_v<R>, "call_on hands a value back");
  Promise<R> promise(rt);
  Future<R> future = promise.future();
  const CoreId origin = rt.this_core();
  rt.post(core, [&rt, origin, fn = std::move(fn), promise = std::move(promise)]() mutable {
    rt.post(origin, [promise = std::move(promise), result = fn()]() mutable {
      promise.set(std::move(result));
    });
  });
  return future;
}

}  // namespace doppel
