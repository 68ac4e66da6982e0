#include "components/dedup/store/block_removal.h"

#include "components/dedup/format/manifest.h"

namespace doppel::dedup {
namespace {

std::uint64_t count_state(const SegmentMeta& m, BlockState state) {
  std::uint64_t n = 0;
  for (const SegmentBlock& b : m.blocks) n += b.state == state ? 1 : 0;
  return n;
}

void plan_punch(RemovalPlan& plan) {
  for (const std::uint32_t b : plan.removed) {
    SegmentBlock& blk = plan.after.blocks[b];
    blk.state = BlockState::punched;
    const std::uint64_t offset = std::uint64_t{blk.slot} * kBlockBytes;
    const std::uint64_t length = plan.after.block_length(b);
    if (!plan.punches.empty() &&
        plan.punches.back().offset + plan.punches.back().length == offset) {
      plan.punches.back().length += length;
    } else {
      plan.punches.push_back(PunchRun{offset, length});
    }
  }
}

void plan_compact(RemovalPlan& plan) {
  SegmentMeta& m = plan.after;
  ++m.generation;
  std::uint32_t slot = 0;
  for (SegmentBlock& blk : m.blocks) {
    if (blk.state == BlockState::present) {
      blk.slot = slot++;
    } else if (blk.state == BlockState::punched) {
      blk.state = BlockState::compacted;
    }
  }
}

}  // namespace

std::string_view removal_kind_name(RemovalKind kind) {
  switch (kind) {
    case RemovalKind::none:
      return "none";
    case RemovalKind::punch:
      return "punch";
    case RemovalKind::compact:
      return "compact";
    case RemovalKind::drop:
      return "drop";
  }
  return "unknown";
}

RemovalPlan plan_block_removal(const SegmentMeta& meta, const BlockDeltas& deltas,
                               std::uint32_t rebuild_threshold_percent) {
  DOPPEL_ASSERT(rebuild_threshold_percent <= 100);
  RemovalPlan plan;
  plan.after = meta;
  bool settled = false;  // borrowed blocks became compacted
  for (const auto& [b, delta] : deltas) {
    DOPPEL_ASSERT(b < meta.blocks.size());
    SegmentBlock& blk = plan.after.blocks[b];
    if (blk.state == BlockState::borrowed) {
      // Its commit references the lender's block instead: never stored here, nothing to remove.
      DOPPEL_ASSERT_MSG(delta == 0, "a count change on a borrowed block");
      blk.state = BlockState::compacted;
      blk.lender = 0;
      settled = true;
      continue;
    }
    DOPPEL_ASSERT_MSG(blk.state == BlockState::present, "a count change on a block not stored");
    const std::int64_t refs = std::int64_t{blk.refs} + delta;
    DOPPEL_ASSERT_MSG(refs >= 0, "a reference count below zero");
    DOPPEL_ASSERT(refs <= std::int64_t{0xffffffff});
    // Dropped to zero here, or never referenced and named: a fresh segment's lent block.
    if (refs == 0) plan.removed.push_back(b);
    blk.refs = static_cast<std::uint32_t>(refs);
  }
  const std::uint64_t punched = count_state(meta, BlockState::punched);
  const std::uint64_t file_blocks = count_state(meta, BlockState::present) + punched;
  if (plan.removed.empty()) {
    // A segment whose every block was borrowed keeps nothing: it goes.
    if (settled && file_blocks == 0) plan.kind = RemovalKind::drop;
    return plan;
  }
  const std::uint64_t holes = punched + plan.removed.size();
  DOPPEL_ASSERT(holes <= file_blocks);
  for (const std::uint32_t b : plan.removed) plan.after.blocks[b].state = BlockState::compacted;
  if (holes == file_blocks) {
    plan.kind = RemovalKind::drop;
    return plan;
  }
  for (const std::uint32_t b : plan.removed) plan.after.blocks[b].state = BlockState::present;
  if (holes * 100 < std::uint64_t{rebuild_threshold_percent} * file_blocks) {
    plan.kind = RemovalKind::punch;
    plan_punch(plan);
  } else {
    plan.kind = RemovalKind::compact;
    for (const std::uint32_t b : plan.removed) plan.after.blocks[b].state = BlockState::compacted;
    plan_compact(plan);
  }
  return plan;
}

Result<std::string> compact_data(const SegmentMeta& before, const SegmentMeta& after,
                                 std::string_view old_data) {
  DOPPEL_ASSERT(before.blocks.size() == after.blocks.size());
  DOPPEL_ASSERT(after.generation == before.generation + 1);
  std::vector<std::uint32_t> live;
  std::vector<std::string_view> pieces;
  for (std::uint32_t b = 0; b < after.blocks.size(); ++b) {
    if (after.blocks[b].state != BlockState::present) continue;
    DOPPEL_ASSERT(before.blocks[b].state == BlockState::present);
    const std::uint64_t from = std::uint64_t{before.blocks[b].slot} * kBlockBytes;
    const std::uint32_t length = before.block_length(b);
    // A file may end early where trailing blocks were punched or never
    // written (null); a live block inside it is always whole.
    if (from + length > old_data.size()) {
      return make_error(Errc::corrupt,
                        "segment " + std::to_string(before.id) + ": data file short");
    }
    live.push_back(b);
    pieces.push_back(old_data.substr(from, length));
  }
  // Every copied block is hashed first, so a bit flipped on its way from the disk is never
  // made permanent (all of them at once: Hasher::of_each hashes two at a time).
  std::vector<Fingerprint> fps(pieces.size());
  Hasher::of_each(before.fp.kind, pieces, fps);
  std::string out;
  for (std::size_t i = 0; i < live.size(); ++i) {
    const std::uint32_t b = live[i];
    if (fps[i] != before.blocks[b].fp) {
      return make_error(Errc::corrupt, "segment " + std::to_string(before.id) + " block " +
                                           std::to_string(b) + " fails its fingerprint");
    }
    DOPPEL_ASSERT(after.blocks[b].slot * std::uint64_t{kBlockBytes} == out.size());
    out.append(pieces[i]);
  }
  return out;
}

}  // namespace doppel::dedup
