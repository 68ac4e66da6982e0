#include "components/dedup/settings.h"

#include <algorithm>

#include "base/toml.h"

namespace doppel::dedup {
namespace {

constexpr std::int64_t kImageGbMax = static_cast<std::int64_t>(kImageBytesMax >> 30);
constexpr std::int64_t kTtlSecondsMax = 365ll * 24 * 3600;
constexpr std::int64_t kConnectionsMax = 1 << 16;

}  // namespace

Result<DedupSettings> DedupSettings::read(const toml::table& table, std::string_view source,
                                          const FileReader& files) {
  DedupSettings s;
  TomlFields f(table, source);
  const auto segment_mb = f.integer("segment_mb", 1, kSegmentBytesMax >> 20, s.segment_bytes >> 20);
  s.segment_bytes = static_cast<std::uint32_t>(segment_mb << 20);
  s.store.segment_bytes_max = s.segment_bytes;
  const std::string hash = f.choice("hash", {"sha256", "sha1"}, hash_kind_name(s.store.hash));
  if (const auto kind = parse_hash_kind(hash)) s.store.hash = *kind;
  s.store.rebuild_threshold_percent = static_cast<std::uint32_t>(
      f.integer("rebuild_threshold_percent", 0, 100, s.store.rebuild_threshold_percent));
  s.store.cross_dedup_segments_per_mib = static_cast<std::uint32_t>(
      f.integer("cross_dedup_segments_per_mib", 0, kCrossDedupSegmentsPerMibMax,
                s.store.cross_dedup_segments_per_mib));
  s.store.image_bytes_max =
      static_cast<std::uint64_t>(f.integer(
          "image_gb", 1, kImageGbMax, static_cast<std::int64_t>(s.store.image_bytes_max >> 30)))
      << 30;
  const auto ttl_s = f.integer("unreferenced_ttl_s", 0, kTtlSecondsMax,
                               to_ns(s.store.unreferenced_ttl) / 1'000'000'000);
  s.store.unreferenced_ttl = Duration(ttl_s * 1'000'000'000);
  s.store.verify_reads = f.boolean("verify_reads", s.store.verify_reads);
  s.connections_max = static_cast<std::uint32_t>(
      f.integer("connections_max", 1, kConnectionsMax, s.connections_max));
  s.access = access::read_service_access(f, files);
  s.policy.private_repos = f.boolean("private_repos", false);
  for (std::string& u : f.strings("append_only")) s.policy.append_only.insert(std::move(u));
  for (std::string& u : f.strings("admins")) s.policy.admins.insert(std::move(u));
  for (const auto* role : {&s.policy.append_only, &s.policy.admins}) {
    for (const std::string& u : *role) {
      if (s.access.users == nullptr || !s.access.users->contains(u)) {
        f.fail(role == &s.policy.admins ? "admins" : "append_only",
               "user '" + u + "' is not in the users_file");
        break;
      }
    }
  }
  if (s.policy.private_repos && f.ok() && s.access.users == nullptr) {
    f.fail("private_repos", "needs a users_file (without users there is nobody to keep apart)");
  }
  f.reject_unknown_keys();
  if (!f.ok()) return f.error();
  if (Status c = s.check(); !c) return toml_error(source, nullptr, "", c.error().what);
  return s;
}

Result<PlantedBug> dedup_planted_bug(std::string_view name) {
  if (name.empty()) return PlantedBug::none;
  if (name == "skip-decrement") return PlantedBug::skip_decrement;
  if (name == "verify-skips-data") return PlantedBug::verify_skips_data;
  if (name == "failed-commit-keeps-lock") return PlantedBug::failed_commit_keeps_lock;
  if (name == "summary-takes-oldest") return PlantedBug::summary_takes_oldest;
  if (name == "append-only-removes") return PlantedBug::append_only_removes;
  if (name == "punch-keeps-last-block") return PlantedBug::punch_keeps_last_block;
  if (name == "borrow-uncounted") return PlantedBug::borrow_uncounted;
  if (name == "borrow-unchecked") return PlantedBug::borrow_unchecked;
  return make_error(Errc::invalid_argument,
                    "bug: dedup has no planted bug '" + std::string(name) + "'");
}

std::uint64_t manifest_bytes_max(const DedupSettings& c) {
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
