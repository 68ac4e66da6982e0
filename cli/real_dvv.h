#pragma once
// The DVV component's part of a real run (doppel real run, cli/real_run.cc): which of its
// scenarios a real run can play, each node's config, the clients' command lines (doppel load
// dvv), and what their history says of the scenario's properties (the causal oracle).

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "scenarios/dvv/dvv_workload.h"
#include "scenarios/scenario.h"

namespace doppel::cli {

struct RealDvvRun {
  const scenarios::ScenarioSpec& spec;
  const scenarios::DvvWorkload& workload;
  std::function<std::string(std::uint32_t member)> address;  // servers 0..n-1, then the clients
  std::string out;                                           // the run's directory
  std::string backend;
  std::uint64_t seed = 0;
};

// Why a scenario's workload cannot be played for real yet; "" when it can.
std::string real_dvv_unsupported(const scenarios::DvvWorkload& w);

// Node i's config file: the simulator's [dvv] table; a planted bug's scenario names doppel-test's
// "dvv-planted" (tests/planted/planted_packages.h) with its `bug`.
std::string real_dvv_node_config(const RealDvvRun& run, std::uint32_t i);

// The arguments of `doppel load dvv` for the clients (their operations spread over the fault
// phase, the simulator's mix), or for the final reads.
std::vector<std::string> real_dvv_client_args(const RealDvvRun& run, bool final);
// The clients' mean pause between requests, in ms.
std::int64_t real_dvv_pause_ms(const RealDvvRun& run);

// The history's verdict on the scenario's properties.
struct RealJudgement {
  std::vector<std::string> failed;  // "property: what"
  std::set<std::string> checked;
  std::string text;  // the findings and the counts, for people
};
RealJudgement judge_real_dvv_history(const RealDvvRun& run);

}  // namespace doppel::cli
