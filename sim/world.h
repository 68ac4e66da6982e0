#pragma once
// One simulated world per run: a seeded PRNG, a virtual clock, an agenda of
// events ordered by (time, sequence), and nodes with cores, a network and a
// disk each, all on one OS thread.
//
// The main context runs the event loop: it lets every ready fiber run (in a
// seed-chosen order, see scheduler.h), then pops the next event, jumps the
// clock to its time, and runs it. Events only wake fibers or change state;
// they never block.
//
// Crash model: a crashed node's fibers are all woken with Cancelled and
// unwind; once the last one has ended its Service is destroyed (its memory is
// gone), its disk keeps only what was synced (unsynced writes are lost, kept
// or torn, see disk.h), its connections reset and its listeners vanish. A
// restart boots a new incarnation through the same boot function. A crashed
// machine runs no destructors; the simulator unwinds fibers only to free
// them, and must not let that order create a use-after-free reality would
// not have: the fiber that boots the node (and owns, until boot returns, the
// Service being built) unwinds after every fiber it started has ended, as the
// Service of a booted node is destroyed after its last fiber. So does a
// fiber a harness started with World::spawn: a test that builds a store in
// it must not see the store's helper fibers unwind into freed memory.
//
// The other faults live in the parts they affect, each file opening with its
// model: the network's links, partitions and TCP timeout (network.h), each
// node's clocks (node_clock.h), disks (disk.h), stalled cores
// (core_stalls.h). The World applies a plan's events to them: a partition
// cuts its links and heals just those when its duration ends; a disk_full
// lasts its duration; a clock_skew changes a node's rate and re-arms the
// timers of its parked fibers, which fall due on the node's clock. Every
// fault heals when the fault phase ends (quiesce). Coverage counts each event
// applied and each ambient fault each time it fires (coverage.h).

#include <boost/fiber/pooled_fixedsize_stack.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/node.h"
#include "runtime/runtime.h"
#include "sim/core_stalls.h"
#include "sim/coverage.h"
#include "sim/disk.h"
#include "sim/event_queue.h"
#include "sim/fault_plan.h"
#include "sim/network.h"
#include "sim/node_host.h"
#include "sim/scheduler.h"
#include "sim/sim_context.h"
#include "sim/trace_log.h"

namespace doppel::sim {

class SimRuntime;

using SimBootFn = std::function<Result<std::unique_ptr<Service>>(Runtime&)>;

struct NodeSpec {
  std::string name;  // also its host name on the simulated network
  CoreId cores = 1;
  bool crashable = true;
  SimBootFn boot;  // runs in a fiber on core 0 of the node
  // False: the machine is racked but unplugged -- its host name and disk exist, it does not
  // run until power_on() (a node added to a running cluster).
  bool powered = true;
};

struct WorldOptions {
  std::uint64_t seed = 0;
  AmbientFaults ambient;
  bool keep_events = false;                          // store the event stream, for a trace file
  Duration tcp_timeout = FaultBounds{}.tcp_timeout;  // see network.h
};

struct WorldStats {
  std::uint64_t events_run = 0;  // agenda events executed
  std::uint64_t fibers_started = 0;
  std::uint64_t picks = 0;  // scheduler decisions
};

// The first property that failed in a run (both empty while none has).
struct Failure {
  std::string property;
  std::string detail;
};

// What drivers, the scenario runner, the benches and tests use. The parts of
// the simulator see the World only through the narrow interfaces it hands
// them: a SimContext (clock, agenda, recorder), their own random stream, the
// CoreStalls table, and a NodeHost per node.
class World final : private EventRecorder {
 public:
  explicit World(const WorldOptions& options);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // --- building
  NodeId add_node(NodeSpec spec);  // boots it now, if spec.powered
  bool node_up(NodeId id) const;
  // A machine added to the running world: boots an unplugged node (its disk as it was).
  void power_on(NodeId id);
  // A machine removed from it: the node goes down as in a crash (unsynced writes lost) and
  // stays down -- no fault, restart or quiesce() boots it -- until power_on().
  void power_off(NodeId id);
  bool powered(NodeId id) const;
  // How many times the node has booted (1 after add_node): an oracle bounds
  // what a node may change per boot with it.
  std::uint32_t boots(NodeId id) const;
  // The node's current incarnation's runtime; the node must be up.
  Runtime& runtime(NodeId id);
  // Starts a fiber on a node from outside any fiber (drivers, tests).
  void spawn(NodeId node, CoreId core, std::string_view name, Task fn);
  // The node's disk, which outlives its incarnations: for faults aimed at
  // one file (SimDisk::corrupt) and for inspection in tests.
  SimDisk& disk(NodeId id);

