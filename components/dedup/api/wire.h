#pragma once
// The bodies of the backup server's HTTP API (http_api.h), both ways: what the server writes and
// what its clients (client.h) read back. JSON for reports and listings, one fingerprint per line
// for segment queries, the manifest codec (client/manifest.h) for commits.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "components/dedup/store/store.h"

namespace doppel::dedup {

// GET /info: what a client needs to cut images the server accepts.
struct ServerInfo {
  HashKind hash = HashKind::sha256;
  std::uint32_t segment_bytes = kSegmentBytesDefault;  // the size to cut at
  std::uint32_t segment_bytes_max = kSegmentBytesMax;  // the largest segment accepted
  std::uint64_t image_bytes_max = 0;
  std::uint32_t query_fingerprints_max = 0;  // per POST /segments/query
};
std::string info_to_json(const ServerInfo& info);
Result<ServerInfo> info_from_json(std::string_view json);

// POST /segments/query: the body is one fingerprint per line in lower- or upper-case hex (64
// digits for sha256, 40 for sha1; "\n" or "\r\n" ends a line; the last needs none). The answer
// is one character per fingerprint, in order, '1' stored and '0' not, then "\n".
std::string encode_fingerprint_lines(std::span<const Fingerprint> fps);
// invalid_argument naming the line; too_large past `count_max` lines.
Result<std::vector<Fingerprint>> decode_fingerprint_lines(std::string_view body, HashKind kind,
                                                          std::size_t count_max);
std::string encode_presence(const std::vector<bool>& present);
// protocol unless it holds exactly `count` answers.
Result<std::vector<bool>> decode_presence(std::string_view body, std::size_t count);

// GET /images: per image its versions and sizes.
struct ImageSummary {
  std::string name;
  std::uint64_t versions = 0;
  VersionNumber oldest = 0;
  VersionNumber latest = 0;
  std::uint64_t latest_bytes = 0;   // the size of the latest version
  std::uint64_t logical_bytes = 0;  // the sizes of all its versions
};
std::string images_to_json(std::span<const ImageSummary> images);
Result<std::vector<ImageSummary>> images_from_json(std::string_view json);

// GET /images/{name}: its versions.
std::string versions_to_json(std::string_view image, std::span<const VersionInfo> versions);
Result<std::vector<VersionInfo>> versions_from_json(std::string_view json);

// GET /images/{name}/versions/{v}/layout: the version's restore fragmentation.
std::string layout_to_json(std::string_view image, VersionNumber version,
                           const RestoreLayout& layout);
Result<RestoreLayout> layout_from_json(std::string_view json);

// POST /images/{name}/versions: the new version and what reverse dedup did.
std::string commit_to_json(std::string_view image, const CommitResult& result);
Result<CommitResult> commit_from_json(std::string_view json);

// DELETE /images/{name}/versions/{v}.
std::string remove_to_json(std::string_view image, VersionNumber version,
                           const RemoveResult& result);
Result<RemoveResult> remove_from_json(std::string_view json);

// POST /admin/gc.
std::string gc_to_json(const GcReport& report);
Result<GcReport> gc_from_json(std::string_view json);

// POST /admin/verify: "clean", the counts, "problems" (damaged files by path) and "damage"
// (ranges of versions: image, version, offset, length, what).
std::string verify_to_json(const VerifyReport& report);
Result<VerifyReport> verify_from_json(std::string_view json);

// GET /stats: every StoreStats field by its name, and "balanced".
std::string stats_to_json(const StoreStats& stats);
Result<StoreStats> stats_from_json(std::string_view json);

}  // namespace doppel::dedup
