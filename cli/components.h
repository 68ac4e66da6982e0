#pragma once
// The shipped components' scenario drivers, for the simulator.

#include "scenarios/scenario.h"

namespace doppel::cli {
void register_components(scenarios::Registry& registry);
}
