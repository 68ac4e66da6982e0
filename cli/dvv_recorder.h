#pragma once
// Clients of a DVV cluster that record what they did as a history for the causal oracle
// (properties/dvv/causal_jsonl.h): `doppel load dvv`, run against a real cluster while it
// changes, and checked afterwards by `doppel check causal`.
//
// Each client is one process of the history, one request at a time, to a node chosen at
// random per request. Of its operations: reads; updates (a read, then a PUT with the read's
// context, which supersedes the siblings read -- or, some of the time, a DELETE with it, a
// tombstone); blind writes (no context: a PUT superseding nothing, or a DELETE of whatever
// the coordinator finds). Every value is unique,
// "<tag>.c<client>.<n>", and every write is sent once (a resent copy would be a second,
// concurrent write of one value). Final mode instead reads every key through every node
// with r=all, each marked final: run it only once every write has ended and the cluster has
// settled.

#include <cstdint>
#include <string>
#include <vector>

#include "components/http/client.h"
#include "runtime/net.h"
#include "runtime/runtime.h"

namespace doppel::cli {

// A node's HTTP API, and how to talk to it (credentials, TLS).
struct DvvNodeAccess {
  Endpoint at;
  http::ClientOptions options;
};

struct DvvRecorderSpec {
  static constexpr std::uint64_t kOperationsMax = 1u << 20;  // clients x ops

  std::vector<DvvNodeAccess> nodes;
  std::string bucket = "b";
  std::uint64_t keys = 100;  // "k0" .. "k<keys-1>"
  int clients = 4;
  int ops_per_client = 100;
  int read_percent = 25;    // the rest are writes
  int blind_percent = 20;   // of the writes: PUTs with no context
  int delete_percent = 10;  // of the writes: DELETEs (blind where there is no context)
  std::uint64_t seed = 1;
  std::string tag = "r";  // values' prefix: unique per run of one history
  Duration timeout{std::chrono::seconds(5)};
  Duration pause{0};  // mean of the exponential pause between a client's requests
  bool final = false;
};

struct DvvRecorderResult {
  std::uint64_t ok = 0, failed = 0, unknown = 0;  // operations by outcome
  std::string history;                            // JSONL, one line per event
};

// Call from a fiber of `rt`; returns once every client has stopped.
DvvRecorderResult record_dvv_load(Runtime& rt, const DvvRecorderSpec& spec);

}  // namespace doppel::cli
