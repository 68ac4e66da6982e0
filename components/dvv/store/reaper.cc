#include "components/dvv/store/reaper.h"

#include <algorithm>

#include "runtime/assert.h"

namespace doppel::dvv {

using namespace std::chrono_literals;

namespace {

// BUGGIFY (runtime/buggify.h): a write may reach a primary after the check.
const BuggifySite kSlowReap{
    "dvv.reaper.slow_reap",
    "the reaper waits up to 1 s between checking the primaries and reaping"};

}  // namespace

Reaper::Reaper(Runtime& rt, const DvvSettings& config, const Ring& ring, const PropsTable& props,
               ReplicaClient& replicas)
    : rt_(rt), config_(config), ring_(ring), props_(props), replicas_(replicas) {}

void Reaper::schedule(const ObjectKey& key, const Object& tombstone) {
  rt_.spawn("dvv-reap", [this, key, tombstone] { reap(key, tombstone); });
}

void Reaper::reap(const ObjectKey& key, const Object& tombstone) {
  rt_.sleep(config_.reap_delay);
  const BucketProps p = props_.get(key.bucket);
  // Every primary must still hold exactly this tombstone; otherwise keep it.
  const auto primaries = ring_.primaries(ring_.partition_of(key.bucket, key.key), p.n_val);
  DOPPEL_ASSERT(!primaries.empty());
  std::size_t holding = 0;
  for (NodeIndex n : primaries) {
    auto o = replicas_.read(n, key, config_.request_timeout);
    if (!o || !(*o == tombstone)) return;
    ++holding;
  }
  // A tombstone is reaped only when every primary holds exactly it.
  DOPPEL_ASSERT(holding == primaries.size());
  (void)buggify_sleep(rt_, kSlowReap, 1s);
  // Every other node first drops the hints of the key the tombstone
  // supersedes: handed off after the reap, one would bring the deleted value
  // back (ReplicaStore::reap). A node that holds a newer hint, or does not
  // answer, keeps the tombstone where it is.
  for (NodeIndex n = 0; n < replicas_.nodes(); ++n) {
    if (std::find(primaries.begin(), primaries.end(), n) != primaries.end()) continue;
    auto dropped = replicas_.reap(n, key, tombstone, config_.request_timeout);
    if (!dropped || !*dropped) return;
  }
  for (NodeIndex n : primaries) (void)replicas_.reap(n, key, tombstone, config_.request_timeout);
  rt_.record(Event("DvvTombstoneReaped", Severity::debug).detail("key", key.key));
}

}  // namespace doppel::dvv
