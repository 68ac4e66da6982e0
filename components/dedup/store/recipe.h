#pragma once
// A version's recipe: for each 4 KiB block position of the image, a block
// pointer (paper §3.2.1) that is
//   - null: the block is all zero, synthesised on read;
//   - direct: block `index` of segment `target`;
//   - indirect: the same content is at position `index` of the later version
//     `target` of the same image (set by reverse dedup; followed on read,
//     possibly through a chain of later versions).
// The newest version of an image holds no indirect reference.
//
// Each entry also keeps its block's fingerprint, so reverse dedup needs no
// segment metadata of the previous version and verify() can check a
// version end to end.
//
// On disk, little-endian: a fixed header of kRecipeHeaderBytes (what boot
// reads, with its own checksum and the body's), then 45 bytes per position:
// u8 kind, u64 target, u32 index, 32-byte digest (zero for null).
//
// Reverse dedup (paper) is not the only source of sharing: a direct
// reference may point into a segment another image stored (coarse dedup of
// a whole segment, or cross-image dedup of single blocks, cross_dedup.h).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "components/dedup/hash/fingerprint.h"
#include "components/dedup/store/options.h"
#include "runtime/result.h"

namespace doppel::dedup {

inline constexpr std::size_t kRecipeHeaderBytes = 256;

enum class RefKind : std::uint8_t { null = 0, direct = 1, indirect = 2 };

struct RecipeEntry {
  RefKind kind = RefKind::null;
  std::uint64_t target = 0;  // direct: segment id; indirect: the later version
  std::uint32_t index = 0;   // direct: block of that segment; indirect: position in that version
  Fingerprint fp;            // the block's content; zero for null entries

  bool operator==(const RecipeEntry&) const = default;
};

// Logical bytes of one version or many, by how they are reached.
struct RecipeSpace {
  std::uint64_t null_bytes = 0;
  std::uint64_t direct_bytes = 0;
  std::uint64_t indirect_bytes = 0;

  std::uint64_t total() const { return null_bytes + direct_bytes + indirect_bytes; }
  RecipeSpace& operator+=(const RecipeSpace& o);
  RecipeSpace& operator-=(const RecipeSpace& o);
  bool operator==(const RecipeSpace&) const = default;
};

// What dedup saved when a version was committed, beyond its null blocks (facts of the commit,
// kept as they were while later changes rewrite the recipe; zero in recipes older than them).
struct CommitSavings {
  std::uint64_t segment_bytes = 0;  // in segments stored already (coarse, paper §3.1)
  std::uint64_t cross_bytes = 0;    // blocks found in other segments (cross_dedup.h)

  CommitSavings& operator+=(const CommitSavings& o);
  CommitSavings& operator-=(const CommitSavings& o);
  bool operator==(const CommitSavings&) const = default;
};

struct RecipeHeader {
  std::string image;
  VersionNumber version = 0;
  HashKind kind = HashKind::sha256;
  std::uint64_t image_bytes = 0;
  RecipeSpace space;
  CommitSavings saved;

  bool operator==(const RecipeHeader&) const = default;
};

struct Recipe {
  std::string image;
  VersionNumber version = 0;
  HashKind kind = HashKind::sha256;
  std::uint64_t image_bytes = 0;
  std::vector<RecipeEntry> entries;  // one per block position
  CommitSavings saved;

  std::uint32_t block_length(std::size_t position) const;
  RecipeSpace space() const;
  RecipeHeader header() const;
};

std::string encode_recipe(const Recipe& recipe);
// corrupt on a bad checksum or format, or a header naming another version.
Result<Recipe> decode_recipe(std::string_view bytes, std::string_view image, VersionNumber version,
                             std::uint64_t image_bytes_max);
Result<RecipeHeader> decode_recipe_header(std::string_view bytes, std::string_view image,
                                          VersionNumber version, std::uint64_t image_bytes_max);

}  // namespace doppel::dedup
