#pragma once
// Shared by the store's tests: small-segment options and an eviction recorder.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "components/kv/store/store.h"

namespace doppel::kv::testing {

inline constexpr std::int64_t kT0 = 1'000'000;  // "now" at the start of a test

// 4 KiB segments, 1 KiB items, `segments` segments of memory.
inline StoreOptions small_options(std::uint32_t segments = 64) {
  StoreOptions options;
  options.segment_bytes = 4096;
  options.item_bytes_max = 1024;
  options.memory_bytes_max = std::uint64_t{segments} * options.segment_bytes;
  options.hash_seed = 7;
  return options;
}

class EvictionRecorder : public EvictionListener {
 public:
  void item_evicted(std::string_view key) override { keys.emplace_back(key); }
  void segment_evicted(const SegmentEviction& eviction) override { segments.push_back(eviction); }

  std::vector<std::string> keys;
  std::vector<SegmentEviction> segments;
};

inline std::string value_of(const std::optional<ItemView>& view) {
  return view ? std::string(view->value) : std::string("<missing>");
}

}  // namespace doppel::kv::testing
