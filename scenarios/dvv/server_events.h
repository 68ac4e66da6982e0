#pragma once
// What the servers' events tell the dvv oracles, as the world records them
// (World::set_observer): the bits the simulator flips in a log (pw-dw-durable,
// DiskPromises::corrupted), the rings servers take and the ids they renew
// (RingHistory: pw-dw-durable and clock-entries-bounded), and, for
// log-keeps-intact-records, the intact records of a server's log on its disk
// when it boots, which its replay must recover every one of; and, for
// handoff-before-release, the replicas servers give up.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/event.h"
#include "scenarios/dvv/disk_promises.h"
#include "scenarios/dvv/ring_history.h"
#include "sim/world.h"

namespace doppel::scenarios {

class ServerEvents {
 public:
  using Violated = std::function<void(std::string detail)>;

  // `promises` may be null (pw-dw-durable not asked); `intact_logs_violated` is called when a
  // replay recovered fewer records than were intact (null: not asked).
  ServerEvents(sim::World& world, std::vector<sim::NodeId> servers, DiskPromises* promises,
               RingHistory& rings, Violated intact_logs_violated)
      : world_(world),
        servers_(std::move(servers)),
        promises_(promises),
        rings_(rings),
        intact_logs_violated_(std::move(intact_logs_violated)) {}

  // Called when server `server` reports giving up its replica of `key` (DvvReleased), decided
  // under its ring of version `ring`.
  using Released =
      std::function<void(RingHistory::NodeIndex server, std::string key, std::uint64_t ring)>;
  void on_release(Released released) { released_ = std::move(released); }

  void observe(sim::NodeId node, const Event& e);

 private:
  // The server index of simulated node `node`, if it is one.
  std::optional<RingHistory::NodeIndex> server_index(sim::NodeId node) const;

  sim::World& world_;
  std::vector<sim::NodeId> servers_;
  DiskPromises* promises_;
  RingHistory& rings_;
  Violated intact_logs_violated_;
  Released released_;
  std::map<sim::NodeId, std::uint64_t> intact_at_boot_;
};

}  // namespace doppel::scenarios
