#include "properties/dvv/causal_history.h"

#include "runtime/assert.h"

namespace doppel::properties::dvv {

ValueId CausalHistory::write(std::vector<ValueId> observed) {
  DOPPEL_ASSERT_MSG(parents_.size() < kValuesMax, "too many writes for the causal history");
  const ValueId id = parents_.size() + 1;
  std::erase_if(observed, [&](ValueId p) { return p == 0; });
  for (ValueId p : observed) DOPPEL_ASSERT_MSG(p < id, "a write saw a value written after it");
  parents_.push_back(std::move(observed));
  visited_.push_back(0);
  return id;
}

std::optional<bool> CausalHistory::in_past(ValueId a, ValueId b) const {
  if (!known(a) || !known(b) || a >= b) return false;
  stack_.assign(parents_[b - 1].begin(), parents_[b - 1].end());
  std::optional<bool> verdict = false;
  while (!stack_.empty()) {
    const ValueId x = stack_.back();
    stack_.pop_back();
    if (x == a) {
      verdict = true;
      break;
    }
    if (x < a || visited_[x - 1] != 0) continue;  // older than a: cannot lead to it
    if (touched_.size() >= visits_max_) {
      verdict = std::nullopt;
      break;
    }
    visited_[x - 1] = 1;
    touched_.push_back(x);
    for (ValueId p : parents_[x - 1]) stack_.push_back(p);
  }
  for (ValueId x : touched_) visited_[x - 1] = 0;
  touched_.clear();
  return verdict;
}

}  // namespace doppel::properties::dvv
