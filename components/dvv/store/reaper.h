#pragma once
// Tombstone reaping. A DELETE writes a tombstone like a PUT; once a GET saw
// every primary answer a tombstone, or a DELETE was acked by n_val
// replicas, the reaper waits reap_delay, reads every primary again, and only
// if each still holds exactly that tombstone asks each to drop it (each
// drops it only if it still holds exactly it: see ReplicaStore::reap).

#include "components/dvv/clock/object_clock.h"
#include "components/dvv/settings.h"
#include "components/dvv/store/object_log.h"
#include "components/dvv/store/props_table.h"
#include "components/dvv/store/replica_client.h"
#include "components/dvv/store/ring.h"
#include "runtime/runtime.h"

namespace doppel::dvv {

class Reaper {
 public:
  Reaper(Runtime& rt, const DvvSettings& config, const Ring& ring, const PropsTable& props,
         ReplicaClient& replicas);
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;

  // In a fiber of its own: returns at once.
  void schedule(const ObjectKey& key, const Object& tombstone);

 private:
  void reap(const ObjectKey& key, const Object& tombstone);

  Runtime& rt_;
  const DvvSettings& config_;
  const Ring& ring_;
  const PropsTable& props_;
  ReplicaClient& replicas_;
};

}  // namespace doppel::dvv
