#pragma once
// Fault plans are data: the ambient faults of a run (on for the whole fault
// phase) and a list of timed fault events. A plan comes from the seed, from
// the scenario file, or from a trace; it prints and parses as TOML, and the
// shrinker makes it smaller.

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
  latency,          // slow, jittery links with a heavy tail
  split_reads,      // reads return random prefixes of what is buffered
  disk_latency,     // an SSD or HDD service-time model instead of instant disks
  disk_eio,         // rare I/O errors on any disk operation
  disk_bitflip,     // rare silent bit flips in data read from disk
  buggify,          // BUGGIFY sites may fire
  // timed
  reset,            // every connection of a node is reset
  partition,        // a group of nodes is cut off from the rest, both ways
  partition_oneway, // messages from one group to another are dropped
  crash,            // a node crashes (unsynced writes lost or torn) and restarts
  clock_skew,       // a node's wall clock steps by an offset and drifts at a rate
  core_stall,       // one core of a node runs nothing for a while
  disk_corrupt,     // a bit flips in a stored file of a node
};
inline constexpr int kFaultKinds = 13;

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
  bool buggify = false;
};

struct FaultEvent {
  Duration at{0};  // since the start of the run
  FaultKind kind = FaultKind::crash;
  std::vector<NodeId> nodes;  // the node(s) it hits; for partitions, one side
  std::vector<NodeId> to;     // partition_oneway: the receivers cut off
  CoreId core = 0;            // core_stall
  Duration duration{0};       // partitions, crash downtime, stalls
  Duration offset{0};         // clock_skew: the step
  std::int64_t drift_ppm = 0; // clock_skew: then the rate error, parts per million

  bool operator==(const FaultEvent&) const = default;
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

// Which nodes faults may hit.
struct ClusterShape {
  std::vector<NodeId> servers;    // may be partitioned, reset, skewed, stalled
  std::vector<NodeId> crashable;  // may crash
  std::vector<NodeId> all;        // every node, clients included
  CoreId cores = 1;
};

// A plan for one seed: "swarm" faults are each switched on with probability
// 1/2, then timed events are spread over the fault phase.
FaultPlan generate_plan(const FaultSwitches& switches, const ClusterShape& shape,
                        Duration fault_phase, Prng& rng);

std::string to_toml(const FaultPlan& plan);
// `source` names the file in errors, which also give the line and the key.
Result<FaultPlan> parse_fault_plan(const toml::table& table, std::string_view source);
Result<FaultPlan> parse_fault_plan_text(std::string_view text, std::string_view source);

// One line per event, for humans.
std::string describe(const FaultEvent& event);

}  // namespace doppel::sim
