#pragma once
// Cross-image block dedup, beyond the paper. RevDedup finds duplicates
// across images only as whole segments (§3.1) and block by block only
// against the same image's previous version (§3.2). A fleet of VMs cloned
// from one template, each edited in small scattered runs, defeats both: an
// edit touches nearly every segment of a clone, and the clone's blocks live
// in other images' segments. So every clone's latest version would be stored
// nearly whole.
//
// At commit, each segment no version referenced before (a fresh upload)
// lends its blocks' content to segments stored already: where another
// segment holds a block of the same fingerprint and length, present and
// referenced, the new version references that block instead, and the fresh
// copy is removed (punched, compacted or the segment dropped, as reverse
// dedup's removals are). Candidates come from the hook index (segment_table.h,
// a min-hash sample of each segment's blocks): a segment sharing most blocks
// with the fresh one shares one of its smallest hooks with high probability.
//
// The fragmentation budget: the blocks of a fresh segment of B bytes are
// read, after it lends, from at most max(2, B/MiB x segments_per_mib)
// segments (itself included), and a segment is borrowed from only if it
// replaces a worthwhile run of blocks (kBlocksPerTargetMin, or 1/128 of the
// segment). So the restore of a version reads a bounded number of segments
// per MiB, whatever its history. The target chosen first is the one
// replacing the most blocks; ties go to the newer segment (more likely in
// the latest versions, the ones restored).
//
// Borrowing at upload (upload avoidance): the same plan, made before the
// segment is sent rather than after. The client asks, for a segment the
// store lacks, which of its blocks other segments hold (the image's own
// previous version's segments excluded, as above), and uploads only the
// others. The store keeps the segment born compacted: the blocks sent,
// packed, and per borrowed block the lender (segment_meta.h). The commit
// naming it references the lenders' blocks, after checking each lender still
// holds its block and is referenced (else not_found: the client backs up
// again, which then uploads whole what nothing lends). So a clone's edited
// segments cross the network and reach the disk as what the clone changed,
// not as copies written and then punched out.
//
// Pure code: segment metadata in, a plan out; the store loads and saves.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "components/dedup/store/segment_meta.h"

namespace doppel::dedup {

inline constexpr std::size_t kBlocksPerTargetMin = 2;

struct BlockRef {
  SegmentId segment = 0;
  std::uint32_t block = 0;

  bool operator==(const BlockRef&) const = default;
};

struct CrossDedupPlan {
  std::vector<std::optional<BlockRef>> lent;  // per block of the fresh segment
  std::vector<SegmentId> targets;             // borrowed from, in the order chosen
  std::uint64_t blocks = 0;                   // lent
  std::uint64_t bytes = 0;
};

// How many other segments a fresh segment of `bytes` may borrow from.
std::size_t cross_dedup_targets_max(std::uint32_t bytes, std::uint32_t segments_per_mib);

// Which present blocks of `fresh` (a segment nothing references) the
// `candidates` can stand for, borrowing from at most `targets_max` of them.
// A candidate's block is borrowed only if present, referenced (refs > 0) and
// of the same length and fingerprint.
CrossDedupPlan plan_cross_dedup(const SegmentMeta& fresh,
                                std::span<const SegmentMeta* const> candidates,
                                std::size_t targets_max);

}  // namespace doppel::dedup
