#pragma once
// The event stream of a run and its running hash. Every recorded event is
// encoded (values only, never addresses) and mixed into the hash; so is every
// scheduling decision and every agenda event, so two runs with the same hash
// interleaved identically. Each stored record carries the hash as it stood
// after that event: a replay that drifts in scheduling between two events is
// caught at the next one.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/event.h"
#include "runtime/time.h"
#include "sim/scheduler.h"

namespace doppel::sim {

// A fast, seedless 64-bit mixing hash (not cryptographic).
class Hasher {
 public:
  void mix(std::uint64_t word) {
    h_ = (h_ ^ word) * 0x9e3779b97f4a7c15ULL;
    h_ ^= h_ >> 29;
  }
  void mix_bytes(std::string_view bytes);
  std::uint64_t value() const { return h_ ^ (h_ >> 32); }

 private:
  std::uint64_t h_ = 0xcbf29ce484222325ULL;
};

inline constexpr std::size_t kRecordHashBytes = 8;

class TraceLog {
 public:
  static constexpr std::uint64_t kStoredEventsMax = 50'000'000;

  explicit TraceLog(bool keep) : keep_(keep) {}

  void mix(std::uint64_t a, std::uint64_t b) {
    hasher_.mix(a);
    hasher_.mix(b);
  }
  void add(Instant at, NodeId node, CoreId core, const Event& event);

  std::uint64_t hash() const { return hasher_.value(); }
  std::uint64_t count() const { return count_; }
  bool keeps_events() const { return keep_; }
  // Each record: the encoded event followed by the 8-byte running hash.
  const std::vector<std::string>& records() const { return records_; }

 private:
  bool keep_;
  Hasher hasher_;
  std::uint64_t count_ = 0;
  std::string scratch_;
  std::vector<std::string> records_;
};

// Encoding of one event (see trace_log.cc for the layout).
void encode_event(std::string& out, Instant at, NodeId node, CoreId core, const Event& event);

// One record, decoded: what the event said, where and when.
struct DecodedDetail {
  std::string key;
  bool is_text = false;
  std::int64_t number = 0;
  std::string text;
};
struct DecodedRecord {
  std::uint64_t t_ns = 0;
  std::optional<NodeId> node;  // none: the world's own event
  CoreId core = 0;
  bool error = false;  // Severity::error
  std::string name;
  std::vector<DecodedDetail> details;
  bool truncated = false;  // the details stop early
};
// Nothing if the bytes do not even hold a time, a place and a name.
std::optional<DecodedRecord> decode_record(std::string_view record);

// "t=1.002003004 n1/c0 KvSet key=\"a\"" -- or a description of why the bytes
// do not decode.
std::string format_record(std::string_view record);
std::uint64_t record_hash(std::string_view record);

}  // namespace doppel::sim
