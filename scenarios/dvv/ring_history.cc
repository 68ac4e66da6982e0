#include "scenarios/dvv/ring_history.h"

#include <algorithm>

#include "components/dvv/store/checked_file.h"
#include "components/dvv/store/membership.h"
#include "runtime/assert.h"

namespace doppel::scenarios {

namespace {
// States kept: one per change a run's operator makes, far fewer than this.
constexpr std::size_t kStatesMax = 4096;
}  // namespace

RingHistory::RingHistory(std::uint32_t partitions, NodeIndex nodes, NodeIndex members)
    : ring_(partitions, 1),
      first_(doppel::dvv::RingState::initial(partitions, nodes, members).ring()),
      held_(nodes, 0),
      held_rings_(nodes, first_) {
  states_.emplace(0, doppel::dvv::RingState::initial(partitions, nodes, members));
}

void RingHistory::booted(NodeIndex node, const std::string* file) {
  DOPPEL_ASSERT(node < held_.size());
  if (file != nullptr) {
    auto bytes = doppel::dvv::checked_file_bytes(*file, doppel::dvv::Membership::kFile);
    if (bytes && doppel::dvv::decode_ring_state(*bytes)) return adopted(node, *file);
  }
  held_[node] = 0;
  held_rings_[node] = first_;
}

void RingHistory::adopted(NodeIndex node, std::string_view file) {
  auto bytes = doppel::dvv::checked_file_bytes(file, doppel::dvv::Membership::kFile);
  auto state = bytes ? doppel::dvv::decode_ring_state(*bytes)
                     : Result<doppel::dvv::RingState>(bytes.error());
  if (!state || node >= held_.size() || states_.size() >= kStatesMax) {
    complete_ = false;
    return;
  }
  held_[node] = state->version;
  held_rings_[node] = state->ring();
  const auto [first, last] = states_.equal_range(state->version);
  const bool known = std::any_of(first, last, [&](const auto& s) { return s.second == *state; });
  if (!known) states_.emplace(state->version, std::move(*state));
}

RingHistory::Mark RingHistory::mark() const {
  return *std::min_element(held_.begin(), held_.end());
}

std::set<RingHistory::NodeIndex> RingHistory::primaries_since(Mark since, std::uint32_t partition,
                                                              std::uint32_t n_val) const {
  std::set<NodeIndex> out;
  for (auto it = states_.lower_bound(since); it != states_.end(); ++it) {
    for (const doppel::dvv::Ring& r : {it->second.ring(), it->second.next_ring()}) {
      for (NodeIndex n : r.primaries(partition, n_val)) out.insert(n);
    }
  }
  return out;
}

std::set<RingHistory::NodeIndex> RingHistory::primaries_held(NodeIndex node,
                                                             std::uint32_t partition,
                                                             std::uint32_t n_val) const {
  DOPPEL_ASSERT(node < held_rings_.size());
  const std::vector<NodeIndex> p = held_rings_[node].primaries(partition, n_val);
  return {p.begin(), p.end()};
}

std::uint32_t RingHistory::renewals(NodeIndex node) const {
  const auto it = renewals_.find(node);
  return it == renewals_.end() ? 0 : it->second;
}

}  // namespace doppel::scenarios