  // --- running
  Instant now() const { return clock_.now(); }
  // Runs until virtual time `limit`, or earlier if a property failed.
  void run_until(Instant limit);
  void run_for(Duration d) { run_until(deadline_after(now(), d)); }
  // Runs until `done()` holds (checked whenever no fiber is ready) or `limit`.
  bool run_until(Instant limit, const std::function<bool()>& done);
  // Cancels every fiber of every node and waits for them to unwind. Returns
  // false if some fiber did not (it blocked outside the runtime).
  bool shutdown();

  // --- faults
  // With no restart_after the node stays down until quiesce().
  void crash(NodeId id, std::optional<Duration> restart_after);
  // Before the first run_until: switches the plan's ambient faults on and
  // schedules its events.
  void schedule_plan(const FaultPlan& plan);
  // One fault event, now (no effect once quiesced).
  void apply(const FaultEvent& event);
  // Ends the fault phase: heals every fault, restarts crashed nodes, turns
  // ambient faults off.
  void quiesce();
  // From now on every random stream -- scheduling, network, disks, BUGGIFY draws, every node's
  // runtime -- is drawn afresh from `seed` (each BUGGIFY site stays on or off as it was). Run to
  // a time, branch, run on: the run up to the branch is the unbranched run's, so a search can
  // try many endings of one interesting prefix.
  void branch(std::uint64_t seed);

  // --- verdict
  // The first failure wins and stops the run.
  void fail(std::string_view property, std::string detail);
  bool failed() const { return failed_; }
  const Failure& failure() const { return failure_; }

  // --- observation
  void record(NodeId node, CoreId core, const Event& event) override;
  // Sees every recorded event (after it is traced): drivers turn component
  // events (an eviction, say) into history records. Must not block.
  using Observer = std::function<void(NodeId node, const Event& event)>;
  void set_observer(Observer observer) { observer_ = std::move(observer); }
  TraceLog& trace() { return trace_; }
  Coverage& coverage() { return coverage_; }
  WorldStats stats() const;

 private:
  // One node, and the host its incarnations' runtimes run on.
  struct Node final : NodeHost {
    Node(World& world, NodeId id, NodeSpec spec);

    const std::string& name() const override { return spec.name; }
    bool alive(std::uint32_t inc) const override {
      return status == Status::up && incarnation == inc;
    }
    const NodeClock& clock() const override { return node_clock; }
    void spawn_fiber(std::uint32_t inc, CoreId core, std::string_view fiber_name, Task fn) override;
    void register_parked(Waiter& w) override;
    void unregister_parked(Waiter& w) override;
    void unwind_after_others(std::uint32_t inc) override;
    int exceptions_outside_fibers() const override { return world.exceptions_at_shutdown_; }
    bool core_stalled(CoreId core) const override;
    bool buggify(const BuggifySite& site) override { return world.buggify(site); }
    void sometimes(const SometimesSite& site, bool held) override { world.sometimes(site, held); }
    Duration core_hop_latency() override;

