#include "scenarios/dvv/clock_judge.h"

#include <algorithm>

#include "properties/dvv/clock_size.h"

namespace doppel::scenarios {

std::optional<std::string> ClockJudge::judge(const std::string& bucket, const std::string& key,
                                             std::string_view vclock) {
  auto size = properties::dvv::measure_context(vclock, kind_);
  if (!size) return "a causal context that does not decode: " + size.error().message();
  max_entries_ = std::max<std::uint64_t>(max_entries_, size->entries);
  if (kind_ != doppel::dvv::ClockKind::dvvset) return std::nullopt;
  if (rings_.changed() && !rings_.complete()) return std::nullopt;  // bounds not known
  const std::size_t nodes_max =
      rings_.changed() ? rings_.ever_primaries(rings_.partition_of(bucket, key), n_val_).size()
                       : n_val_;
  return properties::dvv::dvvset_ids_beyond_bound(
      size->ids, nodes_max, [this](std::size_t node) -> std::optional<std::uint32_t> {
        if (node >= servers_.size()) return std::nullopt;
        return world_.boots(servers_[node]) +
               rings_.renewals(static_cast<RingHistory::NodeIndex>(node));
      });
}

}  // namespace doppel::scenarios
