#pragma once
// The trace file: one zstd frame holding a header (format version, build id,
// scenario, seed, fault plan, outcome, failing property) and the event
// stream, each event with the running hash after it. A trailer hash covers
// everything before it, so a damaged file is rejected as a whole.
//
// Reading is defensive: any corrupt, truncated or foreign input gives an
// Error (with one line saying what is wrong), never a crash or an
// allocation beyond the stated limits.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/result.h"
#include "runtime/time.h"

namespace doppel::sim {

// Version 2 traces name a branch (below); a run without one is written as version 1, which
// builds before branches read too.
inline constexpr std::uint32_t kTraceFormatVersion = 2;
inline constexpr std::uint64_t kTraceFileBytesMax = 1ull << 30;     // compressed
inline constexpr std::uint64_t kTraceContentBytesMax = 4ull << 30;  // decompressed

// A run branched at `at`: from then on every random stream of the world is drawn afresh from
// `seed` (World::branch), so the run up to `at` is the unbranched run's, event for event.
struct Branch {
  Duration at{0};
  std::uint64_t seed = 0;

  bool operator==(const Branch&) const = default;
};

struct TraceHeader {
  std::uint32_t format_version = kTraceFormatVersion;
  std::string build_id;
  std::string scenario_name;
  std::string scenario_path;
  std::string scenario_toml;  // the whole scenario file: a trace replays on its own
  std::uint64_t seed = 0;
  std::string fault_plan_toml;
  std::optional<Branch> branch;
  bool passed = true;
  std::string failed_property;
  std::string failure_detail;
  std::uint64_t trace_hash = 0;
  std::uint64_t event_count = 0;
};

struct TraceFile {
  TraceHeader header;
  std::vector<std::string> records;  // see trace_log.h
};

std::string encode_trace(const TraceFile& trace);
Result<TraceFile> decode_trace(std::string_view file_bytes);

// Written to a temporary name, synced, then renamed: never half a trace.
Status write_trace(const std::string& path, const TraceFile& trace);
Result<TraceFile> read_trace(const std::string& path);

// A hash of this executable: two builds are the same build exactly when
// their binaries are identical.
const std::string& build_id();

}  // namespace doppel::sim
