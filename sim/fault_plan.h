#pragma once
// Fault plans are data: the ambient faults of a run (on for the whole fault
// phase) and a list of timed fault events. A plan comes from the seed, from
// the scenario file, or from a trace; it prints and parses as TOML, and the
// shrinker makes it smaller.
//
// What a generated plan draws stays within the scenario's FaultBounds:
// realistic by default (a crystal's drift of at most 200 ppm, wall clock
// steps of at most 30 s), far outside them with `bad_clocks` (see
// FaultBounds). A parsed plan is checked against the cluster it will run on
// (validate_plan): node ids, cores, kinds, times and durations.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/random.h"
#include "runtime/result.h"
#include "runtime/time.h"
#include "sim/scheduler.h"

namespace toml {
inline namespace v3 {
class table;
}
}  // namespace toml

namespace doppel::sim {

enum class FaultKind : std::uint8_t {
  // ambient
  latency,         // slow, jittery links with a heavy tail
  split_reads,     // reads return random prefixes of what is buffered
  disk_latency,    // an SSD or HDD service-time model instead of instant disks
  disk_eio,        // rare I/O errors on any disk operation
  disk_bitflip,    // rare silent bit flips in data read from disk
  disk_fsyncgate,  // a failed datasync drops the file's dirty pages (Linux), see disk.h
  buggify,         // BUGGIFY sites may fire
  // timed
  reset,             // every connection of a node is reset
  partition,         // a group of nodes is cut off from the rest, both ways
  partition_oneway,  // messages from one group to another are dropped
  crash,             // a node crashes (unsynced writes lost or torn) and restarts
  clock_skew,        // a node's wall clock steps by an offset and drifts at a rate
  core_stall,        // one core of a node runs nothing for a while
  disk_corrupt,      // a bit flips in a stored file of a node
  disk_full,         // a node's disk is full: writes, creates, renames fail until it heals
};
inline constexpr int kFaultKinds = 15;

std::string_view fault_name(FaultKind kind);
std::optional<FaultKind> parse_fault_name(std::string_view name);
bool is_ambient(FaultKind kind);

enum class DiskModel : std::uint8_t { instant, ssd, hdd };
std::string_view disk_model_name(DiskModel model);

struct AmbientFaults {
  bool latency = false;
  bool split_reads = false;
  DiskModel disk_model = DiskModel::instant;
  bool disk_eio = false;
  bool disk_bitflip = false;
  bool disk_fsyncgate = false;
  bool buggify = false;
};

struct FaultEvent {
  Duration at{0};  // since the start of the run
  FaultKind kind = FaultKind::crash;
  std::vector<NodeId> nodes;   // the node(s) it hits; for partitions, one side
  std::vector<NodeId> to;      // partition_oneway: the receivers cut off
  CoreId core = 0;             // core_stall
  Duration duration{0};        // crash: downtime; stalls; partitions, disk_full: 0 = until quiet
  Duration offset{0};          // clock_skew: the step
  std::int64_t drift_ppm = 0;  // clock_skew: then the rate error, parts per million
  std::uint32_t line = 0;      // where a parsed event was written (0: generated); not compared

  bool operator==(const FaultEvent& o) const {
    return at == o.at && kind == o.kind && nodes == o.nodes && to == o.to && core == o.core &&
           duration == o.duration && offset == o.offset && drift_ppm == o.drift_ppm;
  }
};

struct FaultPlan {
  AmbientFaults ambient;
  std::vector<FaultEvent> events;  // sorted by `at`

  std::size_t size() const;  // events plus ambient faults switched on
};

// What a scenario allows, per fault kind.
enum class FaultMode : std::uint8_t { off, on, swarm };
struct FaultSwitches {
  std::array<FaultMode, kFaultKinds> mode{};  // all off
  FaultMode& operator[](FaultKind k) { return mode[static_cast<int>(k)]; }
  FaultMode operator[](FaultKind k) const { return mode[static_cast<int>(k)]; }
};

// How far generated faults go, and the network's TCP timeout ([faults] keys
// beside the switches).
struct FaultBounds {
  // A connection whose peer stays unreachable this long breaks (network.h).
  // Linux alone would wait ~15 minutes (tcp_retries2) for a connection with
  // data in flight and 2 hours (keepalive) for an idle one: far beyond a run.
  // Services that care set keepalive and TCP_USER_TIMEOUT (the real runtime
  // does, to this default: runtime/real/socket.cc), so 20 s is what a peer
  // that vanished costs there.
  Duration tcp_timeout = std::chrono::seconds(20);
  // Realistic clocks: a crystal oscillator is off by up to ~100 ppm, NTP
  // refuses more than 500; steps happen when NTP (re)starts or a VM resumes.
  std::int64_t clock_drift_ppm_max = 200;
  Duration clock_step_max = std::chrono::seconds(30);
  // Bad clocks: a broken oscillator or a VM whose TSC calibration is off runs
  // 5 % fast or slow; an RTC reset or a time-zone mix-up steps by an hour.
  // When chosen for a seed, clock_skew events draw from these instead.
  FaultMode bad_clocks = FaultMode::off;
  static constexpr std::int64_t kBadClockDriftPpmMax = 50'000;
  static constexpr Duration kBadClockStepMax = std::chrono::hours(1);
  // The most any plan may ask for: the monotonic clock must keep running forwards.
  static constexpr std::int64_t kDriftPpmLimit = 100'000;
};

// Which nodes faults may hit.
struct ClusterShape {
  std::vector<NodeId> servers;    // may be partitioned, reset, skewed, stalled
  std::vector<NodeId> crashable;  // may crash
  std::vector<NodeId> all;        // every node, clients included
  CoreId cores = 1;
};

// A plan for one seed: "swarm" faults are each switched on with probability
// 1/2, then timed events are spread over the fault phase.
FaultPlan generate_plan(const FaultSwitches& switches, const FaultBounds& bounds,
                        const ClusterShape& shape, Duration fault_phase, Prng& rng);

// Whether a plan can run on a cluster: every node it names exists (in
// shape.all), crashes hit crashable nodes, stalled cores exist, events fall
// inside the fault phase. Errors name the source, the event's line if it has
// one, and the key.
Status validate_plan(const FaultPlan& plan, const ClusterShape& shape, Duration fault_phase,
                     std::string_view source);

std::string to_toml(const FaultPlan& plan);
// `source` names the file in errors, which also give the line and the key.
Result<FaultPlan> parse_fault_plan(const toml::table& table, std::string_view source);
Result<FaultPlan> parse_fault_plan_text(std::string_view text, std::string_view source);

// One line per event, for humans.
std::string describe(const FaultEvent& event);

}  // namespace doppel::sim
