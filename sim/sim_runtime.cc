#include "sim/sim_runtime.h"

#include <boost/fiber/context.hpp>
#include <exception>

#include "sim/disk.h"
#include "sim/network.h"

namespace doppel::sim {
namespace {

// The node and core a posted task runs for. It runs outside any fiber, so current_fiber()
// cannot say; on the real runtime it runs on that core's thread and this_core() names it.
struct Posting {
  NodeId node = kNoNode;
  CoreId core = 0;
};
Posting g_posting;  // the simulator is one thread
}  // namespace

SimRuntime::SimRuntime(const SimNodeParts& parts, NodeId node, std::uint32_t incarnation,
                       CoreId cores, Prng seed_rng)
    : context_(parts.context),
      host_(parts.host),
      clock_(parts.host.clock()),
      network_(parts.network),
      node_(node),
      incarnation_(incarnation),
      cores_(cores),
      hop_last_(std::size_t{cores} * cores, instant_ns(0)),
      inboxes_(cores) {
  for (CoreId c = 0; c < cores; ++c) rngs_.push_back(seed_rng.fork(c));
  fs_ = std::make_unique<SimFileSystem>(*this, parts.disk);
}

SimRuntime::~SimRuntime() = default;

bool SimRuntime::alive() const {
  return host_.alive(incarnation_);
}

void SimRuntime::throw_if_cancellable() const {
  const FiberTag& me = current_fiber();
  if (me.node == node_ && me.incarnation == incarnation_ &&
      std::uncaught_exceptions() <= host_.exceptions_outside_fibers()) {
    host_.unwind_after_others(incarnation_);
    forget_fiber_stack();
    throw Cancelled{};
  }
}

Error SimRuntime::cancelled_error() const {
  return make_error(Errc::cancelled, "node " + host_.name() + " is down");
}

Instant SimRuntime::now() {
  return clock_.local_at(context_.now());
}

WallTime SimRuntime::wall_now() {
  return clock_.wall_at(context_.now());
}

void SimRuntime::sleep(Duration d) {
  Waiter w;
  park(w, deadline_after(now(), d));
}

void SimRuntime::reseed(Prng from) {
  for (CoreId c = 0; c < cores_; ++c) rngs_[c] = from.fork(c);
}

Prng& SimRuntime::random() {
  return rngs_[this_core()];
}

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
  host_.spawn_fiber(incarnation_, this_core(), name, std::move(fn));
}

// When a task sent from this core to `core` now arrives: a hop's latency
// later, and never before the one sent before it (the real runtime's queue
// between two cores is FIFO).
Instant SimRuntime::hop_arrival(CoreId core) {
  Instant& last = hop_last_[std::size_t{this_core()} * cores_ + core];
  last = std::max(last, context_.now() + host_.core_hop_latency());
  return last;
}

void SimRuntime::spawn_on(CoreId core, std::string_view name, Task fn) {
  DOPPEL_ASSERT(core < cores_);
  if (!alive()) {
    throw_if_cancellable();
    return;
  }
  // The host, not this runtime, in the event: the node may crash meanwhile.
  context_.agenda.schedule(hop_arrival(core),
                           [host = &host_, inc = incarnation_, core, name = std::string(name),
                            fn = std::move(fn)]() mutable {
                             if (host->alive(inc))
                               host->spawn_fiber(inc, core, name, std::move(fn));
                           });
}

void SimRuntime::post(CoreId core, Task fn) {
  DOPPEL_ASSERT(core < cores_);
  if (!alive()) return;
  context_.agenda.schedule(hop_arrival(core), [this, host = &host_, inc = incarnation_, core,
                                               fn = std::move(fn)]() mutable {
    // Alive: this incarnation, and so this runtime, still exists.
    if (host->alive(inc)) deliver(core, std::move(fn));
  });
}

// A posted task reached its core: it runs now, outside any fiber, after those
// that arrived before it. A stalled core cannot run it yet: the tasks then
// wait, in order, for one fiber that the scheduler holds back until the stall
// ends.
void SimRuntime::deliver(CoreId core, Task fn) {
  Inbox& inbox = inboxes_[core];
  inbox.tasks.push_back(std::move(fn));
  if (inbox.draining) return;  // a fiber runs it after the ones before it
  if (host_.core_stalled(core)) {
    inbox.draining = true;
    host_.spawn_fiber(incarnation_, core, "posted", [this, core] {
      Inbox& in = inboxes_[core];
      while (!in.tasks.empty()) {
        Task task = std::move(in.tasks.front());
        in.tasks.pop_front();
        task();
      }
      in.draining = false;
    });
    return;
  }
  struct Scope {
    Scope(NodeId n, CoreId c) { g_posting = Posting{n, c}; }
    ~Scope() { g_posting = Posting{}; }
  } scope(node_, core);
  while (!inbox.tasks.empty()) {
    Task task = std::move(inbox.tasks.front());
    inbox.tasks.pop_front();
    task();
  }
}

Wake SimRuntime::park(Waiter& w, Instant deadline) {
  return park_at(w, deadline, clock_.global_at(deadline));
}

Wake SimRuntime::park_until(Waiter& w, Instant at) {
  return park_at(w, kNever, at);
}

std::uint64_t SimRuntime::arm_timer(EventQueue& agenda, Waiter& w, Instant at) {
  return agenda.schedule(at, [&w] {
    if (w.state != Waiter::State::parked) return;
    w.state = Waiter::State::timed_out;
    w.unlink();
    boost::fibers::context::active()->schedule(static_cast<boost::fibers::context*>(w.fiber));
  });
}

// `local_deadline` is kept on the waiter (kNever for a wait in world time),
// so that the World can re-arm the timer if the node's clock changes rate.
Wake SimRuntime::park_at(Waiter& w, Instant local_deadline, Instant global_deadline) {
  auto* me = boost::fibers::context::active();
  DOPPEL_ASSERT_MSG(current_fiber().node != kNoNode, "park() outside a fiber of a node");
  if (!alive()) {
    w.unlink();
    throw_if_cancellable();
    return Wake::timed_out;
  }
  w.fiber = me;
  w.state = Waiter::State::parked;
  w.deadline = local_deadline;
  host_.register_parked(w);
  if (global_deadline != kNever) {
    w.timer = arm_timer(context_.agenda, w, std::max(global_deadline, context_.now()));
  }
  me->suspend();
  host_.unregister_parked(w);
  context_.agenda.cancel(w.timer);
  w.timer = 0;
  w.deadline = kNever;
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

FileSystem& SimRuntime::fs() {
  return *fs_;
}

bool SimRuntime::buggify(const BuggifySite& site) {
  if (!alive()) return false;
  if (!host_.buggify(site)) return false;
  // By name, so that a trace says which fault the run took (and replays it).
  record(Event("Buggify").detail("site", site.name()));
  return true;
}

void SimRuntime::sometimes(const SometimesSite& site, bool held) {
  if (alive()) host_.sometimes(site, held);
}

void SimRuntime::record(const Event& event) {
  if (!alive()) return;
  context_.recorder.record(node_, this_core(), event);
}

Result<std::unique_ptr<Listener>> SimRuntime::listen(const Endpoint& at, ListenOptions options) {
  if (!alive()) {
    throw_if_cancellable();
    return cancelled_error();
  }
  return network_.listen(*this, at, options);
}

Result<std::unique_ptr<Stream>> SimRuntime::connect(const Endpoint& to, Duration timeout) {
  if (!alive()) {
    throw_if_cancellable();
    return cancelled_error();
  }
  return network_.connect(*this, to, timeout);
}

}  // namespace doppel::sim
