#include "sim/world.h"

#include <algorithm>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>
#include <cstdio>
#include <exception>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include "sim/sim_runtime.h"

namespace doppel::sim {
namespace {

thread_local World* g_current_world = nullptr;  // for the assertion handler only

constexpr std::size_t kFiberStackBytes = 256u << 10;
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
      network_(*this),
      trace_(options.keep_events) {
  DOPPEL_ASSERT_MSG(!scheduler_.has_ready_workers(), "another World is running on this thread");
  scheduler_.attach(this);
  previous_world_ = g_current_world;
  g_current_world = this;
  previous_handler_ = set_assertion_handler(&World::on_assertion);
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

const std::string& World::node_name(NodeId id) const { return node(id).spec.name; }

std::optional<NodeId> World::find_node(std::string_view name) const {
  for (const auto& n : nodes_) {
    if (n->spec.name == name) return n->id;
  }
  return std::nullopt;
}

bool World::node_up(NodeId id) const { return node(id).status == Node::Status::up; }
std::uint32_t World::incarnation(NodeId id) const { return node(id).incarnation; }

bool World::incarnation_alive(NodeId id, std::uint32_t incarnation) const {
  const Node& n = node(id);
  return n.status == Node::Status::up && n.incarnation == incarnation;
}

SimDisk& World::disk(NodeId id) { return *node(id).disk; }

Runtime& World::runtime(NodeId id) {
  Node& n = node(id);
  DOPPEL_ASSERT_MSG(n.status == Node::Status::up, "runtime() of a node that is down");
  return *n.runtime;
}

NodeId World::add_node(NodeSpec spec) {
  DOPPEL_ASSERT(nodes_.size() < kNodesMax);
  DOPPEL_ASSERT(spec.cores >= 1);
  DOPPEL_ASSERT_MSG(!find_node(spec.name), "two nodes with one name");
  auto n = std::make_unique<Node>();
  n->id = static_cast<NodeId>(nodes_.size());
  n->spec = std::move(spec);
  n->disk = std::make_unique<SimDisk>(*this, n->id);
  n->cores.resize(n->spec.cores);
  Node& ref = *n;
  nodes_.push_back(std::move(n));
  boot(ref);
  return ref.id;
}

void World::boot(Node& n) {
  DOPPEL_ASSERT(n.status == Node::Status::down);
  ++n.incarnation;
  n.status = Node::Status::up;
  n.restart_at.reset();
  n.runtime = std::make_unique<SimRuntime>(*this, n.id, n.incarnation, n.spec.cores,
                                           node_rng_.fork(n.id * 1000 + n.incarnation));
  record(kNoNode, 0, Event("SimNodeBoot").detail("node", n.id).detail("incarnation", n.incarnation));
  if (!n.spec.boot) return;
  const NodeId id = n.id;
  const std::uint32_t inc = n.incarnation;
  spawn_fiber(id, inc, 0, "boot", [this, id, inc] {
    Node& me = node(id);
    Result<std::unique_ptr<Service>> service = me.spec.boot(*me.runtime);
    if (!incarnation_alive(id, inc)) return;
    if (!service && !quiet_) {
      // An injected fault (an EIO during recovery, say) may fail a boot. As a supervisor
      // restarts a process that exits (systemd's Restart=on-failure), the node goes down and
      // boots again; modelled as a crash, which is stricter than an exit. Once every fault
      // has healed, a failed boot is a failure.
      record(id, 0, Event("SimBootFailed").detail("error", service.error().message()));
      agenda_.schedule(now_, [this, id, inc] {
        if (incarnation_alive(id, inc)) crash(id, kBootRetryDelay);
      });
      return;
    }
    if (!service) {
      fail("boot", me.spec.name + ": " + service.error().message());
      return;
    }
    me.service = std::move(*service);
  });
}

void World::spawn(NodeId id, CoreId core, std::string_view name, Task fn) {
  Node& n = node(id);
  DOPPEL_ASSERT(n.status == Node::Status::up);
  DOPPEL_ASSERT(core < n.spec.cores);
  spawn_fiber(id, n.incarnation, core, name, std::move(fn));
}

void World::spawn_fiber(NodeId id, std::uint32_t inc, CoreId core, std::string_view name, Task fn) {
  (void)name;
  Node& n = node(id);
  DOPPEL_ASSERT(incarnation_alive(id, inc));
  DOPPEL_ASSERT_MSG(n.live_fibers < kFibersPerNodeMax, "too many fibers on one node");
  ++n.live_fibers;
  ++stats_.fibers_started;
  scheduler_.set_next_tag(id, inc, core, ++next_fiber_id_);
  boost::fibers::fiber f(std::allocator_arg, stacks_,
                         [this, id, fn = std::move(fn)]() mutable { run_fiber(id, fn); });
  f.detach();
}

// AddressSanitizer cannot follow Boost.Context's stack switches: when an
// exception is thrown on a fiber's stack it refuses to clear the redzones of
// the frames being abandoned ("ASan is ignoring requested
// __asan_handle_no_return"), so the destructors run during unwinding, and
// later fibers on the same pooled stack, trip over stale poison. We clear the
// fiber's stack below its first frame ourselves before every throw and when
// the fiber ends. (Live frames lose their redzones until they are re-entered:
// a small loss of checking, not a false report.)
namespace {
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

}  // namespace

void forget_fiber_stack() { forget_stack_below(current_fiber().stack_marker); }

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
    fail("no-uncaught-exceptions", node(id).spec.name + ": " + e.what());
  } catch (...) {
    fail("no-uncaught-exceptions", node(id).spec.name + ": an unknown exception");
  }
  // What the fiber owns dies with it, while the node's state is still there.
  try {
    fn = Task();
  } catch (...) {
    fail("no-uncaught-exceptions", node(id).spec.name + ": a destructor threw");
  }
  forget_stack_below(&marker);
  on_fiber_exit(id);
}

void World::on_fiber_exit(NodeId id) {
  Node& n = node(id);
  DOPPEL_ASSERT(n.live_fibers > 0);
  --n.live_fibers;
  if (n.live_fibers == 0 && n.status == Node::Status::unwinding) {
    agenda_.schedule(now_, [this, id] { reap(id); });
  }
}

// --- the event loop

void World::drain() {
  while (scheduler_.has_ready_workers()) boost::this_fiber::yield();
}

std::size_t World::pick_index(std::size_t ready) {
  ++stats_.picks;
  return static_cast<std::size_t>(sched_rng_.below(ready));
}

void World::on_fiber_picked(const FiberTag& tag) { trace_.mix(tag.fiber_id, 0x5ced); }

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
    DOPPEL_ASSERT(at >= now_);
    now_ = at;
    trace_.mix(static_cast<std::uint64_t>(to_ns(at)), seq);
    ++stats_.events_run;
    fn();
  }
  if (now_ < limit && limit != kNever) now_ = limit;
  return done ? done() : false;
}

