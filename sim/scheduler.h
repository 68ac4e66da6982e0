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
// for its lifetime.

#include <cstdint>
#include <vector>

#include <boost/fiber/algo/algorithm.hpp>
#include <boost/fiber/context.hpp>
#include <boost/fiber/properties.hpp>

#include "runtime/runtime.h"

namespace doppel::sim {

using NodeId = std::uint32_t;
inline constexpr NodeId kNoNode = 0xffffffffu;

// What the simulator knows about each fiber.
struct FiberTag : boost::fibers::fiber_properties {
  explicit FiberTag(boost::fibers::context* ctx) : fiber_properties(ctx) {}
  NodeId node = kNoNode;
  std::uint32_t incarnation = 0;
  CoreId core = 0;
  std::uint64_t fiber_id = 0;
  const char* stack_marker = nullptr;  // the fiber's first frame, for ASan (world.cc)
};

class World;

class SimScheduler final : public boost::fibers::algo::algorithm_with_properties<FiberTag> {
 public:
  using context = boost::fibers::context;

  void attach(World* world) { world_ = world; }
  void detach() { world_ = nullptr; }

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

  // The calling thread's algorithm, installed on first use.
  static SimScheduler& install();

 private:
  World* world_ = nullptr;
  std::vector<context*> ready_;
  std::vector<context*> held_;  // ready, but their core is stalled
  context* main_ = nullptr;
  context* dispatcher_ = nullptr;
  FiberTag pending_{nullptr};
};

// The tag of the running fiber (the main context has node == kNoNode).
const FiberTag& current_fiber();

}  // namespace doppel::sim
