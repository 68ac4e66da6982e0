#pragma once
// The KV component's scenarios: memcached clients against simulated KV
// nodes, their histories checked for per-key linearizability.

#include "scenarios/scenario.h"

namespace doppel::scenarios {

ComponentDef kv_component();

}  // namespace doppel::scenarios