bool World::shutdown() {
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

// --- parked fibers

void World::register_parked(NodeId id, Waiter& w) {
  Node& n = node(id);
  w.registry_prev = nullptr;
  w.registry_next = n.parked;
  if (n.parked != nullptr) n.parked->registry_prev = &w;
  n.parked = &w;
}

void World::unregister_parked(NodeId id, Waiter& w) {
  Node& n = node(id);
  if (w.registry_prev != nullptr) {
    w.registry_prev->registry_next = w.registry_next;
  } else if (n.parked == &w) {
    n.parked = w.registry_next;
  }
  if (w.registry_next != nullptr) w.registry_next->registry_prev = w.registry_prev;
  w.registry_prev = w.registry_next = nullptr;
}

void World::cancel_parked(Node& n) {
  for (Waiter* w = n.parked; w != nullptr; w = w->registry_next) {
    if (w->state != Waiter::State::parked) continue;
    w->state = Waiter::State::cancelled;
    w->unlink();
    boost::fibers::context::active()->schedule(static_cast<boost::fibers::context*>(w->fiber));
  }
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
    n.restart_at = deadline_after(now_, *restart_after);
    agenda_.schedule(*n.restart_at, [this, id, inc = n.incarnation] {
      if (node(id).incarnation == inc) restart(id);
    });
  }
  if (n.live_fibers == 0) agenda_.schedule(now_, [this, id] { reap(id); });
}

