#pragma once
// pw-dw-durable's and handoff-before-release's side in the simulator: each
// server's object log read straight from its simulated disk -- the file's
// bytes and the bytes a crash would leave -- every time they change (the
// disk's observer), so that what a log ever held is known when a PUT's ack
// reaches the client, or when a server gives a replica up; judged by
// properties/dvv/write_promises.h and release_handoff.h.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "components/dvv/client/riak_client.h"
#include "components/dvv/store/ring.h"
#include "properties/dvv/causal_oracle.h"
#include "properties/dvv/log_values.h"
#include "sim/world.h"

namespace doppel::scenarios {

class DiskPromises {
 public:
  // Watches the servers' disks from now on.
  DiskPromises(sim::World& world, std::uint32_t n_val, std::vector<sim::NodeId> servers);
  DiskPromises(const DiskPromises&) = delete;
  DiskPromises& operator=(const DiskPromises&) = delete;

  // The simulator flipped a bit of byte `byte` of `path` on server `node` (disk_corrupt).
  void corrupted(sim::NodeId node, std::string_view path, std::uint64_t byte);

  // "" when the disks kept what the ack of `value` promised (its quorums `q`, or the bucket's
  // defaults: w = dw = quorum, pw = 0) with the key's `primaries` (servers by index: those of
  // every ring the PUT may have met, ring_history.h); else what it broke.
  std::string judge(const properties::dvv::CausalOracle& oracle, const std::string& bucket,
                    const std::string& key, const std::string& value, const doppel::dvv::Quorum& q,
                    const std::set<doppel::dvv::NodeIndex>& primaries);
  // Server `node` gave its replica of the key up: "" when each of `primaries` (the key's, in
  // its ring) durably holds what its last record of the key held; else what is missing where.
  // nullopt: its log, as read now, has no record of the key to judge (a compaction dropped it).
  std::optional<std::string> judge_release(const properties::dvv::CausalOracle& oracle,
                                           doppel::dvv::NodeIndex node, const std::string& bucket,
                                           const std::string& key,
                                           const std::set<doppel::dvv::NodeIndex>& primaries);

 private:
  // Reads what server i's log file holds now, in both views.
  void watch(std::uint32_t i);
  // A request's quorum as the coordinator resolves it: its value or `fallback`.
  std::uint32_t resolved(const std::string& q, std::uint32_t fallback) const;

  sim::World& world_;
  std::uint32_t n_val_;
  std::vector<sim::NodeId> servers_;
  // By server: what reads of its log file saw, and what would have survived a crash.
  std::vector<properties::dvv::LogValues> written_, durable_;
  // By server: file number -> offsets of the bytes the simulator flipped a bit of.
  std::vector<std::map<std::uint64_t, std::vector<std::uint64_t>>> flipped_;
};

}  // namespace doppel::scenarios
