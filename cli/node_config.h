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
//   [kv]                     # the component's own settings, named after it
//   memory_mb = 64
//
// Unknown keys and bad values are errors naming the file, line and key.

#include <string>

#include "runtime/node.h"
#include "runtime/real/real_runtime.h"

namespace doppel::cli {

struct ServeConfig {
  NodeConfig node;
  real::RealOptions runtime;
  std::string path;
};

Result<ServeConfig> load_node_config(const std::string& path);

// The line of [component] key in the file, for messages (0 if unknown).
int setting_line(const std::string& path, const std::string& component, const std::string& key);

}  // namespace doppel::cli
