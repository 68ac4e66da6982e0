#include "components/dvv/store/ownership_handoff.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <vector>

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
  bool more = false;
  while (!stopping) {
    if (!more) rt_.sleep(config_.handoff_interval);
    const RingState& s = membership_.state();
    const auto awaiting = s.awaiting_handoff();
    if (std::find(awaiting.begin(), awaiting.end(), membership_.self()) != awaiting.end() &&
        transfer()) {
      if (changes_.report_handed_off().ok()) {
        sometimes(rt_, kTransferAfterRestart, restarted);
        restarted = false;
      }
    }
    more = release();
  }
}

std::vector<bool> OwnershipHandoff::deliver(std::shared_ptr<const Outgoing> items) {
  RepairBatches batches(rt_, peers_, replicas_, membership_.self(), config_.request_timeout);
  DeliveryCount count;
  std::vector<bool> arrived = batches.deliver(std::move(items), &count);
  objects_sent_ += count.objects;
  bytes_sent_ += count.bytes;
  return arrived;
}

bool OwnershipHandoff::transfer() {
  const RingState& s = membership_.state();
  if (s.next != transfer_next_) {
    transfer_next_ = s.next;
    transfer_partition_ = 0;
  }
  const std::uint32_t partitions = membership_.ring().partitions();
  std::uint64_t sent = 0;
  while (transfer_partition_ < partitions) {
    const std::uint32_t p = transfer_partition_;
    // One sender per partition, its owner: the other primaries hold the same keys, and what
    // only they hold reaches the newcomers through anti-entropy, or through the release when
    // they give the key up (riak_core hands off each vnode from its owner alone).
    if (membership_.ring().owner(p) != membership_.self()) {
      ++transfer_partition_;
      continue;
    }
    // Copied: the set changes while the repairs wait on the network.
    std::vector<ObjectKey> keys;
    if (const PartitionKeys* held = store_.log().keys_of(p)) {
      keys.reserve(held->size());
      for (const auto& [_, key] : *held) keys.push_back(key);
    }
    // kObjectsPerRound at a time: their objects are copied while they travel.
    for (std::size_t at = 0; at < keys.size(); at += kObjectsPerRound) {
      auto items = std::make_shared<Outgoing>();
      for (std::size_t i = at; i < std::min(keys.size(), at + kObjectsPerRound); ++i) {
        std::vector<NodeIndex> to = membership_.newcomers(p, props_.get(keys[i].bucket).n_val);
        if (to.empty()) continue;
        const Object* o = store_.visible(keys[i]);
        if (o == nullptr) continue;
        items->push_back(Delivery{keys[i], *o, std::move(to)});
      }
      sent += items->size();
      if (config_.bug_drop_before_handoff) continue;  // planted: nothing goes
      const std::vector<bool> arrived = deliver(items);
      // The partition is done once every copy of it arrived (a pass resumes from here); the
      // ring may have moved on while the repairs waited: this pass is for another one.
      if (std::find(arrived.begin(), arrived.end(), false) != arrived.end() ||
          membership_.state().next != transfer_next_) {
        return false;
      }
    }
    ++transfer_partition_;
  }
  if (sent > 0) {
    rt_.record(Event("DvvOwnershipTransfer")
                   .detail("node", membership_.self())
                   .detail("objects", sent)
                   .detail("partition", transfer_partition_));
  }
  return true;
}

bool OwnershipHandoff::release() {
  const NodeIndex self = membership_.self();
  const std::uint32_t partitions = membership_.ring().partitions();
  // Picked before anything is sent: the sets change while the copies travel. A node that
  // serves nearly all it holds walks its keys without copying them.
  auto picked = std::make_shared<Outgoing>();
  const std::set<std::uint32_t> n_vals = props_.n_vals();
  for (std::uint32_t p = 0; p < partitions && picked->size() < kObjectsPerRound; ++p) {
    const PartitionKeys* held = store_.log().keys_of(p);
    if (held == nullptr || membership_.serves_all(self, p, n_vals)) continue;
    for (const auto& [_, key] : *held) {
      const std::uint32_t n_val = props_.get(key.bucket).n_val;
      if (membership_.serves(self, p, n_val)) continue;
      const Object* o = store_.visible(key);
      if (o == nullptr) continue;
      std::vector<NodeIndex> to = membership_.ring().primaries(p, n_val);
      for (NodeIndex n : membership_.newcomers(p, n_val)) to.push_back(n);
      picked->push_back(Delivery{key, *o, std::move(to)});
      if (picked->size() == kObjectsPerRound) break;
    }
  }
  if (picked->empty()) return false;
  // Planted: dropped as if every copy arrived, none sent. Otherwise a copy that arrived is
  // durable there (the repairs message is answered once synced); a key whose copies did not
  // all arrive stays, for the next round.
  const std::vector<bool> arrived =
      config_.bug_drop_before_handoff ? std::vector<bool>(picked->size(), true) : deliver(picked);
  if (std::find(arrived.begin(), arrived.end(), true) == arrived.end()) return false;
  // A new name first (ReplicaStore::release): should a key come back here, its dots go on
  // under a name that never minted it.
  if (!store_.renew_id("released replicas").ok()) return false;  // the next round tries again
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < picked->size(); ++i) {
    if (!arrived[i]) continue;
    const Delivery& r = (*picked)[i];
    // Only if nothing newer arrived while the copies travelled, and the ring did not move the
    // key to a node they did not go to.
    auto gone = store_.release(r.key, r.object, r.to);
    if (gone && *gone) {
      ++dropped;
      reachable(rt_, kReleased);
    }
  }
  // The round's removals durable at once (ReplicaStore::release).
  if (dropped > 0 && !store_.log().sync().ok()) return false;
  // A whole round went: more may wait, and the loop goes on without a pause.
  return dropped == kObjectsPerRound;
}

}  // namespace doppel::dvv
