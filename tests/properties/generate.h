#pragma once
// Test histories that are linearizable by construction: clients run
// operations on an in-memory store, each taking effect at one instant (its
// linearization point) strictly inside its interval, with random latencies so
// that intervals overlap. Some operations fail (no effect), some end in info
// (effect or not, at random, and the process is retired as Jepsen does). For
// kv a "node" process also evicts keys and restarts (emptying every key).

#include <cstdint>
#include <vector>

#include "properties/history/history.h"
#include "properties/linearizability/model.h"

namespace doppel::properties::testing {

struct GenerateOptions {
  linearizability::ModelKind model = linearizability::ModelKind::kv;
  std::uint64_t seed = 0;
  std::size_t operations = 200;  // client invocations
  int processes = 5;
  int keys = 4;
  int info_permille = 10;
  int fail_permille = 10;
  bool node_faults = true;  // kv: evictions and restarts
};

struct Generated {
  History history;
  std::vector<std::size_t> reads;  // the ok completions of get / read
  std::size_t distinct_keys = 0;   // of operations that did not fail
};

Generated generate(const GenerateOptions& options);

// The history with record `index` holding `value` instead.
History with_value(const History& h, std::size_t index, const Value& value);
// The history without the operation invoked at `invocation` (and its completion).
History without(const History& h, std::size_t invocation);

}  // namespace doppel::properties::testing
