#pragma once
// Requests a DVV cluster must refuse, sent while the workload runs (the access-enforced
// property): a client PUT or GET without credentials or with a wrong password (401), and a
// forwarded PUT from a peer that does not know the cluster secret (it makes up its handshake
// proof, sends the request anyway and waits: no answer may come). The nodes' users are
// scenario_users.h's.
//
// A refusal that succeeds is a violation; so is an HTTP answer other than 401, 408 or a 5xx.
// The values sent are "intruder-<n>": the causal oracle never heard of them, so one that got
// stored anyway also fails no-invented-values when a read comes across it.

#include <cstdint>
#include <functional>
#include <string>

#include "runtime/net.h"
#include "runtime/runtime.h"

namespace doppel::scenarios {

class DvvIntruder {
 public:
  // Where node i serves: its HTTP API and its RPC.
  using Where = std::function<Endpoint(std::uint32_t node)>;
  using Violated = std::function<void(std::string detail)>;
  using Reached = std::function<void(std::string_view what)>;

  DvvIntruder(Runtime& rt, std::uint32_t nodes, std::uint32_t keys, std::string bucket, Where http,
              Where rpc, Duration timeout, Reached reached, Violated violated)
      : rt_(rt),
        nodes_(nodes),
        keys_(keys),
        bucket_(std::move(bucket)),
        http_(std::move(http)),
        rpc_(std::move(rpc)),
        timeout_(timeout),
        reached_(std::move(reached)),
        violated_(std::move(violated)) {}

  // One request the cluster must refuse, drawn at random, and its answer judged.
  void attempt();

 private:
  void client_without_access(bool write, const std::string& authorization, const char* who);
  void rogue_peer();

  Runtime& rt_;
  std::uint32_t nodes_, keys_;
  std::string bucket_;
  Where http_, rpc_;
  Duration timeout_;
  Reached reached_;
  Violated violated_;
  std::uint64_t sent_ = 0;
};

}  // namespace doppel::scenarios
