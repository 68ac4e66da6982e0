#include "sim/scheduler.h"

#include <boost/fiber/operations.hpp>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include "sim/core_stalls.h"
#include "sim/trace_log.h"

namespace doppel::sim {

void SimScheduler::attach(Prng& rng, TraceLog& trace, const CoreStalls& stalls) {
  rng_ = &rng;
  trace_ = &trace;
  stalls_ = &stalls;
  picks_ = 0;
}

void SimScheduler::detach() {
  rng_ = nullptr;
  trace_ = nullptr;
  stalls_ = nullptr;
}

void SimScheduler::set_next_tag(NodeId node, std::uint32_t incarnation, CoreId core,
                                std::uint64_t id) {
  pending_.node = node;
  pending_.incarnation = incarnation;
  pending_.core = core;
  pending_.fiber_id = id;
}

boost::fibers::fiber_properties* SimScheduler::new_properties(context* ctx) {
  auto* tag = new FiberTag(ctx);
  if (!ctx->is_context(boost::fibers::type::main_context) &&
      !ctx->is_context(boost::fibers::type::dispatcher_context)) {
    tag->node = pending_.node;
    tag->incarnation = pending_.incarnation;
    tag->core = pending_.core;
    tag->fiber_id = pending_.fiber_id;
    pending_.node = kNoNode;
  }
  return tag;
}

void SimScheduler::awakened(context* ctx, FiberTag& tag) noexcept {
  if (ctx->is_context(boost::fibers::type::main_context)) {
    main_ = ctx;
    return;
  }
  if (ctx->is_context(boost::fibers::type::dispatcher_context)) {
    dispatcher_ = ctx;
    return;
  }
  if (stalls_ != nullptr && stalls_->stalled(tag.node, tag.core)) {
    held_.push_back(ctx);
    return;
  }
  ready_.push_back(ctx);
}

SimScheduler::context* SimScheduler::pick_next() noexcept {
  if (!ready_.empty()) {
    std::size_t i = 0;
    if (rng_ != nullptr && ready_.size() > 1) {
      ++picks_;
      i = static_cast<std::size_t>(rng_->below(ready_.size()));
    }
    context* ctx = ready_[i];
    ready_[i] = ready_.back();
    ready_.pop_back();
    if (trace_ != nullptr) trace_->mix(properties(ctx).fiber_id, 0x5ced);
    return ctx;
  }
  if (dispatcher_ != nullptr) {
    context* ctx = dispatcher_;
    dispatcher_ = nullptr;
    return ctx;
  }
  context* ctx = main_;
  main_ = nullptr;
  return ctx;
}

bool SimScheduler::has_ready_fibers() const noexcept {
  return !ready_.empty() || dispatcher_ != nullptr || main_ != nullptr;
}

void SimScheduler::suspend_until(std::chrono::steady_clock::time_point const&) noexcept {
  // Only reachable if the main context blocked on something other than
  // yield(): the simulator never does, so nothing can ever wake this thread.
  DOPPEL_ASSERT_MSG(false, "simulator deadlock: the main context blocked");
}

void SimScheduler::release_held(NodeId node, CoreId core) {
  std::size_t kept = 0;
  for (context* ctx : held_) {
    const FiberTag& tag = properties(ctx);
    if (tag.node == node && (core == kAllCores || tag.core == core)) {
      ready_.push_back(ctx);
    } else {
      held_[kept++] = ctx;
    }
  }
  held_.resize(kept);
}

SimScheduler& SimScheduler::install() {
  thread_local SimScheduler* installed = nullptr;
  if (installed == nullptr) {
    installed = new SimScheduler();
    boost::fibers::context::active()->get_scheduler()->set_algo(
        boost::fibers::algo::algorithm::ptr_t(installed));
  }
  return *installed;
}

const FiberTag& current_fiber() {
  static const FiberTag kNone{nullptr};
  auto* props = boost::fibers::context::active()->get_properties();
  if (props == nullptr) return kNone;
  return *static_cast<FiberTag*>(props);
}

// AddressSanitizer cannot follow Boost.Context's stack switches: when an
// exception is thrown on a fiber's stack it refuses to clear the redzones of
// the frames being abandoned ("ASan is ignoring requested
// __asan_handle_no_return"), so the destructors run during unwinding, and
// later fibers on the same pooled stack, trip over stale poison. We clear the
// fiber's stack below its first frame ourselves before every throw and when
// the fiber ends. (Live frames lose their redzones until they are re-entered:
// a small loss of checking, not a false report.)
void forget_stack_below(const char* marker) {
#if defined(__SANITIZE_ADDRESS__)
  if (marker == nullptr) return;
  constexpr std::size_t kTopMargin = 256;       // the fiber's first frame stays watched
  constexpr std::size_t kBottomMargin = 16384;  // stay inside the allocation
  __asan_unpoison_memory_region(marker - (kFiberStackBytes - kBottomMargin),
                                kFiberStackBytes - kBottomMargin - kTopMargin);
#else
  (void)marker;
#endif
}

void forget_fiber_stack() {
  forget_stack_below(current_fiber().stack_marker);
}

}  // namespace doppel::sim
