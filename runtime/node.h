#pragma once
// A node: what boot() is given and what it returns. The simulator boots every
// simulated node (and boots it again after a crash) through the same
// function that `doppel serve` calls once.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/net.h"
#include "runtime/result.h"

namespace doppel {

class Runtime;

struct NodeConfig {
  std::string name;  // e.g. "n0"
  std::uint32_t node_id = 0;
  std::string component;        // "kv", "dvv", "dedup"
  Endpoint listen;              // where clients and peers reach this node
  std::vector<Endpoint> peers;  // the cluster, this node included, by node id
  // The component's own settings are typed, its own struct (components/<name>/settings.h),
  // handed to its boot() beside this.
};

// What a booted component hands back: it owns the node's state. Destroyed
// after every fiber of the node has ended (after a crash, or after stop()).
class Service {
 public:
  virtual ~Service() = default;
  // Graceful stop: stop accepting, finish or fail in-flight work, sync.
  // Called in a fiber of the node; returns when the node may be destroyed.
  virtual void stop() {}
};

// One node's boot, its settings bound: what the simulator calls for a node (and again after a
// crash) and `doppel serve` calls once.
using NodeBoot = std::function<Result<std::unique_ptr<Service>>(Runtime& rt)>;

}  // namespace doppel
