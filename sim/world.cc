#include "sim/world.h"

#include <algorithm>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <utility>

#include "sim/sim_runtime.h"

namespace doppel::sim {
namespace {

thread_local World* g_current_world = nullptr;  // for the assertion handler only

constexpr std::uint64_t kFibersPerNodeMax = 100'000;
constexpr std::uint64_t kNodesMax = 64;
// A node whose boot failed during the fault phase boots again after this.
constexpr Duration kBootRetryDelay = std::chrono::seconds(1);

// The wall clock of the simulated world starts on 2026-01-01T00:00:00Z.
constexpr std::int64_t kWallEpochNs = 1'767'225'600LL * 1'000'000'000LL;

}  // namespace

World::World(const WorldOptions& options)
    : options_(options),
      scheduler_(SimScheduler::install()),
      stacks_(kFiberStackBytes),
      sched_rng_(options.seed),
      net_rng_(sched_rng_.fork(1)),
      disk_rng_(sched_rng_.fork(2)),
      fault_rng_(sched_rng_.fork(3)),
      buggify_rng_(sched_rng_.fork(4)),
      node_rng_(sched_rng_.fork(5)),
      ambient_(options.ambient),
      trace_(options.keep_events),
      context_{clock_, agenda_, *this, coverage_, ambient_},
      stalls_(clock_),
      network_(context_, net_rng_, options.tcp_timeout) {
  DOPPEL_ASSERT_MSG(!scheduler_.has_ready_workers(), "another World is running on this thread");
  scheduler_.attach(sched_rng_, trace_, stalls_);
  previous_world_ = g_current_world;
  g_current_world = this;
  previous_handler_ = set_assertion_handler(&World::on_assertion);
  buggify_seed_ = buggify_rng_.next();
  buggify_states_.resize(buggify_site_slots());
  record(kNoNode, 0, Event("SimStart").detail("seed", options.seed));
}

World::~World() {
  shutdown();
  // Let Boost's dispatcher free the contexts of finished fibers.
  boost::this_fiber::yield();
  scheduler_.detach();
  set_assertion_handler(previous_handler_);
  g_current_world = previous_world_;
}

void World::on_assertion(const char* expr, const char* file, int line, const char* msg) {
  World* world = g_current_world;
  std::string detail = std::string(expr) + (msg ? std::string(": ") + msg : "") + " at " + file +
                       ":" + std::to_string(line);
  if (world == nullptr || current_fiber().node == kNoNode) {
    // Not inside a simulated fiber: the simulator itself is broken.
    std::fprintf(stderr, "doppel: simulator assertion failed: %s\n", detail.c_str());
    std::abort();
  }
  world->fail("assertion", detail);
  forget_fiber_stack();
  throw AssertionUnwind{};
}

World::Node& World::node(NodeId id) {
  DOPPEL_ASSERT(id < nodes_.size());
  return *nodes_[id];
}
const World::Node& World::node(NodeId id) const {
  DOPPEL_ASSERT(id < nodes_.size());
  return *nodes_[id];
}

bool World::node_up(NodeId id) const {
  return node(id).status == Node::Status::up;
}

std::uint32_t World::boots(NodeId id) const {
  return node(id).incarnation;
}

bool World::incarnation_alive(NodeId id, std::uint32_t incarnation) const {
  return node(id).alive(incarnation);
}

SimDisk& World::disk(NodeId id) {
  return *node(id).disk;
}

Runtime& World::runtime(NodeId id) {
  Node& n = node(id);
  DOPPEL_ASSERT_MSG(n.status == Node::Status::up, "runtime() of a node that is down");
  return *n.runtime;
}

NodeId World::add_node(NodeSpec spec) {
  DOPPEL_ASSERT(nodes_.size() < kNodesMax);
  DOPPEL_ASSERT(spec.cores >= 1);
  DOPPEL_ASSERT_MSG(!network_.find_host(spec.name), "two nodes with one name");
  const auto id = static_cast<NodeId>(nodes_.size());
  network_.add_host(id, spec.name);
  stalls_.add_node(id, spec.cores);
  auto n = std::make_unique<Node>(*this, id, std::move(spec));
  Node& ref = *n;
  nodes_.push_back(std::move(n));
  if (ref.spec.powered) {
    boot(ref);
  } else {
    ref.unplugged = true;
    network_.unplug(id);
  }
  return ref.id;
}

bool World::powered(NodeId id) const {
  return !node(id).unplugged;
}

void World::power_on(NodeId id) {
  Node& n = node(id);
  if (!n.unplugged) return;
  n.unplugged = false;
  coverage_.hit("sim:power_on");
  record(kNoNode, 0, Event("SimPowerOn").detail("node", id));
  network_.plug(id);
  restart(id);
}

void World::power_off(NodeId id) {
  Node& n = node(id);
  if (n.unplugged) return;
  coverage_.hit("sim:power_off");
  record(kNoNode, 0, Event("SimPowerOff").detail("node", id));
  network_.unplug(id);  // before the crash: a machine without power resets nothing
  crash(id, std::nullopt);
  n.unplugged = true;
  n.restart_at.reset();
  n.restart_when_down = false;
}

void World::boot(Node& n) {
  DOPPEL_ASSERT(n.status == Node::Status::down);
  ++n.incarnation;
  n.status = Node::Status::up;
  n.restart_at.reset();
  n.runtime = std::make_unique<SimRuntime>(SimNodeParts{context_, n, network_, *n.disk}, n.id,
                                           n.incarnation, n.spec.cores,
                                           node_rng_.fork(n.id * 1000 + n.incarnation));
  record(kNoNode, 0,
         Event("SimNodeBoot").detail("node", n.id).detail("incarnation", n.incarnation));
  if (!n.spec.boot) return;
  const NodeId id = n.id;
  const std::uint32_t inc = n.incarnation;
  n.owner_fibers.push_back(spawn_fiber(id, inc, 0, [this, id, inc] {
    Node& me = node(id);
    Result<std::unique_ptr<Service>> service = me.spec.boot(*me.runtime);
    if (!incarnation_alive(id, inc)) {
      // Crashed while booting, after the boot returned: what it built dies
      // after the fibers it started, as a Service would.
      me.unwind_after_others(inc);
      return;
    }
    if (!service && !quiet_) {
      // An injected fault (an EIO during recovery, say) may fail a boot. As a supervisor
      // restarts a process that exits (systemd's Restart=on-failure), the node goes down and
      // boots again; modelled as a crash, which is stricter than an exit. Once every fault
      // has healed, a failed boot is a failure.
      record(id, 0, Event("SimBootFailed").detail("error", service.error().message()));
      agenda_.schedule(now(), [this, id, inc] {
        if (incarnation_alive(id, inc)) crash(id, kBootRetryDelay);
      });
      return;
    }
    if (!service) {
      fail("boot", me.name() + ": " + service.error().message());
      return;
    }
    me.service = std::move(*service);
  }));
}

void World::spawn(NodeId id, CoreId core, std::string_view name, Task fn) {
  Node& n = node(id);
  DOPPEL_ASSERT(n.status == Node::Status::up);
  DOPPEL_ASSERT(core < n.spec.cores);
  (void)name;  // fibers are told apart by id, not name
  n.owner_fibers.push_back(spawn_fiber(id, n.incarnation, core, std::move(fn)));
}

std::uint64_t World::spawn_fiber(NodeId id, std::uint32_t inc, CoreId core, Task fn) {
  Node& n = node(id);
  DOPPEL_ASSERT(incarnation_alive(id, inc));
  DOPPEL_ASSERT_MSG(n.live_fibers < kFibersPerNodeMax, "too many fibers on one node");
  ++n.live_fibers;
  ++stats_.fibers_started;
  const std::uint64_t fiber_id = ++next_fiber_id_;
  scheduler_.set_next_tag(id, inc, core, fiber_id);
  boost::fibers::fiber f(std::allocator_arg, stacks_,
                         [this, id, fn = std::move(fn)]() mutable { run_fiber(id, fn); });
  f.detach();
  return fiber_id;
}

void World::run_fiber(NodeId id, Task& fn) {
  char marker = 0;
  FiberTag& me = const_cast<FiberTag&>(current_fiber());
  me.stack_marker = &marker;
  try {
    // A fiber whose node died before it first ran never runs: a crashed
    // machine executes nothing more. (It still unwinds what it owns.)
    if (incarnation_alive(id, me.incarnation)) fn();
  } catch (const Cancelled&) {
  } catch (const AssertionUnwind&) {
  } catch (const std::exception& e) {
    fail("no-uncaught-exceptions", node(id).name() + ": " + e.what());
  } catch (...) {
    fail("no-uncaught-exceptions", node(id).name() + ": an unknown exception");
  }
  // What the fiber owns dies with it, while the node's state is still there.
  try {
    fn = Task();
  } catch (...) {
    fail("no-uncaught-exceptions", node(id).name() + ": a destructor threw");
  }
  forget_stack_below(&marker);
  on_fiber_exit(id);
}

void World::on_fiber_exit(NodeId id) {
  Node& n = node(id);
  DOPPEL_ASSERT(n.live_fibers > 0);
  --n.live_fibers;
  std::erase(n.owner_fibers, current_fiber().fiber_id);
  if (n.live_fibers == n.owner_fibers.size() && !n.owners_held.empty()) {
    // Only owners are left: they may unwind now.
    for (boost::fibers::context* owner : std::exchange(n.owners_held, {})) {
      boost::fibers::context::active()->schedule(owner);
    }
  }
  if (n.live_fibers == 0 && n.status == Node::Status::unwinding) {
    agenda_.schedule(now(), [this, id] { reap(id); });
  }
}

// --- the event loop

void World::drain() {
  while (scheduler_.has_ready_workers()) boost::this_fiber::yield();
}

void World::run_until(Instant limit) {
  run_until(limit, nullptr);
}

bool World::run_until(Instant limit, const std::function<bool()>& done) {
  for (;;) {
    drain();
    if (failed_) return false;
    if (done && done()) return true;
    if (agenda_.empty() || agenda_.next_time() > limit) break;
    Instant at;
    std::uint64_t seq;
    Task fn = agenda_.pop(&at, &seq);
    clock_.advance_to(at);
    trace_.mix(static_cast<std::uint64_t>(to_ns(at)), seq);
    ++stats_.events_run;
    fn();
  }
  if (now() < limit && limit != kNever) clock_.advance_to(limit);
  return done ? done() : false;
}

bool World::shutdown() {
  // Without this, a world destroyed by a failing test's exception would never stop: every
  // fiber would count that exception as its own unwinding and never throw its cancellation
  // (its loops spun forever).
  exceptions_at_shutdown_ = std::uncaught_exceptions();
  for (auto& n : nodes_) {
    n->restart_at.reset();
    n->restart_when_down = false;
    if (n->status == Node::Status::up) {
      n->status = Node::Status::unwinding;
      network_.node_down(n->id);
      cancel_parked(*n);
      scheduler_.release_held(n->id, kAllCores);
      if (n->live_fibers == 0) reap(n->id);
    }
  }
  drain();
  bool clean = true;
  for (auto& n : nodes_) {
    if (n->live_fibers != 0) {
      clean = false;
      continue;
    }
    if (n->status == Node::Status::unwinding) reap(n->id);
  }
  return clean;
}

// --- a node, as its runtime sees it

World::Node::Node(World& world, NodeId id, NodeSpec spec)
    : world(world),
      id(id),
      spec(std::move(spec)),
      disk(std::make_unique<SimDisk>(world.context_, world.disk_rng_, id)),
      node_clock(kWallEpochNs) {}

void World::Node::spawn_fiber(std::uint32_t inc, CoreId core, std::string_view fiber_name,
                              Task fn) {
  (void)fiber_name;  // fibers are told apart by id, not name
  world.spawn_fiber(id, inc, core, std::move(fn));
}

void World::Node::register_parked(Waiter& w) {
  w.registry_prev = nullptr;
  w.registry_next = parked;
  if (parked != nullptr) parked->registry_prev = &w;
  parked = &w;
}

void World::Node::unregister_parked(Waiter& w) {
  if (w.registry_prev != nullptr) {
    w.registry_prev->registry_next = w.registry_next;
  } else if (parked == &w) {
    parked = w.registry_next;
  }
  if (w.registry_next != nullptr) w.registry_next->registry_prev = w.registry_prev;
  w.registry_prev = w.registry_next = nullptr;
}

bool World::Node::core_stalled(CoreId core) const {
  return world.stalls_.stalled(id, core);
}

// Drawn from the network's stream, as it always was: moving it would change
// what every seed means.
Duration World::Node::core_hop_latency() {
  return Duration(world.net_rng_.between(1'000, 5'000));
}

void World::cancel_parked(Node& n) {
  for (Waiter* w = n.parked; w != nullptr; w = w->registry_next) {
    if (w->state != Waiter::State::parked) continue;
    w->state = Waiter::State::cancelled;
    w->unlink();
    // (A boot fiber, woken, waits in unwind_after_others before it unwinds.)
    boost::fibers::context::active()->schedule(static_cast<boost::fibers::context*>(w->fiber));
  }
}

bool World::Node::is_owner(std::uint64_t fiber_id) const {
  return std::find(owner_fibers.begin(), owner_fibers.end(), fiber_id) != owner_fibers.end();
}

void World::Node::unwind_after_others(std::uint32_t inc) {
  if (inc != incarnation || !is_owner(current_fiber().fiber_id)) return;
  if (live_fibers <= owner_fibers.size()) return;
  owners_held.push_back(boost::fibers::context::active());
  owners_held.back()->suspend();
}

// --- faults

void World::crash(NodeId id, std::optional<Duration> restart_after) {
  Node& n = node(id);
  if (n.status != Node::Status::up) return;
  coverage_.hit("fault:crash");
  record(kNoNode, 0, Event("SimNodeCrash").detail("node", id).detail("incarnation", n.incarnation));
  n.status = Node::Status::unwinding;
  network_.node_down(id);
  n.disk->crash();
  cancel_parked(n);
  scheduler_.release_held(id, kAllCores);
  if (restart_after) {
    n.restart_at = deadline_after(now(), *restart_after);
    agenda_.schedule(*n.restart_at, [this, id, inc = n.incarnation] {
      if (node(id).incarnation == inc) restart(id);
    });
  }
  if (n.live_fibers == 0) agenda_.schedule(now(), [this, id] { reap(id); });
}

void World::reap(NodeId id) {
  Node& n = node(id);
  if (n.status != Node::Status::unwinding || n.live_fibers != 0) return;
  DOPPEL_ASSERT(n.owner_fibers.empty() && n.owners_held.empty());
  n.service.reset();  // the node's memory is gone
  n.runtime.reset();
  n.parked = nullptr;
  n.status = Node::Status::down;
  record(kNoNode, 0, Event("SimNodeDown").detail("node", id));
  if (n.restart_when_down) {
    n.restart_when_down = false;
    boot(n);
  }
}

void World::restart(NodeId id) {
  Node& n = node(id);
  if (n.unplugged) return;
  switch (n.status) {
    case Node::Status::up:
      return;
    case Node::Status::unwinding:
      n.restart_when_down = true;
      return;
    case Node::Status::down:
      boot(n);
      return;
  }
}

void World::stall_core(NodeId id, CoreId core, Duration d) {
  if (core >= node(id).spec.cores) return;
  coverage_.hit("fault:core_stall");
  const Instant until = deadline_after(now(), d);
  stalls_.stall(id, core, until);
  record(kNoNode, 0,
         Event("SimCoreStall").detail("node", id).detail("core", core).detail("ns", to_ns(d)));
  agenda_.schedule(until, [this, id, core] {
    if (!stalls_.stalled(id, core)) scheduler_.release_held(id, core);
  });
}

void World::skew_clock(NodeId id, Duration offset, std::int64_t drift_ppm) {
  Node& n = node(id);
  coverage_.hit("fault:clock_skew");
  if (std::abs(drift_ppm) > FaultBounds{}.clock_drift_ppm_max) coverage_.hit("fault:clock_bad");
  n.node_clock.set_drift(now(), drift_ppm);
  n.node_clock.step_wall(offset);
  rearm_timers(n);
  record(kNoNode, 0,
         Event("SimClockSkew")
             .detail("node", id)
             .detail("offset_ns", to_ns(offset))
             .detail("drift_ppm", drift_ppm));
}

void World::rearm_timers(Node& n) {
  for (Waiter* w = n.parked; w != nullptr; w = w->registry_next) {
    if (w->state != Waiter::State::parked || w->timer == 0 || w->deadline == kNever) continue;
    agenda_.cancel(w->timer);
    w->timer =
        SimRuntime::arm_timer(agenda_, *w, std::max(now(), n.node_clock.global_at(w->deadline)));
  }
}

void World::fill_disk(NodeId id, Duration d) {
  coverage_.hit("fault:disk_full");
  SimDisk& disk = *node(id).disk;
  disk.fill();
  if (d.count() > 0) {
    agenda_.schedule(deadline_after(now(), d), [this, &disk, epoch = heal_epoch_] {
      if (epoch == heal_epoch_) disk.drain();
    });
  }
}

void World::apply(const FaultEvent& e) {
  if (quiet_) return;  // the fault phase is over
  switch (e.kind) {
    case FaultKind::reset:
      coverage_.hit("fault:reset");
      for (NodeId id : e.nodes) {
        record(kNoNode, 0, Event("SimReset").detail("node", id));
        network_.reset_node(id);
      }
      return;
    case FaultKind::partition:
    case FaultKind::partition_oneway:
      apply_partition(e);
      return;
    case FaultKind::crash:
      for (NodeId id : e.nodes) crash(id, e.duration);
      return;
    case FaultKind::clock_skew:
      for (NodeId id : e.nodes) skew_clock(id, e.offset, e.drift_ppm);
      return;
    case FaultKind::core_stall:
      for (NodeId id : e.nodes) stall_core(id, e.core, e.duration);
      return;
    case FaultKind::disk_corrupt:
      for (NodeId id : e.nodes) {
        if (node(id).disk->corrupt()) coverage_.hit("fault:disk_corrupt");
      }
      return;
    case FaultKind::disk_full:
      for (NodeId id : e.nodes) fill_disk(id, e.duration);
      return;
    default:
      DOPPEL_ASSERT_MSG(false, "an ambient fault in a plan's event list");
  }
}

void World::apply_partition(const FaultEvent& e) {
  const bool oneway = e.kind == FaultKind::partition_oneway;
  coverage_.hit(oneway ? "fault:partition_oneway" : "fault:partition");
  std::vector<NodeId> others = e.to;
  if (others.empty()) {
    for (auto& n : nodes_) {
      if (std::find(e.nodes.begin(), e.nodes.end(), n->id) == e.nodes.end()) {
        others.push_back(n->id);
      }
    }
  }
  // The links this event cuts, and so the ones it heals.
  std::vector<std::pair<NodeId, NodeId>> links;
  for (NodeId a : e.nodes) {
    for (NodeId b : others) {
      if (a == b) continue;
      links.emplace_back(a, b);
      if (!oneway) links.emplace_back(b, a);
    }
  }
  for (const auto& [a, b] : links) network_.cut(a, b);
  const std::int64_t first = e.nodes.empty() ? -1 : static_cast<std::int64_t>(e.nodes[0]);
  record(kNoNode, 0,
         Event("SimPartition")
             .detail("oneway", oneway)
             .detail("side", static_cast<std::int64_t>(e.nodes.size()))
             .detail("first", first));
  if (e.duration.count() <= 0) return;  // until the quiet phase
  agenda_.schedule(deadline_after(now(), e.duration),
                   [this, links = std::move(links), epoch = heal_epoch_] {
                     if (epoch != heal_epoch_) return;  // quiesce() healed everything
                     std::int64_t healed = 0;
                     for (const auto& [a, b] : links) healed += network_.heal(a, b);
                     record(kNoNode, 0, Event("SimHeal").detail("links", healed));
                   });
}

void World::schedule_plan(const FaultPlan& plan) {
  ambient_ = plan.ambient;
  for (const FaultEvent& e : plan.events) {
    for (NodeId id : e.nodes) DOPPEL_ASSERT_MSG(id < nodes_.size(), "a fault plan's missing node");
    for (NodeId id : e.to) DOPPEL_ASSERT_MSG(id < nodes_.size(), "a fault plan's missing node");
    agenda_.schedule(instant_ns(to_ns(e.at)), [this, e] { apply(e); });
  }
}

void World::branch(std::uint64_t seed) {
  Prng root = Prng(seed).fork(0xb4a9c4);
  for (Prng* rng : {&sched_rng_, &net_rng_, &disk_rng_, &fault_rng_, &buggify_rng_, &node_rng_}) {
    rng->reseed(root.next());
  }
  buggify_seed_ = root.next();
  for (std::size_t i = 0; i < buggify_states_.size(); ++i) {
    buggify_states_[i].rng.reseed(buggify_seed_ ^ (0x9e3779b97f4a7c15ULL * (i + 1)));
  }
  for (auto& n : nodes_) {
    if (n->runtime) n->runtime->reseed(root.fork(n->id));
  }
  record(kNoNode, 0, Event("SimBranch").detail("seed", seed));
}

void World::quiesce() {
  quiet_ = true;
  ++heal_epoch_;
  record(kNoNode, 0, Event("SimQuiesce"));
  ambient_ = AmbientFaults{};
  if (network_.any_blocked()) record(kNoNode, 0, Event("SimHeal"));
  network_.heal_all();
  for (auto& n : nodes_) {
    n->node_clock.make_true(now());
    rearm_timers(*n);
    n->disk->drain_all();
    stalls_.end(n->id);
    scheduler_.release_held(n->id, kAllCores);
    if (n->status != Node::Status::up) restart(n->id);
  }
}

// --- verdict and observation

void World::fail(std::string_view property, std::string detail) {
  if (failed_) return;
  failed_ = true;
  failure_.property = std::string(property);
  failure_.detail = std::move(detail);
  record(kNoNode, 0,
         Event("PropertyFailed", Severity::error)
             .detail("property", property)
             .detail("detail", failure_.detail));
}

WorldStats World::stats() const {
  WorldStats stats = stats_;
  stats.picks = scheduler_.picks();
  return stats;
}

void World::record(NodeId node_id, CoreId core, const Event& event) {
  trace_.add(now(), node_id, core, event);
  thread_local std::string probe;  // reused: no allocation per event
  probe.assign("event:").append(event.name());
  coverage_.hit(probe);
  if (event.severity() == Severity::error && event.name() != "PropertyFailed") {
    fail("no-error-events", event.to_string());
  }
  if (observer_) observer_(node_id, event);
}

void World::sometimes(const SometimesSite& site, bool held) {
  thread_local std::string probe;  // reused: no allocation per check
  probe.assign(kProbeSometimesChecked).append(site.name());
  coverage_.hit(probe);
  if (!held) return;
  probe.assign(kProbeSometimesHeld).append(site.name());
  coverage_.hit(probe);
}

bool World::buggify(const BuggifySite& site) {
  if (!ambient_.buggify) return false;
  if (site.index() >= buggify_states_.size()) buggify_states_.resize(site.index() + 1);
  BuggifyState& st = buggify_states_[site.index()];
  if (st.state == BuggifyState::Switch::unknown) {
    // First reached in this run: switch the site on for one run in four.
    st.rng = Prng(buggify_seed_ ^ site.name_hash());
    st.state = st.rng.chance(1, 4) ? BuggifyState::Switch::on : BuggifyState::Switch::off;
    coverage_.hit(std::string(kProbeBuggifyReached).append(site.name()));
  }
  if (st.state != BuggifyState::Switch::on || !st.rng.chance(1, 4)) return false;
  coverage_.hit(std::string(kProbeBuggifyFired).append(site.name()));
  return true;
}

}  // namespace doppel::sim
