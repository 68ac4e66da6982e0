#include "components/dvv/store/handoff.h"

#include <set>
#include <utility>
#include <vector>

#include "components/dvv/store/repair_batches.h"
#include "runtime/assert.h"

namespace doppel::dvv {

using namespace std::chrono_literals;

namespace {

// BUGGIFY sites of hinted handoff (runtime/buggify.h).
const BuggifySite kCompactNow{"dvv.handoff.compact_now",
                              "the log is compacted now, whatever its sizes"};
const BuggifySite kSlowHandoff{"dvv.handoff.slow_handoff",
                               "a hint is dropped up to 1 s after its primary took it"};
// Hints outlive a crash: the log keeps them, and the node hands them off after it restarts.
// A hint outlives its target's ownership: the ring moved the key elsewhere.
const SometimesSite kHintRetargeted{"dvv.handoff.hint_retargeted",
                                    "a hint went to the key's owners now, not the node it was for"};
const SometimesSite kReplayedHintHandedOff{
    "dvv.handoff.replayed_hint", "a hint handed off was read back from the log after a restart"};

}  // namespace

Handoff::Handoff(Runtime& rt, const DvvSettings& config, NodeIndex self, Peers& peers,
                 ReplicaStore& store, ReplicaClient& replicas, const Membership& membership,
                 const PropsTable& props)
    : rt_(rt),
      config_(config),
      self_(self),
      peers_(peers),
      store_(store),
      replicas_(replicas),
      membership_(membership),
      props_(props) {}

void Handoff::loop(const bool& stopping) {
  while (!stopping) {
    rt_.sleep(config_.handoff_interval);
    if (config_.bug_no_repair) continue;  // planted: hints are kept, never handed off
    for (NodeIndex target : store_.log().hint_targets()) hand_off(target);
    (void)store_.log().maybe_compact(buggify(rt_, kCompactNow));
  }
}

void Handoff::hand_off(NodeIndex target) {
  // Hints are for the primaries a fallback stood in for, never for itself.
  DOPPEL_ASSERT(target != self_);
  if (!peers_.up(target)) return;
  ObjectLog& log = store_.log();
  const auto* hints = log.hints_for(target);
  if (hints == nullptr) return;
  // Copied: the map changes as hints are handed off.
  auto batch = std::make_shared<std::vector<Delivery>>();
  for (const auto& [k, s] : *hints) {
    const std::uint32_t p = membership_.ring().partition_of(k.bucket, k.key);
    const std::uint32_t n_val = props_.get(k.bucket).n_val;
    std::vector<NodeIndex> to{target};
    if (!membership_.serves(target, p, n_val)) {
      to = membership_.ring().primaries(p, n_val);
      for (NodeIndex n : membership_.newcomers(p, n_val)) to.push_back(n);
      reachable(rt_, kHintRetargeted);
    }
    batch->push_back(Delivery{k, s.object, std::move(to)});
    if (batch->size() >= kHandoffBatchMax) break;
  }
  DOPPEL_ASSERT(!batch->empty());  // the log keeps no empty hint map
  DOPPEL_ASSERT(batch->size() <= kHandoffBatchMax);
  // Sent first, the hints handed off are dropped only once durable where they went: a crash
  // there would lose the only copy.
  RepairBatches batches(rt_, peers_, replicas_, self_, config_.request_timeout);
  const std::vector<bool> arrived = batches.deliver(batch);
  for (std::size_t i = 0; i < batch->size(); ++i) {
    if (!arrived[i]) continue;
    const ObjectKey& key = (*batch)[i].key;
    const Object& object = (*batch)[i].object;
    // A newer hint may arrive meanwhile, and must not be dropped with this one.
    (void)buggify_sleep(rt_, kSlowHandoff, 1s);
    // Only if nothing newer arrived meanwhile.
    const auto* now_held = log.hints_for(target);
    if (now_held == nullptr) return;
    auto it = now_held->find(key);
    if (it != now_held->end() && it->second.object == object) {
      sometimes(rt_, kReplayedHintHandedOff, it->second.replayed);
      (void)log.remove_hint(target, key);
      rt_.record(Event("DvvHandoff").detail("to", target).detail("key", key.key));
    }
  }
}

}  // namespace doppel::dvv
