#pragma once
// The runtime contract implemented for one incarnation of one simulated node.
// Every call from a fiber of a crashed incarnation fails: blocking calls throw
// Cancelled (unwinding the fiber), the rest return Errc::cancelled or do
// nothing.
//
// Time is the node's own (node_clock.h): now() reads its monotonic clock,
// which may run fast or slow, and a deadline given to park() (so every
// sleep, timeout and timer of a component) falls due when that clock reaches
// it. The simulator's own waits (a disk's service time, a handshake's round
// trip) are in world time: park_until().

#include <deque>
#include <memory>
#include <vector>

#include "runtime/runtime.h"
#include "sim/node_host.h"
#include "sim/scheduler.h"
#include "sim/sim_context.h"

namespace doppel::sim {

class SimDisk;
class SimFileSystem;
class SimNetwork;

// What one incarnation runs on: the world's clock and agenda (context), its
// node (host), the network, and the node's disk, which outlives incarnations.
struct SimNodeParts {
  SimContext context;
  NodeHost& host;
  SimNetwork& network;
  SimDisk& disk;
};

class SimRuntime final : public Runtime, private Network {
 public:
  SimRuntime(const SimNodeParts& parts, NodeId node, std::uint32_t incarnation, CoreId cores,
             Prng seed_rng);
  ~SimRuntime() override;

  Instant now() override;
  WallTime wall_now() override;
  void sleep(Duration d) override;
  Prng& random() override;
  // Every core's stream drawn afresh from `from` (World::branch).
  void reseed(Prng from);
  CoreId core_count() const override { return cores_; }
  CoreId this_core() override;
  void spawn(std::string_view name, Task fn) override;
  void spawn_on(CoreId core, std::string_view name, Task fn) override;
  void post(CoreId core, Task fn) override;
  Wake park(Waiter& w, Instant deadline) override;
  Network& net() override { return *this; }
  FileSystem& fs() override;
  bool buggify(const BuggifySite& site) override;
  bool expensive_checks() const override { return true; }
  void sometimes(const SometimesSite& site, bool held) override;
  void record(const Event& event) override;

  // Network, for this node.
  Result<std::unique_ptr<Listener>> listen(const Endpoint& at, ListenOptions options) override;
  Result<std::unique_ptr<Stream>> connect(const Endpoint& to, Duration timeout) override;

  // --- for the simulator's parts
  // Parks until world time `at` (physical waits: a disk, the wire), whatever
  // the node's clock says.
  Wake park_until(Waiter& w, Instant at);
  // (Re)arms a parked waiter's timer for world time `at`; for the World when
  // a node's clock changes rate under its parked fibers.
  static std::uint64_t arm_timer(EventQueue& agenda, Waiter& w, Instant at);
  Instant world_now() const { return context_.now(); }
  // The world time at which this node's clock reads `local`.
  Instant world_time_at(Instant local) const { return clock_.global_at(local); }
  NodeId node() const { return node_; }
  std::uint32_t incarnation() const { return incarnation_; }
  bool alive() const;
  // For a call that cannot go on because the node is dead: throws Cancelled
  // from a fiber of this node (unless already unwinding), else returns.
  void throw_if_cancellable() const;
  Error cancelled_error() const;

 private:
  Wake park_at(Waiter& w, Instant local_deadline, Instant global_deadline);

  SimContext context_;
  NodeHost& host_;
  const NodeClock& clock_;
  SimNetwork& network_;
  NodeId node_;
  std::uint32_t incarnation_;
  CoreId cores_;
  std::vector<Prng> rngs_;  // one per core
  std::unique_ptr<SimFileSystem> fs_;
  // Posted tasks between cores keep their order, as on the real runtime's
  // SPSC queues: the last arrival time per (from, to) pair of cores, and per
  // core the tasks that arrived and wait their turn.
  Instant hop_arrival(CoreId core);
  void deliver(CoreId core, Task fn);
  struct Inbox {
    std::deque<Task> tasks;
    bool draining = false;  // a fiber is (or will be) running them
  };
  std::vector<Instant> hop_last_;  // [from * cores + to]
  std::vector<Inbox> inboxes_;
};

}  // namespace doppel::sim
