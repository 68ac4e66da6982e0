// Per-core ports (KvSettings::core_ports): each core listens on a port of its own beside the
// shared one; a key sent to its owner's port runs there and is not forwarded, a key sent to
// another core's port is forwarded as on the shared port, and the owner function can be
// libmemcached's murmur3, so that a stock client's modula distribution over the ports routes
// every key to its owner. Also the hash functions against reference values.

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "components/kv/server/ownership.h"
#include "tests/kv/server/kv_sim.h"

using namespace doppel;
using namespace doppel::kv;
using namespace doppel::kv::test;
using namespace std::chrono_literals;

namespace {

constexpr std::uint16_t kCorePorts = 11300;

KvSettings with_core_ports(OwnerHash hash) {
  KvSettings s = small_settings();
  s.core_ports = kCorePorts;
  s.owner_hash = hash;
  return s;
}

// The first `n` keys "<prefix><i>" that `core` owns under `hash`.
std::vector<std::string> keys_of(CoreId core, CoreId cores, OwnerHash hash, std::size_t n,
                                 const std::string& prefix) {
  std::vector<std::string> out;
  for (int i = 0; out.size() < n && i < 100000; ++i) {
    std::string key = prefix + std::to_string(i);
    if (owner_core(key, cores, hash) == core) out.push_back(std::move(key));
  }
  REQUIRE(out.size() == n);
  return out;
}

// "stats cores" forwarded_in of every core, read on `stream`.
std::vector<std::uint64_t> forwarded_in(Runtime& rt, Stream& stream, CoreId cores) {
  Request stats;
  stats.verb = Verb::stats;
  stats.stats_group = "cores";
  auto reply = McConnection(stream).call(stats, soon(rt));
  std::vector<std::uint64_t> out(cores, UINT64_MAX);
  if (!reply) return out;
  for (CoreId c = 0; c < cores; ++c) {
    out[c] = McConnection::stat(*reply, "core" + std::to_string(c) + ":forwarded_in")
                 .value_or(UINT64_MAX);
  }
  return out;
}

}  // namespace

TEST_CASE("kv ownership: murmur3 and libmemcached's murmur3 give the reference values", "[unit]") {
  // MurmurHash3_x86_32 with seed 0 (the reference implementation's published checks).
  REQUIRE(murmur3_x86_32("", 0) == 0);
  REQUIRE(murmur3_x86_32("", 1) == 0x514E28B7u);
  REQUIRE(murmur3_x86_32("hello world", 0) == 0x5E928F0Fu);
  // libhashkit 1.1.4's libhashkit_digest(key, len, HASHKIT_HASH_MURMUR3), computed on Debian 12.
  REQUIRE(libmemcached_murmur3("") == 0);
  REQUIRE(libmemcached_murmur3("a") == 2289228744u);
  REQUIRE(libmemcached_murmur3("foo") == 2784297138u);
  REQUIRE(libmemcached_murmur3("hello world") == 2727477341u);
  REQUIRE(libmemcached_murmur3("key:0000000000000000000000042") == 3188093657u);
  REQUIRE(owner_core("key:0000000000000000000000042", 3, OwnerHash::libmemcached_murmur3) == 2);
}

TEST_CASE("kv server: keys sent to their owner's own port run there, unforwarded", "[sim]") {
  for (std::uint64_t seed = 0; seed < 6; ++seed) {
    const auto cores = static_cast<CoreId>(2 + seed % 3);
    const OwnerHash hash = seed % 2 ? OwnerHash::libmemcached_murmur3 : OwnerHash::murmur3;
    KvSim sim(seed, cores, with_core_ports(hash));
    Checks checks;
    const bool ran = sim.with_connection([&](Runtime& rt, Stream& shared) {
      for (CoreId c = 0; c < cores; ++c) {
        auto s =
            rt.net().connect(Endpoint{kServer, static_cast<std::uint16_t>(kCorePorts + c)}, 1s);
        checks.expect(s.ok(), "core " + std::to_string(c) + "'s port answers");
        if (!s) return;
        McConnection conn(**s);
        for (const std::string& key : keys_of(c, cores, hash, 4, "own")) {
          checks.expect_eq("set " + key,
                           describe(conn.call(store_request(Verb::set, key, key), soon(rt))),
                           "STORED");
          checks.expect_eq("get " + key, describe(conn.call(get_request(key), soon(rt))),
                           "END " + key + "=" + key);
        }
      }
      for (std::uint64_t n : forwarded_in(rt, shared, cores)) {
        checks.expect(n == 0, "a routed key was forwarded (" + std::to_string(n) + " units)");
      }
      // A key sent to the wrong core's port is forwarded to its owner, and the shared port
      // finds it there.
      const std::string stray = keys_of(1, cores, hash, 1, "stray")[0];
      auto wrong = rt.net().connect(Endpoint{kServer, kCorePorts}, 1s);
      checks.expect(wrong.ok(), "core 0's port answers");
      if (!wrong) return;
      checks.expect_eq(
          "set on core 0's port",
          describe(McConnection(**wrong).call(store_request(Verb::set, stray, "x"), soon(rt))),
          "STORED");
      checks.expect_eq("get on the shared port",
                       describe(McConnection(shared).call(get_request(stray), soon(rt))),
                       "END " + stray + "=x");
      const auto after = forwarded_in(rt, shared, cores);
      checks.expect(after[1] >= 1, "the stray key was not forwarded to core 1");
    });
    INFO("seed " << seed << ", " << cores << " cores");
    require_clean(checks, SimResult::of(sim.world(), ran));
  }
}

TEST_CASE("kv server: a listen port among the per-core ports is refused at boot", "[sim]") {
  KvSettings s = small_settings();
  s.core_ports = kPort - 1;  // core 1's port would be the shared one
  KvSim sim(1, 2, s);
  const bool ran = sim.with_connection([](Runtime&, Stream&) {});
  const SimResult result = SimResult::of(sim.world(), ran);
  REQUIRE_FALSE(result.ran);
  INFO(result.failure);
  REQUIRE(result.failure.find("core_ports: ports 11210..11211 take in the listen port 11211") !=
          std::string::npos);
}
