#pragma once
// A test-only service that exists to show the simulator catches bugs: a
// single durable register over TCP. "SET <n>\n" stores n (write, datasync)
// and answers "OK\n"; "GET\n" answers "VALUE <n>\n". Its planted bug
// `ack-before-sync` answers OK without syncing, which a crash exposes.
//
// Its scenario driver runs one client that writes 1, 2, 3... and reads in
// between; the property `acknowledged-writes-survive` says a read never
// returns less than the last acknowledged write, and `progress` says the
// client completes writes once the faults are healed.

#include "components/registry.h"
#include "scenarios/scenario.h"

namespace doppel::testing {

void add_register_component(scenarios::Registry& registry);
// The register for `doppel serve` (it has no settings; its planted bug cannot be served).
void add_register_package(ComponentRegistry& components);

}  // namespace doppel::testing
