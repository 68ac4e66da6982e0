#pragma once
// Test support: one KV node of 2 to 4 cores in a simulated world and a client node that talks
// to it through the client library (components/kv/client/memcached_client.h). The client's
// fibers record what they found in Checks (tests/support/checks.h).

#include <functional>
#include <string>
#include <vector>

#include "components/kv/client/memcached_client.h"
#include "components/kv/kv.h"
#include "sim/world.h"
#include "tests/support/checks.h"

namespace doppel::kv::test {

inline constexpr std::uint16_t kPort = 11211;
inline constexpr const char* kServer = "kv0";

// Small enough to reach the limits in a test: 64 KiB segments, 8 KiB items.
inline KvSettings small_settings() {
  KvSettings s;
  s.memory_bytes = 8u << 20;
  s.segment_bytes = 64u << 10;
  s.item_bytes_max = 8u << 10;
  return s;
}

using doppel::test::Checks;
using doppel::test::require_clean;
using doppel::test::SimResult;

// A reply as one line: an error as its message; a retrieval as "END" and its hits as
// " key=data" (" key=data/flags" when flags are not 0, "#cas" for gets and gats); a number;
// a word.
std::string describe(const Result<McReply>& reply, bool with_cas = false);

class KvSim {
 public:
  KvSim(std::uint64_t seed, CoreId cores, const KvSettings& settings = small_settings(),
        sim::AmbientFaults ambient = {});

  sim::World& world() { return world_; }
  CoreId cores() const { return cores_; }
  // Runs `body` in a fiber of the client node with a fresh connection to the server; returns
  // when it ends (false if it did not within 10 simulated minutes, or no connection came).
  // Whether the world failed is the caller's to ask (SimResult::of).
  bool with_connection(const std::function<void(Runtime&, Stream&)>& body);

 private:
  sim::World world_;
  CoreId cores_;
  sim::NodeId server_ = 0;
  sim::NodeId client_ = 0;
};

// Boots a node of `cores` cores, runs `body` on a connection to it, and lets the world go.
SimResult run_connection(std::uint64_t seed, CoreId cores,
                         const std::function<void(Runtime&, Stream&)>& body,
                         const KvSettings& settings = small_settings(),
                         sim::AmbientFaults ambient = {});

// A deadline a test's request must meet.
inline Instant soon(Runtime& rt) {
  return rt.now() + std::chrono::seconds(10);
}

}  // namespace doppel::kv::test
