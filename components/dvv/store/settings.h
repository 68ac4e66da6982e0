#pragma once
// A dvv node's settings, read once from its node config: the ring's size,
// the intervals of the background work, the limits, and the test-only
// planted bugs (which `doppel serve` refuses).

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "runtime/node.h"
#include "runtime/result.h"
#include "runtime/time.h"

namespace doppel::dvv {

struct DvvConfig {
  std::uint32_t partitions = 64;
  Duration request_timeout{std::chrono::seconds(2)};
  Duration ping_interval{std::chrono::milliseconds(500)};
  Duration down_after{std::chrono::seconds(2)};
  Duration handoff_interval{std::chrono::seconds(1)};
  Duration aae_interval{std::chrono::seconds(2)};
  Duration gossip_interval{std::chrono::seconds(2)};
  Duration reap_delay{std::chrono::seconds(3)};
  std::uint32_t siblings_max = 512;  // a PUT that would keep more is refused
  std::size_t value_bytes_max = 8u << 20;
  // Test-only planted bugs (simulation; `doppel serve` refuses them):
  bool bug_ack_early = false;      // ack after the local unsynced write; replicate later
  bool bug_no_repair = false;      // read repair, anti-entropy and handoff never fix
  bool bug_dot_per_write = false;  // a fresh coordinator id per write
  bool bug_ignore_context = false; // every PUT treated as blind
};

Result<DvvConfig> parse_dvv_config(const NodeConfig& node);

}  // namespace doppel::dvv
