#pragma once
// The runtime contract: everything a component may use to touch the world.
// The simulator (sim/) and the real backends (runtime/epoll, runtime/uring)
// implement it; components include runtime/ headers and nothing else that
// reaches the machine.
//
// Tasks are Boost.Fiber fibers: code reads straight-line and a call that waits
// suspends only its fiber. Every wait goes through park(), which is how the
// simulator can wake and unwind every fiber of a node that crashes: a parked
// fiber of a crashed or stopping node wakes with the exception Cancelled.

#include <cstdint>
#include <string_view>

#include "runtime/buggify.h"
#include "runtime/event.h"
#include "runtime/fs.h"
#include "runtime/net.h"
#include "runtime/random.h"
#include "runtime/sometimes.h"
#include "runtime/task.h"
#include "runtime/time.h"

namespace doppel {

using CoreId = std::uint32_t;

// Thrown out of park() (and so out of sleep, channel, mutex, future and I/O
// waits) when the fiber's node crashed or is shutting down. Deliberately not a
// std::exception, so `catch (const std::exception&)` does not swallow it; the
// runtime catches it where the fiber started.
struct Cancelled {};

class WaitList;

// One fiber's wait. Lives on the waiting fiber's stack; owned by whichever
// WaitList it is linked into, and by the backend while parked.
struct Waiter {
  enum class State : std::uint8_t { idle, parked, notified, timed_out, cancelled };

  State state = State::idle;
  void* fiber = nullptr;  // the backend's handle of the parked fiber
  // Membership of a WaitList (a channel's readers, a mutex's queue...).
  WaitList* list = nullptr;
  Waiter* prev = nullptr;
  Waiter* next = nullptr;
  // The backend's own bookkeeping: its registry of parked fibers and timer.
  Waiter* registry_prev = nullptr;
  Waiter* registry_next = nullptr;
  std::uint64_t timer = 0;
  Instant deadline = kNever;  // as parked with: the simulator re-arms it if the node's clock drifts

  void unlink();  // leaves its WaitList, if any
};

enum class Wake : std::uint8_t { notified, timed_out };

class Runtime {
 public:
  virtual ~Runtime() = default;

  // --- time
  virtual Instant now() = 0;        // monotonic
  virtual WallTime wall_now() = 0;  // unix time; may be skewed, may step
  virtual void sleep(Duration d) = 0;

  // --- randomness: this core's engine
  virtual Prng& random() = 0;

  // --- tasks and cores
  virtual CoreId core_count() const = 0;
  virtual CoreId this_core() = 0;
  // Starts a fiber on this core.
  virtual void spawn(std::string_view name, Task fn) = 0;
  // Starts a fiber on `core` (the cross-core queue in the real runtime).
  virtual void spawn_on(CoreId core, std::string_view name, Task fn) = 0;
  // Runs a short, non-blocking `fn` on `core`, outside any fiber of ours:
  // used to hand results back (see run_on in runtime/future.h).
  virtual void post(CoreId core, Task fn) = 0;

  // --- waiting: the one blocking primitive under every other one
  // Suspends the calling fiber until unpark(w) or the deadline.
  // Throws Cancelled if the node stops or crashes meanwhile.
  virtual Wake park(Waiter& w, Instant deadline) = 0;

  // --- I/O
  virtual Network& net() = 0;
  virtual FileSystem& fs() = 0;

  // --- faults and observability
  // A fault point (FoundationDB semantics, see buggify.h): in simulation each
  // site is switched on for some runs and then fires with some probability,
  // and a firing is recorded in the trace; in the real runtime it is always
  // false. Components call buggify(rt, site).
  virtual bool buggify(const BuggifySite& site) = 0;
  // A sometimes assertion checked (sometimes.h): counted in simulation, ignored on the real
  // runtime. Components call sometimes(rt, site, cond) or reachable(rt, site).
  virtual void sometimes(const SometimesSite& site, bool held) = 0;
  // Whether checks too costly for production should run (FoundationDB's
  // "in simulation" asserts, TigerBeetle's verify mode): a walk of a whole
  // store after a change, say. True in the simulator, false on the real runtime.
  virtual bool expensive_checks() const { return false; }
  virtual void record(const Event& event) = 0;
};

// Wakes a fiber parked on this OS thread (a core). No effect if it already
// woke. The same for every backend: it only hands the fiber to the scheduler.
void unpark(Waiter& w);

}  // namespace doppel
