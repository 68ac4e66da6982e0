#pragma once
// Basho-Bench-like clients for `doppel bench dvv`, the DVV paper's evaluation
// (Gonçalves et al., "Improving Logical Clocks in Riak with Dotted Version
// Vectors", section 4). They talk to the store's Riak HTTP API over any
// Runtime: the simulator's client node, or a RealRuntime against a loopback
// cluster. Written once, so both modes measure the same thing the same way.
//
// Operations, as the paper's section 4.2:
//   GET  GET /buckets/B/keys/K?r=2
//   PUT  a blind PUT ?w=2 with no X-Riak-Vclock (adds a sibling if K exists)
//   UPD  a GET, a think time (50 ms), then a PUT with the GET's context
// Each client is a Basho Bench worker in {rate, R} mode: one request at a
// time, an exponentially distributed pause of mean 1/R between requests
// (R = 0: no pause, a closed loop). Worker c sends everything to node
// c mod nodes (basho_bench's drivers pin a worker to one target) and names
// itself X-Riak-ClientId "client-<c>" (the vv clock's actor). Keys are
// Basho Bench's {pareto_int, Keys}, which the paper's "Pareto distribution,
// i.e. 20% of the keys accessed 80% of the time" names: a Lomax (Pareto II)
// of shape 1.5 and mean Keys/5, so keys below Keys/5 get 80.8% of requests
// and the lowest keys are the hottest (key 0 alone ~0.03%); 2.7% fall beyond
// Keys, in a thin tail, as in Basho Bench (pareto_int is not truncated). Or,
// with keygen "hotset", a flat 80/20: a fifth of the keys, uniformly, gets 80%.
//
// Measured, per operation kind: latency (simulated time in the simulator;
// UPD is the GET plus the PUT, without the think time, as the paper's UPD
// numbers can only be). Per read (a GET, or the GET of an UPD) that found the
// key: the context size in bytes (X-Riak-Vclock after base64 decoding), its
// clock entries (X-Doppel-Clock-Entries) and the values (siblings) returned.
//
// False conflicts: every value written carries a unique id, and the clients
// together know every write's causal past (an UPD supersedes exactly the
// siblings its GET returned; a blind PUT supersedes nothing). A read that
// returns a sibling beside another sibling whose causal past holds it has met
// a false conflict: a clock that could not tell that one value had seen the
// other. Each written value counts once, the first time it is met so; the
// rate is per 1000 acknowledged writes. All clients live in one process (one
// runtime core), so this is exact in both modes.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runtime/net.h"
#include "runtime/runtime.h"

namespace doppel::cli {

struct DvvWorkload {
  std::string name;   // "60-10-30", "browsing", ...
  std::string table;  // "1" (generic) or "2" (TPC-W)
  int get_percent = 0;
  int put_percent = 0;  // blind PUTs
  int upd_percent = 0;
  std::size_t value_bytes = 1024;
};

// The paper's five: 60/10/30 and 30/10/60 GET/PUT/UPD (1 KB), and TPC-W's
// browsing 95/5, shopping 80/20 (5 KB) and ordering 50/50 GET/UPD.
const std::vector<DvvWorkload>& dvv_workloads();

struct DvvLoadSpec {
  DvvWorkload workload;
  std::string clock = "dvvset";  // the bucket's clock: "dvvset" or "vv"
  std::string bucket = "bench";
  std::uint32_t n_val = 3;
  std::uint32_t r = 2, w = 2;
  int clients = 500;           // the paper's
  double rate_per_client = 1;  // requests per second per client; 0: closed loop
  std::uint64_t keys = 50'000;
  std::string keygen = "pareto";  // or "hotset"
  Duration think{std::chrono::milliseconds(50)};
  Duration duration{std::chrono::seconds(60)};
  Duration request_timeout{std::chrono::seconds(5)};
  std::uint64_t seed = 1;  // the same for every cell, as the paper's
};

// One operation kind's latencies, sorted, in nanoseconds.
struct OpLatencies {
  std::vector<std::int64_t> ns;
  std::uint64_t errors = 0;  // failed, timed out, or an unexpected status

  double mean_ms() const;
  double percentile_ms(double p) const;
};

struct DvvLoadResult {
  OpLatencies get, put, upd;
  std::uint64_t reads_found = 0;  // reads that returned at least one value
  std::uint64_t clock_bytes = 0;  // summed over those reads
  std::uint64_t clock_entries = 0;
  std::uint64_t values = 0;
  std::uint64_t writes_acked = 0;     // PUTs and UPDs answered 2xx
  std::uint64_t false_conflicts = 0;  // distinct values met beside one that superseded them
  std::uint64_t ancestry_capped = 0;  // ancestry searches cut at their limit
  double seconds = 0;                 // of load (simulated or real)
  std::string setup_error;            // non-empty: the cluster never became ready

  double clock_bytes_mean() const;
  double clock_entries_mean() const;
  double values_per_key() const;
  double false_per_1000_writes() const;
  std::uint64_t ops() const { return get.ns.size() + put.ns.size() + upd.ns.size(); }
};

// Where a node's HTTP API listens.
using NodeEndpoint = std::function<Endpoint(std::uint32_t node)>;

// Sets the bucket's props through node 0, waits until every node has them,
// then runs the clients for spec.duration. Call from a fiber of `rt`; it
// returns when every client has stopped.
DvvLoadResult run_dvv_load(Runtime& rt, const DvvLoadSpec& spec, std::uint32_t nodes,
                           const NodeEndpoint& endpoint);

}  // namespace doppel::cli
