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
  // kv: every verb (generate_kv.cc): uniques, expiry on a clock off by up to
  // clock_error_ns, flags, noreply, items over item_bytes_max, flush_all.
  bool full_kv = false;
  std::int64_t clock_error_ns = 0;
  std::uint32_t item_bytes_max = 80;  // with headers of up to 21 bytes
  bool flush = true;
};

struct Generated {
  History history;
  std::vector<std::size_t> reads;  // the ok completions of get / read
  std::size_t distinct_keys = 0;   // of operations that did not fail
};

Generated generate(const GenerateOptions& options);
Generated generate_kv(const GenerateOptions& options);  // full_kv

// The history with record `index` holding `value` instead.
History with_value(const History& h, std::size_t index, const Value& value);
// The history without the operation invoked at `invocation` (and its completion).
History without(const History& h, std::size_t invocation);

}  // namespace doppel::properties::testing
