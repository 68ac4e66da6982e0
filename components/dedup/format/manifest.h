#pragma once
// The version manifest: what a client sends to commit one version of an
// image (paper §3.4: "all segment and block fingerprints for the whole VM
// image and the information of the version"), and its binary codec.
//
// An image is cut into segments of segment_bytes (the last may be short) and
// each segment into blocks of kBlockBytes (the last block of the image may be
// short). Segments follow each other in image order, so the sum of their
// sizes is the image size. A null block (all zero bytes) is flagged: it is
// never stored and reads synthesise it.
//
// Codec (little-endian): "DDMANI01", u8 hash kind, u64 image bytes, u32
// segment count, then per segment: digest, u32 bytes, and per block a u8
// null flag and (if not null) the digest; last, u64 checksum64 of all before.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "components/dedup/hash/fingerprint.h"
#include "runtime/result.h"

namespace doppel::dedup {

inline constexpr std::uint32_t kBlockBytes = 4096;
inline constexpr std::uint32_t kSegmentBytesDefault = 4u << 20;
// Segments of a single block are allowed (tests use 16-64 KiB); the paper
// uses 4-32 MiB.
inline constexpr std::uint32_t kSegmentBytesMin = kBlockBytes;
inline constexpr std::uint32_t kSegmentBytesMax = 32u << 20;
inline constexpr std::uint64_t kImageBytesMax = 1ull << 40;  // 1 TiB

struct BlockManifest {
  Fingerprint fp;
  bool null = false;  // all zero: fp is null_fingerprint(kind, its length)

  bool operator==(const BlockManifest&) const = default;
};

struct SegmentManifest {
  Fingerprint fp;  // of the segment's bytes, null blocks included
  std::uint32_t bytes = 0;
  std::vector<BlockManifest> blocks;

  bool all_null() const;  // nothing in it to store: it need not be uploaded
  bool operator==(const SegmentManifest&) const = default;
};

struct VersionManifest {
  HashKind kind = HashKind::sha256;
  std::uint64_t image_bytes = 0;
  std::vector<SegmentManifest> segments;

  std::uint64_t block_count() const;
  bool operator==(const VersionManifest&) const = default;
};

// Blocks in a segment (or image) of `bytes`, the last one possibly short.
std::uint64_t blocks_in(std::uint64_t bytes);
// The length of block `index` of a segment (or image) of `bytes`.
std::uint32_t block_bytes_at(std::uint64_t bytes, std::uint64_t index);

// A segment's manifest from its bytes: each block's fingerprint and null flag, and the segment's
// fingerprint. Pure and CPU-bound (the client cuts with it, the server checks uploads with it).
SegmentManifest segment_manifest_of(HashKind kind, std::string_view bytes);
// The same in two steps, so that parts of a segment can be hashed apart (on two cores): blocks
// [first, end) of the segment's `bytes` into out[first, end), where out has one entry a block;
// then the segment's manifest from all of them.
void hash_blocks(HashKind kind, std::string_view bytes, std::size_t first, std::size_t end,
                 std::span<BlockManifest> out);
SegmentManifest segment_manifest_from(HashKind kind, std::uint32_t bytes,
                                      std::vector<BlockManifest> blocks);

struct ManifestLimits {
  std::uint32_t segment_bytes_max = kSegmentBytesMax;
  std::uint64_t image_bytes_max = kImageBytesMax;
};

// invalid_argument / too_large naming the first thing wrong: kinds, sizes,
// block counts, null flags that disagree with the fingerprints.
Status check_manifest(const VersionManifest& manifest, const ManifestLimits& limits);

std::string encode_manifest(const VersionManifest& manifest);
// corrupt if truncated, trailing bytes or a bad checksum; then check_manifest.
Result<VersionManifest> decode_manifest(std::string_view bytes, const ManifestLimits& limits);

}  // namespace doppel::dedup
