#pragma once
// The shipped components, by name: what `doppel serve` and the benches need to
// run a node, below the simulator's scenario layer (which keeps its own table
// of drivers, scenarios/scenario.h, and looks components up here).

#include <toml++/toml.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/toml.h"
#include "runtime/node.h"
#include "runtime/result.h"

namespace doppel {

struct ComponentPackage {
  std::string name;
  // Reads the component's table of a node config ([kv], [dvv], [dedup]) into its typed
  // settings and returns the node's boot with them bound. Errors name `source`, the line and
  // the key. The node part (name, listen, peers) is checked here too. `files` reads the files
  // the settings name (users, secrets).
  Result<NodeBoot> (*configure)(const NodeConfig& node, const toml::table& settings,
                                std::string_view source, const FileReader& files);
};

class ComponentRegistry {
 public:
  void add(ComponentPackage package);  // names are unique
  // nullptr if there is no component of that name.
  const ComponentPackage* find(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  std::vector<ComponentPackage> packages_;
};

// kv, dvv and dedup: what build/doppel serves.
ComponentRegistry shipped_components();

}  // namespace doppel
