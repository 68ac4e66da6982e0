#pragma once
// Per-segment metadata (paper §3.3: "each segment [has] a metadata file that
// keeps the block fingerprints and reference counts of all blocks"), plus
// what we need beyond the paper: each block's state (null, present, punched,
// compacted) and its slot in the data file, and the data file's generation.
//
// A block's reference count is the number of direct references to it from
// all versions of all images. Null blocks are never stored nor referenced.
//
// On disk, little-endian: a fixed header of kSegmentHeaderBytes (what boot
// reads of every segment, with its own checksum), then per block 41 bytes:
// u8 state, u32 refs, u32 slot, 32-byte digest (a borrowed block has no refs
// nor slot: those eight bytes are its lender's id, a u64). The header holds
// the body's checksum, so a torn or rotten file is detected (Errc::corrupt).
//
// A segment may be uploaded without the blocks other segments hold already
// (upload avoidance, cross_dedup.h): those are `borrowed`, naming the lender
// whose present block of the same fingerprint stands for them. Such a
// segment is born compacted: its data file (generation 1) holds only its
// other blocks, packed. Borrowing lasts until the first commit naming the
// segment, which references the lenders' blocks instead and turns borrowed
// into compacted; until then no version references the segment.
//
// The header also carries the segment's hooks (kHooksPerSegment): the
// smallest 64-bit prefixes of its present blocks' digests, a min-hash sample
// of its content that boot indexes without reading the blocks, so that a new
// segment sharing most blocks with this one finds it (cross-image dedup,
// cross_dedup.h). Files written before hooks existed have none (a flag tells):
// such a segment is found again once its metadata is next rewritten.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "components/dedup/hash/fingerprint.h"
#include "components/dedup/store/options.h"
#include "runtime/result.h"

namespace doppel::dedup {

inline constexpr std::size_t kSegmentHeaderBytes = 160;
inline constexpr std::size_t kHooksPerSegment = 3;

enum class BlockState : std::uint8_t {
  null = 0,
  present = 1,
  punched = 2,
  compacted = 3,
  borrowed = 4,
};

// Space of one segment or of many. Always data = stored + punched + compacted.
struct SegmentSpace {
  std::uint64_t data_bytes = 0;       // non-null bytes, as uploaded
  std::uint64_t stored_bytes = 0;     // of those, still in the data file
  std::uint64_t punched_bytes = 0;    // freed by punching holes
  std::uint64_t compacted_bytes = 0;  // freed by compaction

  bool balanced() const { return data_bytes == stored_bytes + punched_bytes + compacted_bytes; }
  SegmentSpace& operator+=(const SegmentSpace& o);
  SegmentSpace& operator-=(const SegmentSpace& o);
  bool operator==(const SegmentSpace&) const = default;
};

struct SegmentBlock {
  Fingerprint fp;
  std::uint32_t refs = 0;
  BlockState state = BlockState::null;
  // In blocks from the start of the data file: where a present (or punched)
  // block is. Generation 0 files keep block i at slot i; compaction packs.
  std::uint32_t slot = 0;
  SegmentId lender = 0;  // borrowed: the segment holding its content

  bool operator==(const SegmentBlock&) const = default;
};

// What boot keeps of every segment.
struct SegmentHeader {
  SegmentId id = 0;
  Fingerprint fp;
  std::uint32_t bytes = 0;
  std::uint32_t generation = 0;
  std::uint32_t block_count = 0;
  bool complete = true;    // no block removed: the segment can be deduplicated against
  bool borrowing = false;  // some blocks are borrowed: an upload waiting for its commit
  std::uint64_t refs_total = 0;
  SegmentSpace space;
  bool hooks_known = true;  // false: metadata written before hooks
  std::uint32_t hook_count = 0;
  std::array<std::uint64_t, kHooksPerSegment> hooks{};  // ascending; hook_count of them

  std::span<const std::uint64_t> hook_span() const { return {hooks.data(), hook_count}; }

  bool operator==(const SegmentHeader&) const = default;
};

struct SegmentMeta {
  SegmentId id = 0;
  Fingerprint fp;
  std::uint32_t bytes = 0;
  std::uint32_t generation = 0;
  std::vector<SegmentBlock> blocks;

  bool complete() const;
  bool borrowing() const;
  std::uint64_t refs_total() const;
  SegmentSpace space() const;
  SegmentHeader header() const;
  std::uint32_t block_length(std::size_t b) const;
  bool operator==(const SegmentMeta&) const = default;
};

// The hook of a block: the first eight bytes of its digest.
std::uint64_t block_hook(const Fingerprint& fp);

// A fresh segment: every non-null block present at its own slot, no references.
SegmentMeta new_segment_meta(SegmentId id, const Fingerprint& fp, std::uint32_t bytes,
                             const std::vector<Fingerprint>& block_fps,
                             const std::vector<bool>& null_blocks);

// A segment uploaded without the blocks `lenders` names (per block, 0 for one sent): those are
// borrowed, the others present, packed in a data file of generation 1. `null_blocks` as above.
SegmentMeta borrowing_segment_meta(SegmentId id, const Fingerprint& fp, std::uint32_t bytes,
                                   const std::vector<Fingerprint>& block_fps,
                                   const std::vector<bool>& null_blocks,
                                   std::span<const SegmentId> lenders);

std::string encode_segment_meta(const SegmentMeta& meta);
// corrupt on a bad checksum, a bad format or an id other than `id`.
Result<SegmentMeta> decode_segment_meta(std::string_view bytes, SegmentId id,
                                        std::uint32_t segment_bytes_max);
// Only the header: the first kSegmentHeaderBytes of the file suffice.
Result<SegmentHeader> decode_segment_header(std::string_view bytes, SegmentId id,
                                            std::uint32_t segment_bytes_max);

}  // namespace doppel::dedup
