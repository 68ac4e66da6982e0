#pragma once
// The DVV store's scenarios: clients doing Riak-style reads, updates (a GET,
// a pause, a PUT with the GET's context), blind PUTs and DELETEs, with
// per-request quorums (r, pr, w, dw, pw) and returnbody, over HTTP against a
// simulated cluster, judged against an exact causal oracle; optionally the
// bucket's allow_mult flips mid-run (props_switch.h).
//
// Properties (a scenario's `properties` picks some):
//   acknowledged-writes-survive  no acknowledged value is gone at the end unless a later write
//                                superseded it, a delete covers it, or last write wins may
//                                have dropped it (properties/dvv/causal_oracle.h)
//   replicas-converge            after the heal, every primary holds the same object
//   clock-entries-bounded        a DVVSet clock names at most n_val nodes, each at most once
//                                per boot (a boot that lost records renews the id)
//   no-false-conflicts           no answer keeps a sibling that another sibling superseded
//   set-union-complete           set-append: every acknowledged element is in the final set
//   no-invented-values           every sibling is a value a client wrote to that key
//   deleted-stays-deleted        nothing an acknowledged delete superseded comes back
//   returnbody-shows-write       PUT ?returnbody answers the write (or, under last write wins,
//                                the concurrent value that won)
//   pw-dw-durable                when the ack arrives, w nodes' logs hold the write, pw
//                                primaries' as their own replica, dw nodes' durably, read from
//                                the simulated disks (properties/dvv/write_promises.h)
//   allow-mult-respected         while allow_mult is false on every node, an answer shows one
//                                value at most
//   log-keeps-intact-records     a node's replay recovers every intact record of its log
//   ring-settles                 membership changes (membership_admin.h): after the heal every
//                                node holds one settled ring, each partition owned by a valid
//                                member, and every node that left gave its replicas up
//   handoff-before-release       a node gives its replica of a key up only once every primary
//                                of the key in its ring durably holds it, values and causal
//                                past, read from the disks (properties/dvv/release_handoff.h)
//   progress                     after the heal, operations succeed and the final checks run

#include <memory>

#include "scenarios/dvv/dvv_workload.h"
#include "scenarios/scenario.h"

namespace doppel::scenarios {

ComponentDef dvv_component();  // dvv_component.cc

// The driver of one run of a dvv scenario with workload `w` (read from spec.workload).
std::unique_ptr<ScenarioDriver> make_dvv_driver(const ScenarioSpec& spec, DvvWorkload w);

}  // namespace doppel::scenarios
