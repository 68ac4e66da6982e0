#pragma once
// A move-only callable, so tasks can own streams, promises and buffers.

#include <memory>
#include <type_traits>
#include <utility>

namespace doppel {

class Task {
 public:
  Task() = default;
  template <class F>
  requires(!std::is_same_v<std::decay_t<F>, Task> && std::is_invocable_v<F&>) Task(F&& fn)
      : impl_(std::make_unique<Model<std::decay_t<F>>>(std::forward<F>(fn))) {}  // NOLINT

  explicit operator bool() const { return impl_ != nullptr; }
  void operator()() { impl_->call(); }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual void call() = 0;
  };
  template <class F>
  struct Model final : Concept {
    explicit Model(F&& f) : fn(std::move(f)) {}
    explicit Model(const F& f) : fn(f) {}
    void call() override { fn(); }
    F fn;
  };
  std::unique_ptr<Concept> impl_;
};

}  // namespace doppel
