#pragma once
// The simulator's Boost.Fiber scheduling algorithm. Every simulated node,
// core and client runs as a fiber on one OS thread; this algorithm decides
// which ready fiber runs next, from the seed, so a seed fixes the
// interleaving.
//
// - Worker fibers are picked uniformly at random among the ready ones.
// - The thread's main context runs the World's event loop: it is picked only
//   when no worker is ready, which is exactly when virtual time may jump to
//   the next event. Boost's dispatcher context (which frees finished fibers)
//   comes just before it.
// - A fiber whose core is stalled is held back until the stall ends.
//
// One algorithm per thread (Boost.Fiber allows one); a World attaches to it
// for its lifetime, handing it the scheduling random stream, the trace (every
// decision is mixed into its hash) and the table of stalled cores: the
// scheduler sees nothing else of the world.

#include <boost/fiber/algo/algorithm.hpp>
#include <boost/fiber/context.hpp>
#include <boost/fiber/properties.hpp>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/runtime.h"

namespace doppel::sim {

using NodeId = std::uint32_t;
inline constexpr NodeId kNoNode = 0xffffffffu;
inline constexpr CoreId kAllCores = 0xffffffffu;
inline constexpr std::size_t kFiberStackBytes = 256u << 10;

// What the simulator knows about each fiber.
struct FiberTag : boost::fibers::fiber_properties {
  explicit FiberTag(boost::fibers::context* ctx) : fiber_properties(ctx) {}
  NodeId node = kNoNode;
  std::uint32_t incarnation = 0;
  CoreId core = 0;
  std::uint64_t fiber_id = 0;
  const char* stack_marker = nullptr;  // the fiber's first frame, for ASan (scheduler.cc)
};

class CoreStalls;
class TraceLog;

class SimScheduler final : public boost::fibers::algo::algorithm_with_properties<FiberTag> {
 public:
  using context = boost::fibers::context;

  // Until detach(), which must come before the three die.
  void attach(Prng& rng, TraceLog& trace, const CoreStalls& stalls);
  void detach();

  // The tag the next fiber created on this thread gets.
  void set_next_tag(NodeId node, std::uint32_t incarnation, CoreId core, std::uint64_t id);

  void awakened(context* ctx, FiberTag& tag) noexcept override;
  context* pick_next() noexcept override;
  bool has_ready_fibers() const noexcept override;
  void suspend_until(std::chrono::steady_clock::time_point const&) noexcept override;
  void notify() noexcept override {}
  boost::fibers::fiber_properties* new_properties(context* ctx) override;

  bool has_ready_workers() const { return !ready_.empty(); }
  // Releases fibers held back for a stalled core.
  void release_held(NodeId node, CoreId core);
  std::size_t held_count() const { return held_.size(); }
  // Decisions among two or more ready fibers since attach().
  std::uint64_t picks() const { return picks_; }

  // The calling thread's algorithm, installed on first use.
  static SimScheduler& install();

 private:
  Prng* rng_ = nullptr;
  TraceLog* trace_ = nullptr;
  const CoreStalls* stalls_ = nullptr;
  std::uint64_t picks_ = 0;
  std::vector<context*> ready_;
  std::vector<context*> held_;  // ready, but their core is stalled
  context* main_ = nullptr;
  context* dispatcher_ = nullptr;
  FiberTag pending_{nullptr};
};

// The tag of the running fiber (the main context has node == kNoNode).
const FiberTag& current_fiber();

// Call before throwing out of a fiber's frames, and with the fiber's first
// frame when it ends: see scheduler.cc (AddressSanitizer and fiber stacks).
void forget_fiber_stack();
void forget_stack_below(const char* marker);

}  // namespace doppel::sim
