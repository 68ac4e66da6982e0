#include "components/metrics/event_counter.h"

#include "runtime/future.h"

namespace doppel::metrics {

EventCountingRuntime::EventCountingRuntime(Runtime& target)
    : RuntimeWrapper(target), cores_(target.core_count()) {}

void EventCountingRuntime::record(const Event& event) {
  const CoreId core = this_core();
  DOPPEL_ASSERT_MSG(core < cores_.size(), "an event recorded off the node's cores");
  auto& names = cores_[core].by_name;
  auto it = names.find(event.name());
  if (it != names.end()) {
    ++it->second;
  } else if (names.size() < kNamesMax) {
    names.emplace(std::string(event.name()), 1);
  }
  RuntimeWrapper::record(event);
}

MetricSet EventCountingRuntime::metrics() {
  MetricSet all;
  for (CoreId c = 0; c < cores_.size(); ++c) {
    auto one = run_on(*this, c, [this, c] {
                 MetricSet m;
                 for (const auto& [name, n] : cores_[c].by_name) {
                   m.add("doppel_events_total",
                         "Events recorded, by name (the names the simulator's traces show).",
                         static_cast<double>(n), {{"event", name}});
                 }
                 return m;
               }).get();
    if (one) all.merge(*one);
  }
  return all;
}

}  // namespace doppel::metrics
