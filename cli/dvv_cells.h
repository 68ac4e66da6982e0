#pragma once
// One cell of doppel bench dvv (bench_dvv.cc): a workload with one clock kind, run on a
// simulated six-node cluster or on six local `doppel serve` processes.

#include <cstdint>
#include <string>

#include "cli/dvv_load.h"

namespace doppel::cli {

inline constexpr std::uint32_t kDvvBenchNodes = 6;  // the paper's cluster

struct Cell {
  DvvLoadResult result;
  double wall_s = 0;
  std::uint64_t sim_events = 0;
  std::string error;  // the cell did not run
};

// Deterministic for a seed; latencies are simulated time.
Cell run_sim_cell(const DvvLoadSpec& spec, std::uint64_t seed);
// A fresh cluster per cell from config_dir/dvv-1.toml .. dvv-6.toml, data under tmp.
Cell run_real_cell(const DvvLoadSpec& spec, const std::string& config_dir, const std::string& tmp);
// dir/dvv-<n+1>.toml
std::string config_path(const std::string& dir, std::uint32_t n);
// Where dvv-1.toml .. are: `given`, ./configs, or the configs beside the source tree.
std::string find_config_dir(const std::string& given);

}  // namespace doppel::cli
