#include "properties/dvv/release_handoff.h"

#include <optional>

#include "properties/dvv/write_promises.h"

namespace doppel::properties::dvv {
namespace {

// The highest counter of `id` in what `k` holds, replica or hints.
std::uint64_t counter_of(const LoggedKey* k, const std::string& id) {
  if (k == nullptr) return 0;
  std::uint64_t out = 0;
  for (const auto* clock : {&k->own_clock, &k->hint_clock}) {
    auto it = clock->find(id);
    if (it != clock->end()) out = std::max(out, it->second);
  }
  return out;
}

}  // namespace

std::string unheld_release(const CausalOracle& oracle, const LoggedKey& released,
                           const std::vector<KeyHolder>& primaries) {
  for (const KeyHolder& p : primaries) {
    const std::string at = " is not durable at n" + std::to_string(p.node);
    for (const std::string& value : released.own_bodies) {
      std::optional<Dot> dot;
      if (auto it = released.dots.find(value); it != released.dots.end()) dot = it->second;
      if (!holds_value(oracle, value, dot, p.durable)) return "value " + value.substr(0, 24) + at;
    }
    for (const auto& [id, counter] : released.own_clock) {
      const std::uint64_t has = counter_of(p.durable, id);
      if (has < counter) {
        return "the causal past " + id + ":" + std::to_string(counter) + at + " (it has " +
               std::to_string(has) + ")";
      }
    }
  }
  return "";
}

}  // namespace doppel::properties::dvv
