#pragma once
// A simulated node's component settings come from the text a node config's
// [<component>] table would hold (doppel serve), read by the component's own
// Settings::read: the simulated node boots the way a deployed one does, so a
// setting read wrong is a bug the swarm finds, and a scenario's node settings
// are checked as strictly as a user's config is.

#include <string>
#include <string_view>

#include "base/toml.h"
#include "runtime/result.h"

namespace doppel::scenarios {

template <class Settings>
Result<Settings> read_node_settings(std::string_view component, std::string_view table_text) {
  const std::string source = "the simulated node config's [" + std::string(component) + "]";
  auto table = parse_toml(table_text, source);
  if (!table) return table.error();
  return Settings::read(*table, source);
}

}  // namespace doppel::scenarios
