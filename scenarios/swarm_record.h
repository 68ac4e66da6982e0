#pragma once
// What a swarm leaves beside its traces (OUT/swarm-summary.txt), so that a
// swarm farmed out as shards (--shard I/N on many machines: a Slurm job array,
// a Kubernetes indexed job; deploy/) merges back into the summary one machine
// would have printed for the same seeds (doppel sim merge). It holds the
// scenario files themselves, the seed range and shard, the counts, every
// failure with its trace's path, and every coverage probe.
//
// Text, one item per line ("key value..."), a scenario file as a length and
// its bytes; tabs and newlines inside a failure's detail are spaces.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/swarm.h"

namespace doppel::scenarios {

inline constexpr std::string_view kSwarmRecordFile = "swarm-summary.txt";

struct SwarmRecord {
  struct Scenario {
    std::string path;
    std::string text;
    bool operator==(const Scenario&) const = default;
  };
  std::vector<Scenario> scenarios;
  std::uint64_t seed_begin = 0, seed_end = 0;
  std::vector<std::uint32_t> shards;  // the shard indices it covers
  std::uint32_t shard_count = 1;
  SwarmSummary summary;
};

std::string encode_swarm_record(const SwarmRecord& record);
// corrupt (naming `source` and the line) for anything encode_swarm_record could not have written.
Result<SwarmRecord> decode_swarm_record(std::string_view text, std::string_view source);

// One record for the shards of one swarm: the same scenarios, seeds and shard count, no shard
// twice. Counts and coverage add up (put the failures in order with sort_failures); the wall
// time is the longest shard's. invalid_argument names what does not match, and a
// missing shard.
Result<SwarmRecord> merge_swarm_records(const std::vector<SwarmRecord>& records);

// Failures in the order a swarm reports them: by seed, then by the scenario's place in the
// swarm's list.
void sort_failures(std::vector<SwarmFailure>& failures, const std::vector<std::string>& scenarios);

}  // namespace doppel::scenarios
