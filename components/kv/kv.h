#pragma once
// The KV component (Sphinx) as a package: what a node needs to run it and what
// a client needs to talk to it.
//
//   settings.h  KvSettings: typed, read from a node config's [kv] table
//   kv.h        boot(): one node, the same function for the simulator and serve
//   client/     the memcached text protocol, for drivers, benches and tests
//   protocol/, store/, server/: the parts (see README.md)

#include <memory>

#include "components/kv/settings.h"
#include "runtime/node.h"
#include "runtime/runtime.h"

namespace doppel::kv {

// Boots one KV node: a shard and a listener on every core of `rt`.
Result<std::unique_ptr<Service>> boot(Runtime& rt, const NodeConfig& node,
                                      const KvSettings& settings);

}  // namespace doppel::kv
