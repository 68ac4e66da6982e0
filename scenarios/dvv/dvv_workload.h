#pragma once
// The DVV scenarios' workload: what the clients send and how often, read from
// a scenario's [workload] table (every key named here, any other refused).

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/toml.h"
#include "runtime/random.h"
#include "runtime/result.h"

namespace doppel::scenarios {

struct DvvWorkload {
  std::string mode = "register";  // or "set-append"
  std::string clock = "dvvset";
  bool allow_mult = true;
  std::int64_t n_val = 3;
  std::int64_t keys = 4;
  std::int64_t ops_per_client = 60;
  std::int64_t quiet_ops = 3;
  std::int64_t update_percent = 70;  // GET, think, PUT with the context
  std::int64_t blind_percent = 15;   // PUT without a context; the rest are GETs
  std::int64_t think_ms_max = 50;
  // When the clients operate: "burst" (each operation right after the last: the clients may be
  // done long before the faults come), "spread" (a random gap of mean fault phase /
  // ops_per_client before each, so operations meet the faults of the whole phase, as a real
  // run's clients do), or "swarm" (one or the other, per seed).
  std::string pace = "swarm";
  std::int64_t timeout_ms = 1500;
  std::int64_t settle_ms = 6000;  // after the heal, before the final checks
  // The intruder (intruder.h): a request the cluster must refuse every [0, 2 x intrude_ms].
  std::int64_t intrude_ms = 1000;
  std::int64_t liveness_ms = 10000;  // after the heal, each operation succeeds within this
  // Of the writes: DELETEs (register mode; with the read's context, or blind), explicit
  // quorums (r, pr on reads; w, dw, pw on writes), and returnbody, in percent.
  std::int64_t delete_percent = 10;
  std::int64_t quorum_percent = 30;
  std::int64_t returnbody_percent = 20;
  // Bucket props changed mid-run (props_switch.h): allow_mult, or the clock kind, flips this
  // often (0: never; one of the two at most).
  std::int64_t allow_mult_switch_ms = 0;
  std::int64_t clock_switch_ms = 0;
  // Membership (membership_admin.h): the first ring's members (0: every node), and a change
  // (join, leave, replace) about this often during the fault phase (0: never), keeping at
  // least members_min valid members.
  std::int64_t members = 0;
  std::int64_t membership_change_ms = 0;
  std::int64_t members_min = 3;

  std::int64_t switch_ms() const { return std::max(allow_mult_switch_ms, clock_switch_ms); }
};

Result<DvvWorkload> read_dvv_workload(const toml::table& t, std::string_view source);

// set-append's values: the union of the sets `siblings` (comma-separated elements).
std::set<std::string> set_elements(const std::vector<std::string>& siblings);
// set-append's next value: the union of the sets `seen` plus `element`, sorted.
std::string set_with_element(const std::vector<std::string>& seen, const std::string& element);

// A quorum for one request: a number up to n_val or one of Riak's words.
std::string some_quorum(Prng& rng, std::int64_t n_val);

}  // namespace doppel::scenarios
