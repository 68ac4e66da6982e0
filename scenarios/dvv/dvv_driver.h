#pragma once
// The DVV store's scenarios: clients doing Riak-style reads, updates (a GET,
// a pause, a PUT with the GET's context) and blind PUTs over HTTP against a
// simulated cluster, judged against an exact causal oracle.

#include "scenarios/scenario.h"

namespace doppel::scenarios {

ComponentDef dvv_component();

}  // namespace doppel::scenarios
