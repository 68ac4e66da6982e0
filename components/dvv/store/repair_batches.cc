#include "components/dvv/store/repair_batches.h"

#include <algorithm>
#include <map>
#include <string>

#include "components/dvv/store/messages.h"
#include "components/dvv/store/send_window.h"
#include "runtime/assert.h"

namespace doppel::dvv {

static_assert(RepairBatches::kBatchObjects <= kRepairsMax, "a batch is one repairs message");

std::vector<bool> RepairBatches::deliver(std::shared_ptr<const std::vector<Delivery>> items,
                                         DeliveryCount* count) {
  // Shared with the sends: a crash may unwind this first.
  struct Progress {
    std::vector<std::uint32_t> missing;  // by item: nodes yet to take it
    DeliveryCount count;
  };
  auto progress = std::make_shared<Progress>();
  progress->missing.assign(items->size(), 0);
  std::map<NodeIndex, std::vector<std::size_t>> by_node;
  for (std::size_t i = 0; i < items->size(); ++i) {
    for (NodeIndex n : (*items)[i].to) {
      by_node[n].push_back(i);
      ++progress->missing[i];
    }
  }
  SendWindow window(rt_, kBatchesInFlight);
  for (const auto& [n, all] : by_node) {
    if (n == self_) {
      // This node's own replica: taken, then synced, like a peer's batch.
      std::size_t took = 0;
      for (std::size_t i : all) {
        const Delivery& d = (*items)[i];
        if (!replicas_.repair(self_, d.key, d.object, timeout_)) continue;
        --progress->missing[i];
        ++took;
      }
      if (took > 0 && !replicas_.sync(self_, timeout_)) {
        // Taken but not durable here: none of them counts.
        for (std::size_t i : all) progress->missing[i] = std::max(1u, progress->missing[i]);
      }
      continue;
    }
    if (!peers_.up(n)) continue;  // its items stay missing, for the next round
    for (std::size_t next = 0; next < all.size();) {
      std::vector<std::size_t> batch;
      std::vector<std::string> encoded;
      std::size_t bytes = 0;
      while (next < all.size() && batch.size() < kBatchObjects) {
        const Delivery& d = (*items)[all[next]];
        std::string one = encode_keyed_object(d.key, d.object);
        // Never past kBatchBytes but for an object alone: a frame holds one whole record.
        if (!batch.empty() && bytes + one.size() > kBatchBytes) break;
        bytes += one.size();
        encoded.push_back(std::move(one));
        batch.push_back(all[next++]);
      }
      // The replica takes a batch a few objects at a time and syncs once: a large batch needs
      // more time than one object does.
      const Duration timeout = timeout_ * static_cast<std::int64_t>(1 + batch.size() / 32);
      window.start([this, node = n, progress, timeout, batch = std::move(batch),
                    encoded = std::move(encoded)] {
        auto taken = replicas_.repairs(node, encoded, timeout);
        if (!taken) return false;
        for (std::size_t j = 0; j < batch.size(); ++j) {
          if (!(*taken)[j]) continue;
          --progress->missing[batch[j]];
          ++progress->count.objects;
          progress->count.bytes += encoded[j].size();
        }
        return true;
      });
    }
  }
  (void)window.wait();
  if (count != nullptr) {
    count->objects += progress->count.objects;
    count->bytes += progress->count.bytes;
  }
  std::vector<bool> arrived(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) arrived[i] = progress->missing[i] == 0;
  return arrived;
}

}  // namespace doppel::dvv
