#pragma once
// Test support: replicas of one key driven through the object interface
// (object_clock.h) by a list of operations, next to an exact causal oracle.
//
// The causal order of the writes is properties/dvv/causal_history.h's, the one
// oracle of the project: every write names the writes its context came from
// (the siblings of the replica it read). What each replica knows -- the writes
// delivered to it, closed under "had seen" -- is the replicas' state, kept here.
// The siblings a replica should hold are the writes it knows that no other
// write it knows had seen ("live"). A clock is exact when its siblings are
// always the live set; less/equal of two replicas' clocks are exact when they
// agree with inclusion of the known sets.
//
// Replica i coordinates with id "r<i>"; write k (from 0) has value "v<k>" and,
// for the vv baseline, a client id of its own, "c<k>" (what Riak's HTTP
// interface did for a PUT without X-Riak-ClientId). Time advances step_s per
// operation.

#include <rapidcheck.h>

#include <cstdint>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "components/dvv/clock/object_clock.h"
#include "properties/dvv/causal_history.h"

namespace doppel::dvv::testing {

inline constexpr int kReplicas = 3;

struct Op {
  enum class Kind : std::uint8_t { put, sync };
  Kind kind = Kind::put;
  int replica = 0;      // put: the coordinator; sync: the replica that merges
  int source = -1;      // put: the replica read for the context, -1 for none; sync: the other
  unsigned fanout = 0;  // put: bit i set = replica i also stores the result (then prunes)
};

std::ostream& operator<<(std::ostream& os, const Op& op);

// Two puts for every sync; a quarter of the puts blind; any fan-out.
rc::Gen<Op> gen_op();
// The same distribution from a seed, for loops over many histories.
std::vector<Op> random_ops(std::uint64_t seed, int count);

class CausalOracle {
 public:
  explicit CausalOracle(int replicas) : known_(static_cast<std::size_t>(replicas)) {}

  // A write at `coordinator` whose context came from `read_from` (-1: none);
  // returns its number (from 0).
  int write(int coordinator, int read_from);
  // `to` learns everything `from` knows.
  void deliver(int to, int from);

  const std::set<int>& known(int replica) const {
    return known_[static_cast<std::size_t>(replica)];
  }
  std::set<std::string> live(int replica) const;
  int writes() const { return static_cast<int>(order_.size()); }

 private:
  std::set<int> live_writes(int replica) const;
  // Whether write `a` is in write `b`'s causal past.
  bool in_past(int a, int b) const;

  std::vector<std::set<int>> known_;      // per replica: its state
  properties::dvv::CausalHistory order_;  // the writes' causal order (ids from 1)
};

std::string value_name(int write);

class History {
 public:
  History(ClockOptions options, std::int64_t step_s);

  void apply(const Op& op);
  void run(const std::vector<Op>& ops) {
    for (const Op& op : ops) apply(op);
  }

  const Object& replica(int i) const { return replicas_[static_cast<std::size_t>(i)]; }
  const CausalOracle& oracle() const { return oracle_; }
  // The ids that have coordinated a write so far.
  const std::set<ReplicaId>& coordinators() const { return coordinators_; }
  // Every object each replica has held, the initial empty ones included.
  const std::vector<Object>& seen() const { return seen_; }
  std::set<std::string> siblings(int i) const;

 private:
  ClockOptions options_;
  std::int64_t step_s_;
  std::int64_t now_s_ = 1'000'000;
  std::vector<Object> replicas_;
  CausalOracle oracle_;
  std::set<ReplicaId> coordinators_;
  std::vector<Object> seen_;
};

}  // namespace doppel::dvv::testing
