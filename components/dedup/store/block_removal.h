#pragma once
// Removing blocks whose reference count dropped to zero (paper §3.2.3):
// punch holes while the segment's holes (earlier ones and these) stay below
// the rebuild threshold, as a percentage of the blocks its data file holds;
// otherwise compact it into a new data file of only its live blocks. When no
// live block is left the segment is dropped. Pure code: the plan; the store
// does the I/O.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "components/dedup/store/reverse_dedup.h"
#include "components/dedup/store/segment_meta.h"

namespace doppel::dedup {

enum class RemovalKind : std::uint8_t { none, punch, compact, drop };

std::string_view removal_kind_name(RemovalKind kind);

struct PunchRun {
  std::uint64_t offset = 0;  // in the data file
  std::uint64_t length = 0;
};

struct RemovalPlan {
  RemovalKind kind = RemovalKind::none;
  SegmentMeta after;                   // counts applied, blocks removed (unused for drop)
  std::vector<std::uint32_t> removed;  // blocks whose count dropped to zero here
  std::vector<PunchRun> punches;       // for punch: merged runs
};

// Applies `deltas` to `meta` and plans the removal of the blocks named in
// `deltas` whose count ends at zero (dropped to it, or a fresh segment's
// block lent to another segment, named with a change of zero). A borrowed
// block named (with a change of zero: its commit references the lender)
// becomes compacted, and a segment left with no block in its file is
// dropped. Asserts that no count goes negative and that only present blocks
// change.
RemovalPlan plan_block_removal(const SegmentMeta& meta, const BlockDeltas& deltas,
                               std::uint32_t rebuild_threshold_percent);

// The compacted data file: the live blocks of `after`, read from the current
// file `old_data` laid out as `before`. Each block is re-hashed on the way:
// corrupt if one fails its fingerprint (a bit flipped on the disk or on the
// way from it must not be copied into the new file) or the file is short.
Result<std::string> compact_data(const SegmentMeta& before, const SegmentMeta& after,
                                 std::string_view old_data);

}  // namespace doppel::dedup
