#pragma once
// The runtime a component's node runs on, counting the events it records by name, per core:
// doppel_events_total{event="DvvReadRepair"}. The events the simulator's traces show are the
// ones a scrape counts, under the same names, with no counter kept by hand beside each one.
//
//   EventCountingRuntime counted(rt);      // outlives everything booted on it
//   auto node = std::make_unique<DvvNode>(counted, ...);
//   ... metrics::MetricSet m = counted.metrics();   // from a fiber of the node

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "components/metrics/metric_set.h"
#include "runtime/wrapper.h"

namespace doppel::metrics {

class EventCountingRuntime final : public RuntimeWrapper {
 public:
  // Event names are literals in the code, so their number is bounded; this is the bound.
  static constexpr std::size_t kNamesMax = 512;

  explicit EventCountingRuntime(Runtime& target);

  void record(const Event& event) override;

  // The counts summed over the cores. Call from a fiber of the node.
  MetricSet metrics();

 private:
  struct PerCore {
    std::map<std::string, std::uint64_t, std::less<>> by_name;
  };
  std::vector<PerCore> cores_;  // each touched only on its own core
};

}  // namespace doppel::metrics
