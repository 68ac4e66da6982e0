#pragma once
// The dedup store's metadata files, decoded by the oracle itself: what the
// `refcounts-balance` property reads straight from the server's simulated
// disk (reference_counts.h judges it).
//
// Why a decoder of our own: the property must not take the store's word for
// the counts it checks, and the store's decoders are part of that word. A
// store whose encoder and decoder share a mistake, or whose decoder repairs
// what it reads, would pass a check that reads through them. So this file
// follows the layout the component documents (components/dedup/README.md,
// "On-disk layout"; store/segment_meta.h and store/recipe.h) and includes
// none of the store's or the format's code. It shares only the hash
// primitive (components/dedup/hash: SHA-256, tested against the FIPS
// vectors), from which it computes the metadata checksum itself.
//
// The layout read (little-endian throughout):
//   segments/<id:016x>.meta: a 160-byte header -- "DDSEGM01", u8 hash kind
//     (1 SHA-256, 2 SHA-1), u64 id, 32-byte digest, u32 segment bytes, u32
//     generation, u32 block count, u32 flags (1: complete; 2: hooks follow,
//     their count in bits 8..15), u64 total refs, u64 data / stored / punched
//     / compacted bytes, u64 body checksum, the hooks (u64 each: an index for
//     cross-image dedup, no business of the counts'), zero padding to 152
//     bytes, u64 checksum of those 152 -- then 41 bytes per
//     block: u8 state (0 null, 1 present, 2 punched, 3 compacted, 4 borrowed),
//     u32 refs, u32 slot (borrowed: a u64 lender segment id instead), 32-byte
//     digest.
//   images/<image>/<v:010>.recipe: a 256-byte header -- "DDRECP01", u8 hash
//     kind, u8 name length, the name zero-padded to 128 bytes, u64 version,
//     u64 image bytes, u64 null / direct / indirect bytes, u64 body checksum,
//     u64 bytes saved at commit by segment / by cross-image dedup (reports,
//     not counts), zero padding to 248 bytes, u64 checksum of those 248 -- then 45 bytes
//     per 4 KiB position: u8 kind (0 null, 1 direct, 2 indirect), u64 target
//     (segment id, or later version), u32 index, 32-byte digest.
//   A checksum is the first eight bytes of the SHA-256 of the bytes, read as
//   a little-endian u64.
// Every field the layout ties to another is checked (sizes, block counts,
// the header's totals against the body), so a decoded file is one the
// store wrote whole.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/result.h"

namespace doppel::properties::dedup {

inline constexpr std::uint64_t kDiskBlockBytes = 4096;
using Digest = std::array<std::uint8_t, 32>;  // a SHA-1 digest is zero-padded

// borrowed: an upload left the block out, naming the segment holding its content (its lender),
// until the commit that references the segment (then it is compacted).
enum class DiskBlockState : std::uint8_t {
  null = 0,
  present = 1,
  punched = 2,
  compacted = 3,
  borrowed = 4,
};
enum class DiskRefKind : std::uint8_t { null = 0, direct = 1, indirect = 2 };

struct DiskBlock {
  DiskBlockState state = DiskBlockState::null;
  std::uint32_t refs = 0;
  std::uint32_t slot = 0;    // in blocks from the start of the data file
  std::uint64_t lender = 0;  // borrowed: in place of refs and slot
  Digest digest{};
};

struct DiskSegment {
  std::uint64_t id = 0;
  std::uint8_t hash_kind = 0;
  std::uint32_t bytes = 0;
  std::uint32_t generation = 0;
  std::uint64_t refs_total = 0;
  std::vector<DiskBlock> blocks;

  std::uint64_t block_length(std::size_t b) const;
};

struct DiskEntry {
  DiskRefKind kind = DiskRefKind::null;
  std::uint64_t target = 0;
  std::uint32_t index = 0;
  Digest digest{};
};

struct DiskRecipe {
  std::string image;
  std::uint64_t version = 0;
  std::uint8_t hash_kind = 0;
  std::uint64_t image_bytes = 0;
  std::vector<DiskEntry> entries;  // one per 4 KiB position

  std::uint64_t block_length(std::size_t position) const;
};

// Decodes segment `id`'s metadata file; corrupt naming what is wrong.
Result<DiskSegment> decode_disk_segment(std::string_view bytes, std::uint64_t id);
// Decodes the recipe of `image` version `version`; corrupt naming what is wrong.
Result<DiskRecipe> decode_disk_recipe(std::string_view bytes, std::string_view image,
                                      std::uint64_t version);

// File names: segments/<16 hex>.meta and segments/<16 hex>.<generation>.data.
struct DiskSegmentFile {
  std::uint64_t id = 0;
  bool is_meta = false;
  std::uint32_t generation = 0;
};
std::optional<DiskSegmentFile> parse_disk_segment_file(std::string_view name);
// images/<image>/<10 decimal digits>.recipe or .gone.
struct DiskVersionFile {
  std::uint64_t version = 0;
  bool is_recipe = false;
};
std::optional<DiskVersionFile> parse_disk_version_file(std::string_view name);

// The oracle's own metadata checksum (see above).
std::uint64_t disk_checksum(std::string_view bytes);
// The digest of a block's bytes under the hash kind (1 SHA-256, 2 SHA-1).
Digest disk_block_digest(std::uint8_t hash_kind, std::string_view bytes);

}  // namespace doppel::properties::dedup
