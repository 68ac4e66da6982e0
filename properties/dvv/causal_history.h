#pragma once
// The exact causal order of a run's writes, against which a replicated store's
// answers are judged (the one implementation: scenario drivers, doppel bench
// dvv and the clock tests all use it).
//
// Every value written gets an id, from 1 in write order, and names the values
// its writer had seen (the siblings of the read whose context it sent). It
// then supersedes those and, transitively, everything they superseded; a blind
// write supersedes nothing. A writer sees only values written before it, so a
// value's past holds only smaller ids, which bounds every search.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace doppel::properties::dvv {

using ValueId = std::uint64_t;

class CausalHistory {
 public:
  static constexpr std::size_t kValuesMax = 64u << 20;

  // visits_max bounds one ancestry search (how many values it may walk).
  explicit CausalHistory(std::size_t visits_max = 1u << 20) : visits_max_(visits_max) {}

  // A write whose writer had seen `observed` (ids of earlier values; 0s are skipped).
  ValueId write(std::vector<ValueId> observed);
  bool known(ValueId id) const { return id >= 1 && id <= parents_.size(); }
  std::size_t size() const { return parents_.size(); }

  // Whether `a` is in `b`'s causal past (b was written knowing a); nullopt if the search
  // walked visits_max values without deciding.
  std::optional<bool> in_past(ValueId a, ValueId b) const;

 private:
  std::size_t visits_max_;
  std::vector<std::vector<ValueId>> parents_;  // by id - 1
  mutable std::vector<ValueId> stack_;
  mutable std::vector<std::uint8_t> visited_;  // by id - 1, cleared after each search
  mutable std::vector<ValueId> touched_;
};

}  // namespace doppel::properties::dvv
