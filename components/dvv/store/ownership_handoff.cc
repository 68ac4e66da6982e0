#include "components/dvv/store/ownership_handoff.h"

#include <algorithm>
#include <set>
#include <vector>

#include "components/dvv/store/send_window.h"
#include "runtime/assert.h"

namespace doppel::dvv {

namespace {

// A transfer that reached every newcomer after a restart (the pass starts over after a
// crash, from the first partition).
const SometimesSite kTransferAfterRestart{
    "dvv.membership.transfer_after_restart",
    "a node hands off a transition it had begun before a restart"};
const SometimesSite kReleased{"dvv.membership.released",
                              "a node dropped a key it no longer owns after sending it"};

}  // namespace

OwnershipHandoff::OwnershipHandoff(Runtime& rt, const DvvSettings& config, Membership& membership,
                                   ClusterChanges& changes, Peers& peers, const PropsTable& props,
                                   ReplicaStore& store, ReplicaClient& replicas)
    : rt_(rt),
      config_(config),
      membership_(membership),
      changes_(changes),
      peers_(peers),
      props_(props),
      store_(store),
      replicas_(replicas) {}

void OwnershipHandoff::loop(const bool& stopping) {
  bool restarted = store_.log().objects() > 0;
  while (!stopping) {
    rt_.sleep(config_.handoff_interval);
    const RingState& s = membership_.state();
    const auto awaiting = s.awaiting_handoff();
    if (std::find(awaiting.begin(), awaiting.end(), membership_.self()) != awaiting.end() &&
        transfer()) {
      if (changes_.report_handed_off().ok()) {
        sometimes(rt_, kTransferAfterRestart, restarted);
        restarted = false;
      }
    }
    release();
  }
}

bool OwnershipHandoff::send(const ObjectKey& key, const Object& object,
                            const std::vector<NodeIndex>& to) {
  for (NodeIndex n : to) {
    if (n == membership_.self()) continue;
    if (!peers_.up(n)) return false;
    if (!replicas_.repair(n, key, object, config_.request_timeout)) return false;
    ++objects_sent_;
    bytes_sent_ += key.bucket.size() + key.key.size() + encode_object(object).size();
  }
  return true;
}

bool OwnershipHandoff::transfer() {
  const RingState& s = membership_.state();
  if (s.next != transfer_next_) {
    transfer_next_ = s.next;
    transfer_partition_ = 0;
  }
  std::size_t budget = kObjectsPerRound;
  const std::uint32_t partitions = membership_.ring().partitions();
  std::uint64_t sent = 0;
  SendWindow window(rt_, kSendsInFlight);
  while (transfer_partition_ < partitions && budget > 0) {
    const std::uint32_t p = transfer_partition_;
    // One sender per partition, its owner: the other primaries hold the same keys, and what
    // only they hold reaches the newcomers through anti-entropy, or through the release when
    // they give the key up (riak_core hands off each vnode from its owner alone).
    if (membership_.ring().owner(p) != membership_.self()) {
      ++transfer_partition_;
      continue;
    }
    const std::set<ObjectKey>* held = store_.log().keys_of(p);
    // Copied: the set changes while the repairs wait on the network.
    const std::vector<ObjectKey> keys =
        held ? std::vector<ObjectKey>(held->begin(), held->end()) : std::vector<ObjectKey>{};
    for (const ObjectKey& key : keys) {
      const std::vector<NodeIndex> to = membership_.newcomers(p, props_.get(key.bucket).n_val);
      if (to.empty()) continue;
      const Object* o = store_.visible(key);
      if (o == nullptr) continue;
      if (!config_.bug_drop_before_handoff) {
        window.start([this, key, object = *o, to] { return send(key, object, to); });
      }
      ++sent;
      budget -= std::min<std::size_t>(budget, 1);
      // The ring may have moved on while the repairs waited: this pass is for another one.
      if (window.failed() || membership_.state().next != transfer_next_) {
        (void)window.wait();
        return false;
      }
    }
    // The partition is done once every copy of it arrived (a pass resumes from here).
    if (!window.wait() || membership_.state().next != transfer_next_) return false;
    ++transfer_partition_;
  }
  if (sent > 0) {
    rt_.record(Event("DvvOwnershipTransfer")
                   .detail("node", membership_.self())
                   .detail("objects", sent)
                   .detail("partition", transfer_partition_));
  }
  return transfer_partition_ >= partitions;
}

void OwnershipHandoff::release() {
  const NodeIndex self = membership_.self();
  const std::uint32_t partitions = membership_.ring().partitions();
  // Picked before anything is sent: the sets change while the copies travel. A node that
  // serves nearly all it holds walks its keys without copying them.
  struct Release {
    ObjectKey key;
    Object object;
    std::vector<NodeIndex> to;  // the key's primaries and newcomers when it left
    bool arrived = false;
  };
  auto picked = std::make_shared<std::vector<Release>>();
  for (std::uint32_t p = 0; p < partitions && picked->size() < kObjectsPerRound; ++p) {
    const std::set<ObjectKey>* held = store_.log().keys_of(p);
    if (held == nullptr) continue;
    for (const ObjectKey& key : *held) {
      const std::uint32_t n_val = props_.get(key.bucket).n_val;
      if (membership_.serves(self, p, n_val)) continue;
      const Object* o = store_.visible(key);
      if (o == nullptr) continue;
      std::vector<NodeIndex> to = membership_.ring().primaries(p, n_val);
      for (NodeIndex n : membership_.newcomers(p, n_val)) to.push_back(n);
      picked->push_back(Release{key, *o, std::move(to)});
      if (picked->size() == kObjectsPerRound) break;
    }
  }
  if (picked->empty()) return;
  auto reached = std::make_shared<std::set<NodeIndex>>();
  SendWindow window(rt_, kSendsInFlight);
  for (std::size_t i = 0; i < picked->size(); ++i) {
    window.start([this, picked, reached, i] {
      Release& r = (*picked)[i];
      if (!config_.bug_drop_before_handoff) {
        if (!send(r.key, r.object, r.to)) return false;
        reached->insert(r.to.begin(), r.to.end());
      }
      r.arrived = true;
      return true;
    });
  }
  (void)window.wait();  // a key whose copies did not all arrive stays, for the next round
  // Durable where they went before they are dropped here (a repair is answered before its
  // record is synced).
  for (NodeIndex n : *reached) {
    if (!replicas_.sync(n, config_.request_timeout)) return;  // the next round sends again
  }
  if (std::none_of(picked->begin(), picked->end(), [](const Release& r) { return r.arrived; }))
    return;
  // A new name first (ReplicaStore::release): should a key come back here, its dots go on
  // under a name that never minted it.
  if (!store_.renew_id("released replicas").ok()) return;  // the next round tries again
  for (const Release& r : *picked) {
    if (!r.arrived) continue;
    // Only if nothing newer arrived while the copies travelled, and the ring did not move the
    // key to a node they did not go to.
    auto dropped = store_.release(r.key, r.object, r.to);
    if (dropped && *dropped) {
      reachable(rt_, kReleased);
      rt_.record(
          Event("DvvReleased", Severity::debug).detail("node", self).detail("key", r.key.key));
    }
  }
}

}  // namespace doppel::dvv
