#include "components/dedup/api/config.h"

#include <algorithm>
#include <charconv>
#include <string>

namespace doppel::dedup {
namespace {

constexpr std::uint64_t kImageGbMax = kImageBytesMax >> 30;
constexpr std::uint64_t kTtlSecondsMax = 365ull * 24 * 3600;
constexpr std::uint64_t kConnectionsMax = 1u << 16;

Error bad(const std::string& key, const std::string& what) {
  return make_error(Errc::invalid_argument, key + ": " + what);
}

Result<std::uint64_t> number(const std::string& key, const std::string& text, std::uint64_t lo,
                             std::uint64_t hi) {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < lo || v > hi) {
    return bad(key, "expected a whole number from " + std::to_string(lo) + " to " +
                        std::to_string(hi) + ", got '" + text + "'");
  }
  return v;
}

Result<bool> boolean(const std::string& key, const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return bad(key, "expected true or false, got '" + text + "'");
}

// One setting into `c`; false if the key is not a setting of ours.
Result<bool> apply(const std::string& key, const std::string& value, DedupConfig& c) {
  if (key == "segment_mb") {
    auto v = number(key, value, 1, kSegmentBytesMax >> 20);
    if (!v) return v.error();
    c.segment_bytes = static_cast<std::uint32_t>(*v << 20);
    c.store.segment_bytes_max = c.segment_bytes;
  } else if (key == "hash") {
    const auto kind = parse_hash_kind(value);
    if (!kind) return bad(key, "expected \"sha256\" or \"sha1\", got '" + value + "'");
    c.store.hash = *kind;
  } else if (key == "rebuild_threshold_percent") {
    auto v = number(key, value, 0, 100);
    if (!v) return v.error();
    c.store.rebuild_threshold_percent = static_cast<std::uint32_t>(*v);
  } else if (key == "image_gb") {
    auto v = number(key, value, 1, kImageGbMax);
    if (!v) return v.error();
    c.store.image_bytes_max = *v << 30;
  } else if (key == "unreferenced_ttl_s") {
    auto v = number(key, value, 0, kTtlSecondsMax);
    if (!v) return v.error();
    c.store.unreferenced_ttl = Duration(static_cast<std::int64_t>(*v) * 1'000'000'000);
  } else if (key == "verify_reads") {
    auto v = boolean(key, value);
    if (!v) return v.error();
    c.store.verify_reads = *v;
  } else if (key == "connections_max") {
    auto v = number(key, value, 1, kConnectionsMax);
    if (!v) return v.error();
    c.connections_max = static_cast<std::uint32_t>(*v);
  } else {
    return false;
  }
  return true;
}

}  // namespace

Result<DedupConfig> parse_dedup_config(const NodeConfig& node) {
  DedupConfig c;
  c.store.segment_bytes_max = c.segment_bytes;
  for (const auto& [key, value] : node.settings) {
    auto known = apply(key, value, c);
    if (!known) return known.error();
    if (!*known) {
      return bad(key,
                 "unknown setting (dedup has segment_mb, hash, rebuild_threshold_percent, "
                 "image_gb, unreferenced_ttl_s, verify_reads, connections_max)");
    }
  }
  if (node.bug == "skip-decrement") {
    c.store.planted_bug = PlantedBug::skip_decrement;
  } else if (node.bug == "commit-unsynced") {
    c.store.planted_bug = PlantedBug::commit_unsynced;
  } else if (node.bug == "verify-skips-data") {
    c.store.planted_bug = PlantedBug::verify_skips_data;
  } else if (!node.bug.empty()) {
    return bad("bug", "dedup has no planted bug '" + node.bug + "'");
  }
  if (Status s = check_store_options(c.store); !s) return s.error();
  return c;
}

std::uint64_t manifest_bytes_max(const DedupConfig& c) {
  // The codec: "DDMANI01", kind, image bytes, segment count; per segment a digest and its size;
  // per block a null flag and a digest; the checksum. Short last segments add one entry.
  constexpr std::uint64_t kFixedBytes = 8 + 1 + 8 + 4 + 8;
  const std::uint64_t digest = digest_bytes(c.store.hash);
  // Clients may cut smaller segments than the advertised ones, down to 1 MiB (the CLI's least).
  constexpr std::uint64_t kClientSegmentBytesMin = 1u << 20;
  const std::uint64_t segment_bytes =
      std::min<std::uint64_t>(c.segment_bytes, kClientSegmentBytesMin);
  const std::uint64_t segments = c.store.image_bytes_max / segment_bytes + 1;
  const std::uint64_t blocks = c.store.image_bytes_max / kBlockBytes + segments;
  return kFixedBytes + segments * (digest + 4) + blocks * (1 + digest);
}

}  // namespace doppel::dedup
