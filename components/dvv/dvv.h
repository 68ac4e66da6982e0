#pragma once
// The DVV component (a Riak-style store with Dotted Version Vectors) as a
// package: what a node needs to run it and what a client needs to talk to it.
//
//   settings.h  DvvSettings: typed, read from a node config's [dvv] table
//   dvv.h       boot(): one node with its HTTP API, for the simulator and serve
//   client/     Riak's HTTP API from the client's side: vclocks, siblings, quorums
//   clock/ store/ api/: the parts (see README.md)

#include <memory>

#include "components/dvv/settings.h"
#include "runtime/node.h"
#include "runtime/runtime.h"

namespace doppel::dvv {

// Boots one DVV node: its store (recovering the object log) and its HTTP API.
Result<std::unique_ptr<Service>> boot(Runtime& rt, const NodeConfig& node,
                                      const DvvSettings& settings);

}  // namespace doppel::dvv
