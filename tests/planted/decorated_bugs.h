#pragma once
// Planted bugs that live outside the components, as decorators of a node's
// runtime (runtime/wrapper.h): the shipped component carries no flag for them.
//
//   dedup "syncs-lie": every datasync and directory sync answers ok and syncs
//   nothing, as a disk with a volatile write cache that lies, or a store run
//   under libeatmydata. A crash then loses what was acknowledged as durable.

#include "scenarios/scenario.h"

namespace doppel::testing {

void add_decorated_bugs(scenarios::Registry& registry);

}  // namespace doppel::testing
