#pragma once
// What the simulator's parts -- the network, the disks, the scheduler, each
// node's runtime -- see of the world they are part of. Not the World: only
// its virtual clock, its agenda, the ambient faults of the run, and where
// trace events and coverage probes go. The World owns these and hands each
// part a SimContext (and the random stream that part draws from), so a part
// cannot reach another part, or the nodes, except through what it is given.

#include "runtime/assert.h"
#include "runtime/event.h"
#include "runtime/time.h"
#include "sim/coverage.h"
#include "sim/event_queue.h"
#include "sim/fault_plan.h"
#include "sim/scheduler.h"

namespace doppel::sim {

// The world's virtual time. Only the event loop moves it, and only forward:
// to the time of the event it runs next.
class VirtualClock {
 public:
  Instant now() const { return now_; }
  void advance_to(Instant t) {
    DOPPEL_ASSERT(t >= now_);
    now_ = t;
  }

 private:
  Instant now_ = instant_ns(0);
};

// Where trace events go. The World implements it: an event is traced, counts
// as a coverage probe, fails the run if it is an error, and is shown to the
// scenario driver's observer.
class EventRecorder {
 public:
  virtual void record(NodeId node, CoreId core, const Event& event) = 0;

 protected:
  ~EventRecorder() = default;
};

// A bundle of references into the World, cheap to copy; valid as long as the
// World is.
struct SimContext {
  const VirtualClock& clock;
  EventQueue& agenda;
  EventRecorder& recorder;
  Coverage& coverage;
  // The faults switched on for the fault phase; all off once it ends.
  const AmbientFaults& ambient;

  Instant now() const { return clock.now(); }
  // An event of the simulator itself (not of a node's fibers).
  void record(const Event& event) const { recorder.record(kNoNode, 0, event); }
};

}  // namespace doppel::sim
