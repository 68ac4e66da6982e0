#include "properties/dvv/write_promises.h"

#include <optional>

namespace doppel::properties::dvv {
namespace {

// Whether a node's records (`bodies` and their `clock`) hold `value`, or a value written knowing
// it, or a clock that covers its dot (a tombstone or a value that superseded it, nameless or not).
bool holds(const CausalOracle& oracle, const std::string& value, const std::optional<Dot>& dot,
           const std::set<std::string>& bodies, const std::map<std::string, std::uint64_t>& clock) {
  if (bodies.count(value) != 0) return true;
  if (dot) {
    auto it = clock.find(dot->id);
    if (it != clock.end() && it->second >= dot->counter) return true;
  }
  for (const std::string& b : bodies) {
    if (oracle.superseded_by(value, b)) return true;
  }
  return false;
}

// The value's dot, as some node's record names it.
std::optional<Dot> dot_of(const std::string& value, const std::vector<NodeLog>& nodes) {
  for (const NodeLog& n : nodes) {
    for (const LoggedKey* k : {n.written, n.durable}) {
      if (k == nullptr) continue;
      auto it = k->dots.find(value);
      if (it != k->dots.end()) return it->second;
    }
  }
  return std::nullopt;
}

}  // namespace

bool holds_value(const CausalOracle& oracle, const std::string& value,
                 const std::optional<Dot>& dot, const LoggedKey* k) {
  return k != nullptr && (holds(oracle, value, dot, k->own_bodies, k->own_clock) ||
                          holds(oracle, value, dot, k->hint_bodies, k->hint_clock));
}

PromiseCount count_holders(const CausalOracle& oracle, const std::string& value,
                           const std::vector<NodeLog>& nodes) {
  const std::optional<Dot> dot = dot_of(value, nodes);
  PromiseCount c;
  for (const NodeLog& n : nodes) {
    c.written += holds_value(oracle, value, dot, n.written);
    c.primaries += n.primary && n.written != nullptr &&
                   holds(oracle, value, dot, n.written->own_bodies, n.written->own_clock);
    c.durable += holds_value(oracle, value, dot, n.durable);
  }
  return c;
}

std::string broken_promise(const WritePromise& p, const PromiseCount& c) {
  auto says = [](const char* name, std::uint32_t want, std::uint32_t got, const char* what) {
    return std::string(name) + "=" + std::to_string(want) + " but " + std::to_string(got) + " " +
           what;
  };
  if (c.written < p.w) return says("w", p.w, c.written, "nodes' logs hold it");
  if (c.primaries < p.pw) return says("pw", p.pw, c.primaries, "primaries hold it as a replica");
  if (c.durable < p.dw) return says("dw", p.dw, c.durable, "nodes hold it durably");
  return "";
}

}  // namespace doppel::properties::dvv
