#pragma once
// What one simulated node's runtime (SimRuntime) sees of the world: not the
// World, only what a machine offers the processes running on it. Whether an
// incarnation is still the live one (a crash ends it), the node's clocks
// (drifting per node, node_clock.h), fibers started on its cores, the registry
// of its parked fibers (so that a crash can wake them all), whether a core is
// stalled, BUGGIFY, and how long a hop between two of its cores takes.
// The World implements it once per node; the runtime gets the clock and the
// agenda through its SimContext.

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/runtime.h"
#include "sim/node_clock.h"

namespace doppel::sim {

class NodeHost {
 public:
  // The node's name, also its host name on the simulated network.
  virtual const std::string& name() const = 0;
  // False once `incarnation` has crashed or stopped: calls from its fibers fail.
  virtual bool alive(std::uint32_t incarnation) const = 0;
  // The node's clocks; it outlives the node's incarnations.
  virtual const NodeClock& clock() const = 0;
  // Starts a fiber of the live `incarnation` on `core`; its exceptions fail the run.
  virtual void spawn_fiber(std::uint32_t incarnation, CoreId core, std::string_view name,
                           Task fn) = 0;
  virtual void register_parked(Waiter& w) = 0;
  virtual void unregister_parked(Waiter& w) = 0;
  // Called by a fiber of a dead `incarnation` about to unwind: if it is the
  // fiber that boots the node and others of the incarnation still live, it
  // waits here until they have ended (see world.h, crash model).
  virtual void unwind_after_others(std::uint32_t incarnation) = 0;
  // Exceptions in flight on this thread outside the fibers when the world began to shut down
  // (std::uncaught_exceptions() counts per thread, not per fiber): a fiber with no more than
  // these in flight is not itself unwinding, so it may be cancelled by a throw.
  virtual int exceptions_outside_fibers() const = 0;
  virtual bool core_stalled(CoreId core) const = 0;
  virtual bool buggify(const BuggifySite& site) = 0;
  virtual void sometimes(const SometimesSite& site, bool held) = 0;
  // The latency of a task handed to another core of the node (an SPSC queue
  // and a wake-up on the real runtime).
  virtual Duration core_hop_latency() = 0;

 protected:
  ~NodeHost() = default;
};

}  // namespace doppel::sim
