#include "components/kv/server/config.h"

#include <charconv>

namespace doppel::kv {
namespace {

Result<std::uint64_t> number(const std::string& key, const std::string& text, std::uint64_t lo,
                             std::uint64_t hi) {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < lo || v > hi) {
    return make_error(Errc::invalid_argument, key + ": expected a whole number from " + std::to_string(lo) +
                                                  " to " + std::to_string(hi) + ", got '" + text + "'");
  }
  return v;
}

}  // namespace

Result<KvConfig> parse_kv_config(const NodeConfig& node) {
  KvConfig c;
  for (const auto& [key, value] : node.settings) {
    if (key == "memory_mb") {
      auto v = number(key, value, 1, 1u << 20);
      if (!v) return v.error();
      c.memory_bytes = *v << 20;
    } else if (key == "memory_kb") {
      auto v = number(key, value, 64, 1ull << 30);
      if (!v) return v.error();
      c.memory_bytes = *v << 10;
    } else if (key == "segment_kb") {
      auto v = number(key, value, 16, 64 * 1024);
      if (!v) return v.error();
      if ((*v & (*v - 1)) != 0) return make_error(Errc::invalid_argument, key + ": must be a power of two");
      c.segment_bytes = static_cast<std::uint32_t>(*v << 10);
    } else if (key == "item_size_max") {
      auto v = number(key, value, 1024, 16u << 20);
      if (!v) return v.error();
      c.item_bytes_max = static_cast<std::uint32_t>(*v);
    } else if (key == "connections_max") {
      auto v = number(key, value, 1, 1u << 20);
      if (!v) return v.error();
      c.connections_max = static_cast<std::uint32_t>(*v);
    } else if (key == "trace_evictions" || key == "strict_keys") {
      if (value != "true" && value != "false") return make_error(Errc::invalid_argument, key + ": expected true or false");
      (key == "trace_evictions" ? c.trace_evictions : c.strict_keys) = value == "true";
    } else {
      return make_error(Errc::invalid_argument,
                        key + ": unknown setting (kv has memory_mb, memory_kb, segment_kb, item_size_max, "
                              "connections_max, trace_evictions, strict_keys)");
    }
  }
  if (c.item_bytes_max > c.segment_bytes) {
    return make_error(Errc::invalid_argument, "item_size_max: larger than a segment (segment_kb)");
  }
  if (node.bug == "swapped-replies") {
    c.bug_swapped_replies = true;
  } else if (node.bug == "lost-at-roll") {
    c.bug_lost_at_roll = true;
  } else if (!node.bug.empty()) {
    return make_error(Errc::invalid_argument, "bug: kv has no planted bug '" + node.bug + "'");
  }
  return c;
}

}  // namespace doppel::kv
