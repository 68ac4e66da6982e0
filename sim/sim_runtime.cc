#include "sim/sim_runtime.h"

#include <exception>

#include <boost/fiber/context.hpp>

#include "sim/disk.h"
#include "sim/world.h"

namespace doppel::sim {
namespace {
// Cross-core hops inside a node: an SPSC queue and a wake-up, 1-5 us.
Duration hop_latency(World& world) { return Duration(world.net_rng().between(1'000, 5'000)); }

// The node and core a posted task runs for. It runs outside any fiber, so current_fiber()
// cannot say; on the real runtime it runs on that core's thread and this_core() names it.
struct Posting {
  NodeId node = kNoNode;
  CoreId core = 0;
};
Posting g_posting;  // the simulator is one thread
}  // namespace

SimRuntime::SimRuntime(World& world, NodeId node, std::uint32_t incarnation, CoreId cores,
                       Prng seed_rng)
    : world_(world), node_(node), incarnation_(incarnation), cores_(cores) {
  for (CoreId c = 0; c < cores; ++c) rngs_.push_back(seed_rng.fork(c));
  fs_ = std::make_unique<SimFileSystem>(*this, world.disk(node));
}

SimRuntime::~SimRuntime() = default;

bool SimRuntime::alive() const { return world_.incarnation_alive(node_, incarnation_); }

void SimRuntime::throw_if_cancellable() const {
  const FiberTag& me = current_fiber();
  if (me.node == node_ && me.incarnation == incarnation_ && std::uncaught_exceptions() == 0) {
    forget_fiber_stack();
    throw Cancelled{};
  }
}

Error SimRuntime::cancelled_error() const {
  return make_error(Errc::cancelled, "node " + world_.node_name(node_) + " is down");
}

Instant SimRuntime::now() { return world_.now(); }

WallTime SimRuntime::wall_now() { return world_.wall_now(node_); }

void SimRuntime::sleep(Duration d) {
  Waiter w;
  park(w, deadline_after(world_.now(), d));
}

Prng& SimRuntime::random() { return rngs_[this_core()]; }

CoreId SimRuntime::this_core() {
  const FiberTag& me = current_fiber();
  if (me.node == node_) return me.core;
  if (me.node == kNoNode && g_posting.node == node_) return g_posting.core;
  return 0;  // the world itself, acting on this node (boot, tests)
}

void SimRuntime::spawn(std::string_view name, Task fn) {
  if (!alive()) {
    throw_if_cancellable();
    return;
  }
  world_.spawn_fiber(node_, incarnation_, this_core(), name, std::move(fn));
}

void SimRuntime::spawn_on(CoreId core, std::string_view name, Task fn) {
  DOPPEL_ASSERT(core < cores_);
  if (!alive()) {
    throw_if_cancellable();
    return;
  }
  world_.agenda().schedule(
      world_.now() + hop_latency(world_),
      [this, w = &world_, node = node_, inc = incarnation_, core, name = std::string(name),
       fn = std::move(fn)]() mutable {
        if (w->incarnation_alive(node, inc)) w->spawn_fiber(node, inc, core, name, std::move(fn));
      });
}

void SimRuntime::post(CoreId core, Task fn) {
  DOPPEL_ASSERT(core < cores_);
  if (!alive()) return;
  world_.agenda().schedule(world_.now() + hop_latency(world_),
                           [w = &world_, node = node_, inc = incarnation_, core,
                            fn = std::move(fn)]() mutable {
                             if (!w->incarnation_alive(node, inc)) return;
                             if (w->core_stalled(node, core)) {
                               // The core cannot run it yet: run it in a fiber, which
                               // the scheduler holds back until the stall ends.
                               w->spawn_fiber(node, inc, core, "post", std::move(fn));
                               return;
                             }
                             struct Scope {
                               Scope(NodeId n, CoreId c) { g_posting = Posting{n, c}; }
                               ~Scope() { g_posting = Posting{}; }
                             } scope(node, core);
                             fn();
                           });
}

Wake SimRuntime::park(Waiter& w, Instant deadline) {
  auto* me = boost::fibers::context::active();
  DOPPEL_ASSERT_MSG(current_fiber().node != kNoNode, "park() outside a fiber of a node");
  if (!alive()) {
    w.unlink();
    throw_if_cancellable();
    return Wake::timed_out;
  }
  w.fiber = me;
  w.state = Waiter::State::parked;
  world_.register_parked(node_, w);
  if (deadline != kNever) {
    w.timer = world_.agenda().schedule(std::max(deadline, world_.now()), [&w] {
      if (w.state != Waiter::State::parked) return;
      w.state = Waiter::State::timed_out;
      w.unlink();
      boost::fibers::context::active()->schedule(static_cast<boost::fibers::context*>(w.fiber));
    });
  }
  me->suspend();
  world_.unregister_parked(node_, w);
  world_.agenda().cancel(w.timer);
  w.timer = 0;
  const Waiter::State state = w.state;
  w.state = Waiter::State::idle;
  switch (state) {
    case Waiter::State::notified:
      return Wake::notified;
    case Waiter::State::timed_out:
      return Wake::timed_out;
    case Waiter::State::cancelled:
      throw_if_cancellable();
      return Wake::timed_out;
    default:
      DOPPEL_ASSERT_MSG(false, "a parked fiber woke in an impossible state");
  }
  return Wake::timed_out;
}

FileSystem& SimRuntime::fs() { return *fs_; }

bool SimRuntime::buggify(std::string_view site) {
  if (!alive()) return false;
  return world_.buggify(site);
}

void SimRuntime::record(const Event& event) {
  if (!alive()) return;
  world_.record(node_, this_core(), event);
}

Result<std::unique_ptr<Listener>> SimRuntime::listen(const Endpoint& at, ListenOptions options) {
  if (!alive()) {
    throw_if_cancellable();
    return cancelled_error();
  }
  return world_.network().listen(*this, at, options);
}

Result<std::unique_ptr<Stream>> SimRuntime::connect(const Endpoint& to, Duration timeout) {
  if (!alive()) {
    throw_if_cancellable();
    return cancelled_error();
  }
  return world_.network().connect(*this, to, timeout);
}

}  // namespace doppel::sim
