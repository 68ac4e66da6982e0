#pragma once
// Node config files (configs/*.toml), as `doppel serve` reads them:
//
//   [node]
//   name = "kv-0"
//   component = "kv"
//   listen = "127.0.0.1:11211"
//   data_dir = "/var/lib/doppel/kv-0"
//   cores = 2
//   pin = true
//   backend = "epoll"        # or "uring"
//   peers = ["127.0.0.1:8001", ...]   # the cluster by node id, for replicated components
//   node_id = 0
//
//   [kv]                     # the component's own settings, named after it: read by the
//   memory_mb = 64           # component's package into its typed settings (settings.h)
//
// Unknown keys and bad values are errors naming the file, line and key.

#include <toml++/toml.h>

#include <string>

#include "components/registry.h"
#include "runtime/node.h"
#include "runtime/real/real_runtime.h"

namespace doppel::cli {

struct ServeConfig {
  NodeConfig node;
  real::RealOptions runtime;
  std::string path;
  // The whole file, for the component's package to read its table (configure_boot). Kept
  // whole because a copy of a toml++ table loses its source positions (the lines in errors).
  toml::table file;
};

// `components`: the ones this binary can serve.
Result<ServeConfig> load_node_config(const std::string& path, const ComponentRegistry& components);

// The component's typed settings read from the config, bound into the node's boot. Call after
// any override of the node part (--listen). Errors name the file, line and key.
Result<NodeBoot> configure_boot(const ServeConfig& config, const ComponentRegistry& components);

}  // namespace doppel::cli
