#pragma once
// The dedup component (RevDedup) as a package: what a node needs to run it and
// what a client needs to talk to it.
//
//   settings.h   DedupSettings: typed, read from a node config's [dedup] table
//   dedup.h      boot(): one node, the same function for the simulator and serve
//   api/client.h DedupClient and api/uploader.h: the backup API from the client's side,
//                for drivers, doppel backup, the benches and the tests
//   format/ hash/ client/ store/ api/: the parts (see README.md)

#include <memory>

#include "components/dedup/settings.h"
#include "runtime/node.h"
#include "runtime/runtime.h"

namespace doppel::dedup {

// Boots one dedup node: the store (recovering what a crash left) and its HTTP API.
Result<std::unique_ptr<Service>> boot(Runtime& rt, const NodeConfig& node,
                                      const DedupSettings& settings);

}  // namespace doppel::dedup