    World& world;
    NodeId id = 0;
    NodeSpec spec;
    enum class Status : std::uint8_t { up, unwinding, down } status = Status::down;
    std::uint32_t incarnation = 0;
    std::unique_ptr<SimRuntime> runtime;
    std::unique_ptr<Service> service;
    std::uint64_t live_fibers = 0;
    Waiter* parked = nullptr;  // registry head (Waiter::registry_next)
    // Owners: the fiber running spec.boot (while it runs) and the fibers
    // started from outside by World::spawn (a harness's main fibers). What
    // they built is used by the fibers it started, so on a crash each owner
    // unwinds only once every other fiber of the node has ended.
    std::vector<std::uint64_t> owner_fibers;
    std::vector<boost::fibers::context*> owners_held;  // of a dead incarnation, waiting
    bool is_owner(std::uint64_t fiber_id) const;
    std::unique_ptr<SimDisk> disk;
    NodeClock node_clock;
    std::optional<Instant> restart_at;
    bool restart_when_down = false;
    bool unplugged = false;  // power_off(), or added unpowered
  };

  Node& node(NodeId id);
  const Node& node(NodeId id) const;
  bool incarnation_alive(NodeId id, std::uint32_t incarnation) const;
  void boot(Node& n);
  void reap(NodeId id);
  void restart(NodeId id);
  void cancel_parked(Node& n);
  // Returns the new fiber's id.
  std::uint64_t spawn_fiber(NodeId node, std::uint32_t incarnation, CoreId core, Task fn);
  void run_fiber(NodeId node, Task& fn);
  void on_fiber_exit(NodeId node);
  void drain();
  bool buggify(const BuggifySite& site);
  void sometimes(const SometimesSite& site, bool held);
  void apply_partition(const FaultEvent& e);
  void fill_disk(NodeId node, Duration d);
  void stall_core(NodeId node, CoreId core, Duration d);
  // The node's wall clock steps by `offset`, and its clocks then run fast
  // (ppm > 0) or slow.
  void skew_clock(NodeId node, Duration offset, std::int64_t drift_ppm);
  // The node's clock changed rate: its parked fibers' deadlines fall due at
  // other world times.
  void rearm_timers(Node& n);
  static void on_assertion(const char* expr, const char* file, int line, const char* msg);

  WorldOptions options_;
  SimScheduler& scheduler_;
  boost::fibers::pooled_fixedsize_stack stacks_;
  VirtualClock clock_;
  EventQueue agenda_;
  // Forked from the seed in this order (fork advances the parent), so their
  // order is part of what a seed means. fault_rng_ is drawn from by nothing.
  Prng sched_rng_, net_rng_, disk_rng_, fault_rng_, buggify_rng_, node_rng_;
  AmbientFaults ambient_;
  TraceLog trace_;
  Coverage coverage_;
  SimContext context_;  // what the parts see of the above
  CoreStalls stalls_;
  SimNetwork network_;
  std::vector<std::unique_ptr<Node>> nodes_;  // by id; destroyed before the network
  WorldStats stats_;
  std::uint64_t next_fiber_id_ = 0;
  // BUGGIFY: each site's state in this run, by BuggifySite::index(). A site's
  // draws come from its own stream, seeded by the run and the site's name, so
  // that reaching (or adding) one site changes no other site's draws.
  struct BuggifyState {
    enum class Switch : std::uint8_t { unknown, off, on } state = Switch::unknown;
    Prng rng;
  };
  std::uint64_t buggify_seed_ = 0;
  std::vector<BuggifyState> buggify_states_;
  // Bumped by quiesce(): heals scheduled before it find their links healed.
  std::uint64_t heal_epoch_ = 0;
  // std::uncaught_exceptions() when shutdown() began: nonzero when a test's failed REQUIRE
  // destroys the world while its exception unwinds the test (NodeHost).
  int exceptions_at_shutdown_ = 0;
  bool quiet_ = false;
  bool failed_ = false;
  Failure failure_;
  Observer observer_;
  World* previous_world_ = nullptr;
  AssertionHandler previous_handler_ = nullptr;
};

// Thrown by the simulator's assertion handler: the run has already failed;
// this only unwinds the fiber that asserted.
struct AssertionUnwind {};

}  // namespace doppel::sim
