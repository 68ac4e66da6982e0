#pragma once
// A node: what boot() is given and what it returns. The simulator boots every
// simulated node (and boots it again after a crash) through the same
// function that `doppel serve` calls once.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/net.h"
#include "runtime/result.h"

namespace doppel {

class Runtime;

struct NodeConfig {
  std::string name;             // e.g. "n0"
  std::uint32_t node_id = 0;
  std::string component;        // "kv", "dvv", "dedup"
  Endpoint listen;              // where clients and peers reach this node
  std::vector<Endpoint> peers;  // the cluster, this node included, by node id
  // Component settings, as text; each component parses and validates its own
  // and names the offending key in its error.
  std::map<std::string, std::string> settings;
  // Test-only planted bug ("" = none). `doppel serve` rejects a config with one.
  std::string bug;

  std::optional<std::string> setting(std::string_view key) const;
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

using BootFn = Result<std::unique_ptr<Service>> (*)(Runtime& rt, const NodeConfig& config);

}  // namespace doppel