void World::reap(NodeId id) {
  Node& n = node(id);
  if (n.status != Node::Status::unwinding || n.live_fibers != 0) return;
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

void World::block_link(NodeId from, NodeId to) { network_.block(from, to); }

void World::heal_partitions() {
  if (!network_.any_blocked()) return;
  record(kNoNode, 0, Event("SimHeal"));
  network_.heal();
}

bool World::core_stalled(NodeId id, CoreId core) const {
  if (id == kNoNode || id >= nodes_.size()) return false;
  const Node& n = node(id);
  return core < n.cores.size() && n.cores[core].stalled_until > now_;
}

void World::stall_core(NodeId id, CoreId core, Duration d) {
  Node& n = node(id);
  if (core >= n.cores.size()) return;
  coverage_.hit("fault:core_stall");
  const Instant until = deadline_after(now_, d);
  n.cores[core].stalled_until = std::max(n.cores[core].stalled_until, until);
  record(kNoNode, 0, Event("SimCoreStall").detail("node", id).detail("core", core)
                         .detail("ns", to_ns(d)));
  agenda_.schedule(until, [this, id, core] {
    if (!core_stalled(id, core)) scheduler_.release_held(id, core);
  });
}

namespace {
std::int64_t drift_ns(std::int64_t ppm, Instant since, Instant now) {
  return (to_ns(now) - to_ns(since)) / 1'000'000 * ppm;
}
}  // namespace

void World::skew_clock(NodeId id, Duration offset, std::int64_t drift_ppm) {
  coverage_.hit("fault:clock_skew");
  Node& n = node(id);
  // Keep the drift so far, then step and start drifting at the new rate.
  n.clock_offset += Duration(drift_ns(n.drift_ppm, n.drift_since, now_)) + offset;
  n.drift_ppm = drift_ppm;
  n.drift_since = now_;
  record(kNoNode, 0, Event("SimClockSkew").detail("node", id).detail("offset_ns", to_ns(offset))
                         .detail("drift_ppm", drift_ppm));
}

WallTime World::wall_now(NodeId id) const {
  const Node& n = node(id);
  return WallTime(Duration(kWallEpochNs + to_ns(now_) + to_ns(n.clock_offset) +
                           drift_ns(n.drift_ppm, n.drift_since, now_)));
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
    case FaultKind::partition_oneway: {
      coverage_.hit(e.kind == FaultKind::partition ? "fault:partition" : "fault:partition_oneway");
      std::vector<NodeId> others = e.to;
      if (e.kind == FaultKind::partition && others.empty()) {
        for (auto& n : nodes_) {
          if (std::find(e.nodes.begin(), e.nodes.end(), n->id) == e.nodes.end()) {
            others.push_back(n->id);
          }
        }
      }
      for (NodeId a : e.nodes) {
        for (NodeId b : others) {
          block_link(a, b);
          if (e.kind == FaultKind::partition) block_link(b, a);
        }
      }
      record(kNoNode, 0, Event("SimPartition").detail("oneway", e.kind == FaultKind::partition_oneway)
                             .detail("side", static_cast<std::int64_t>(e.nodes.size()))
                             .detail("first", e.nodes.empty() ? -1 : static_cast<std::int64_t>(e.nodes[0])));
      if (e.duration.count() > 0) {
        agenda_.schedule(deadline_after(now_, e.duration), [this] { heal_partitions(); });
      }
      return;
    }
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
      coverage_.hit("fault:disk_corrupt");
      for (NodeId id : e.nodes) (void)node(id).disk->corrupt();
      return;
    default:
      DOPPEL_ASSERT_MSG(false, "an ambient fault in a plan's event list");
  }
}

void World::schedule_plan(const FaultPlan& plan) {
  for (const FaultEvent& e : plan.events) {
    for (NodeId id : e.nodes) DOPPEL_ASSERT_MSG(id < nodes_.size(), "fault plan names a missing node");
    for (NodeId id : e.to) DOPPEL_ASSERT_MSG(id < nodes_.size(), "fault plan names a missing node");
    agenda_.schedule(instant_ns(to_ns(e.at)), [this, e] { apply(e); });
  }
  if (ambient_.latency) coverage_.hit("fault:latency");
  if (ambient_.split_reads) coverage_.hit("fault:split_reads");
  if (ambient_.disk_model != DiskModel::instant) coverage_.hit("fault:disk_latency");
}

void World::quiesce() {
  quiet_ = true;
  record(kNoNode, 0, Event("SimQuiesce"));
  ambient_ = AmbientFaults{};
  heal_partitions();
  for (auto& n : nodes_) {
    n->clock_offset = Duration(0);
    n->drift_ppm = 0;
    for (CoreState& c : n->cores) c.stalled_until = now_;
    scheduler_.release_held(n->id, kAllCores);
    if (n->status != Node::Status::up) restart(n->id);
  }
}

// --- verdict and observation

void World::fail(std::string_view property, std::string detail) {
  if (failed_) return;
  failed_ = true;
  failed_property_ = std::string(property);
  failure_detail_ = std::move(detail);
  record(kNoNode, 0, Event("PropertyFailed", Severity::error).detail("property", property)
                         .detail("detail", failure_detail_));
}

void World::record(NodeId node_id, CoreId core, const Event& event) {
  trace_.add(now_, node_id, core, event);
  thread_local std::string probe;  // reused: no allocation per event
  probe.assign("event:").append(event.name());
  coverage_.hit(probe);
  if (event.severity() == Severity::error && event.name() != "PropertyFailed") {
    fail("no-error-events", event.to_string());
  }
  if (observer_) observer_(node_id, event);
}

bool World::buggify(std::string_view site) {
  if (!ambient_.buggify) return false;
  auto it = buggify_sites_.find(site);
  if (it == buggify_sites_.end()) {
    // First reached in this run: switch the site on for one run in four.
    it = buggify_sites_.emplace(std::string(site), buggify_rng_.chance(1, 4)).first;
    coverage_.hit("buggify-reached:" + std::string(site));
  }
  if (!it->second || !buggify_rng_.chance(1, 4)) return false;
  coverage_.hit("buggify-fired:" + std::string(site));
  return true;
}

}  // namespace doppel::sim
