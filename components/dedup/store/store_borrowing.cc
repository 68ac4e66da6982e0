// Upload avoidance (cross_dedup.h, "Borrowing at upload"): before a new segment is uploaded the
// client asks which of its blocks other segments hold already, and uploads only the others. The
// segment is stored born compacted: its borrowed blocks name their lenders until the commit
// that references it, which references the lenders' blocks instead (build_recipe).

#include <algorithm>
#include <set>
#include <unordered_map>

#include "components/dedup/store/cross_dedup.h"
#include "components/dedup/store/store.h"
#include "components/dedup/store/store_internal.h"

namespace doppel::dedup {
namespace {

Error read_only(const std::vector<std::string>& problems) {
  return make_error(Errc::corrupt, "metadata is damaged (" + problems.front() +
                                       "); the store is read-only until it is repaired");
}

std::vector<Fingerprint> block_fps_of(const SegmentManifest& segment) {
  std::vector<Fingerprint> fps;
  fps.reserve(segment.blocks.size());
  for (const BlockManifest& b : segment.blocks) fps.push_back(b.fp);
  return fps;
}

std::vector<bool> null_blocks_of(const SegmentManifest& segment) {
  std::vector<bool> nulls;
  nulls.reserve(segment.blocks.size());
  for (const BlockManifest& b : segment.blocks) nulls.push_back(b.null);
  return nulls;
}

}  // namespace

// The manifest of one segment, checked as a version of one segment is, and against its own
// fingerprint (the hash list of its blocks' digests).
Status Store::check_segment_manifest(const SegmentManifest& segment) const {
  if (Status s = check_segment(segment.fp, segment.bytes); !s) return s;
  const VersionManifest one{options_.hash, segment.bytes, {segment}};
  const ManifestLimits limits{options_.segment_bytes_max, options_.image_bytes_max};
  if (Status s = check_manifest(one, limits); !s) return s;
  if (segment_fingerprint_of(segment.fp.kind, block_fps_of(segment)) != segment.fp) {
    return make_error(Errc::invalid_argument, "segment " + segment.fp.short_hex() +
                                                  ": its blocks' fingerprints do not make it up");
  }
  return {};
}

// Direct references per segment of the image's latest version: the segments cross-image dedup
// leaves to reverse dedup. Kept for one (image, version): a backup asks once per segment.
Result<const std::map<SegmentId, std::uint64_t>*> Store::own_references(std::string_view image) {
  const std::optional<VersionNumber> latest = catalog_.latest(image);
  if (!latest) {
    own_cache_ = OwnReferences{};
    return &own_cache_.counts;
  }
  if (own_cache_.image == image && own_cache_.version == *latest && own_cache_.version != 0) {
    return &own_cache_.counts;
  }
  Result<Recipe> recipe = load_recipe(image, *latest);
  if (!recipe) return recipe.error();
  own_cache_ = OwnReferences{std::string(image), *latest, {}};
  for (const RecipeEntry& e : recipe->entries) {
    if (e.kind == RefKind::direct) ++own_cache_.counts[e.target];
  }
  return &own_cache_.counts;
}

Result<std::vector<SegmentId>> Store::plan_borrowing(std::string_view image,
                                                     const SegmentManifest& segment) {
  if (!valid_image_name(image)) {
    return make_error(Errc::invalid_argument, "image name '" + std::string(image) + "'");
  }
  if (Status s = check_segment_manifest(segment); !s) return s.error();
  std::vector<SegmentId> lenders(segment.blocks.size(), 0);
  const std::uint32_t per_mib = options_.cross_dedup_segments_per_mib;
  if (per_mib == 0 || segment.all_null()) return lenders;
  FairLockGuard guard(mutex_);
  if (Status s = ensure_ready(); !s) return s.error();
  if (!load_problems_.empty()) return read_only(load_problems_);
  if (segments_.find_complete(segment.fp)) return lenders;  // stored whole: nothing to send
  const SegmentMeta fresh = new_segment_meta(0, segment.fp, segment.bytes, block_fps_of(segment),
                                             null_blocks_of(segment));
  Result<const std::map<SegmentId, std::uint64_t>*> own = own_references(image);
  if (!own) return own.error();
  Plan plan;
  std::vector<const SegmentMeta*> candidates;
  for (const SegmentId c : cross_dedup_candidates(fresh, **own)) {
    Result<const SegmentMeta*> m = loaded_meta(c, plan);
    if (!m) return m.error();
    candidates.push_back(*m);
  }
  if (candidates.empty()) return lenders;
  const CrossDedupPlan p =
      plan_cross_dedup(fresh, candidates, cross_dedup_targets_max(segment.bytes, per_mib));
  for (std::size_t b = 0; b < lenders.size(); ++b) {
    if (p.lent[b]) lenders[b] = p.lent[b]->segment;
  }
  return lenders;
}

// Where a borrowed block's content is: a present block of the same fingerprint and length in its
// lender, a segment versions reference (one nothing references may be dropped any time, and
// its blocks are not counted). not_found once the lender gave it up: the segment must be
// uploaded whole.
Result<BlockRef> Store::lender_block(const SegmentMeta& borrower, std::uint32_t b,
                                     LenderIndex& index, Plan& plan) {
  const SegmentBlock& blk = borrower.blocks[b];
  DOPPEL_ASSERT(blk.state == BlockState::borrowed);
  const auto gone = [&](std::string_view why) {
    return make_error(Errc::not_found, "segment " + borrower.fp.short_hex() + " block " +
                                           std::to_string(b) + ": lender segment " +
                                           std::to_string(blk.lender) + " " + std::string(why));
  };
  const SegmentSummary* s = segments_.find(blk.lender);
  if (s == nullptr) return gone("is gone");
  const bool unchecked = options_.planted_bug == PlantedBug::borrow_unchecked;
  if (s->header.refs_total == 0 && !unchecked) return gone("is referenced by no version");
  Result<std::optional<std::uint32_t>> found = block_in(blk.lender, borrower, b, index, plan);
  if (!found) return found.error();
  if (!*found) return gone("no longer holds its content");
  return BlockRef{blk.lender, **found};
}

// Where `segment` holds a present block of the same content and length as block b of
// `borrower`, if it does.
Result<std::optional<std::uint32_t>> Store::block_in(SegmentId segment, const SegmentMeta& borrower,
                                                     std::uint32_t b, LenderIndex& index,
                                                     Plan& plan) {
  auto at = index.find(segment);
  if (at == index.end()) {
    Result<const SegmentMeta*> m = loaded_meta(segment, plan);
    if (!m) return m.error();
    const bool unchecked = options_.planted_bug == PlantedBug::borrow_unchecked;
    std::unordered_map<Fingerprint, std::uint32_t, FingerprintHash> by_fp;
    for (std::uint32_t i = 0; i < (*m)->blocks.size(); ++i) {
      // planted: the lender's blocks found by content alone, removed ones too
      if ((*m)->blocks[i].state == BlockState::present || unchecked) {
        by_fp.try_emplace((*m)->blocks[i].fp, i);
      }
    }
    at = index.emplace(segment, LenderBlocks{*m, std::move(by_fp)}).first;
  }
  const auto found = at->second.by_fp.find(borrower.blocks[b].fp);
  if (found == at->second.by_fp.end() ||
      at->second.meta->block_length(found->second) != borrower.block_length(b)) {
    return std::optional<std::uint32_t>();
  }
  return std::optional<std::uint32_t>(found->second);
}

// A borrowed block's content for the commit naming its segment: at its lender, or -- when the
// lender gave it up since the upload -- wherever the hooks find it now. The usual reason is a
// commit of the lender's image in between: reverse dedup removed the block from the old version
// because the new one holds it, in segments that share the borrower's hooks as the old did.
// not_found when no candidate holds it: the client backs up again.
Result<BlockRef> Store::borrowed_block(const SegmentMeta& borrower, std::uint32_t b,
                                       std::string_view image, BorrowedBlocks& found, Plan& plan) {
  Result<BlockRef> at = lender_block(borrower, b, found.index, plan);
  if (at || at.code() != Errc::not_found) return at;
  auto candidates = found.relenders.find(borrower.id);
  if (candidates == found.relenders.end()) {
    SegmentMeta whole = borrower;  // its hooks as if it held every block
    for (SegmentBlock& blk : whole.blocks) {
      if (blk.state == BlockState::borrowed) blk = SegmentBlock{blk.fp, 0, BlockState::present};
    }
    Result<const std::map<SegmentId, std::uint64_t>*> own = own_references(image);
    if (!own) return own.error();
    candidates = found.relenders.emplace(borrower.id, cross_dedup_candidates(whole, **own)).first;
  }
  for (const SegmentId c : candidates->second) {
    Result<std::optional<std::uint32_t>> in = block_in(c, borrower, b, found.index, plan);
    if (!in) return in.error();
    if (*in) {
      ++found.relent;
      return BlockRef{c, **in};
    }
  }
  return at;
}

Result<const SegmentMeta*> Store::settle_borrowing(const Fingerprint& fp, std::string_view image,
                                                   BorrowedBlocks& found, Plan& plan,
                                                   std::map<std::uint32_t, BlockRef>& at) {
  // Clients backing up clones upload the same new segment each, with lenders of their own: when
  // the newest copy's lender gave a block up, an older copy may still be whole.
  std::optional<Error> gone;
  for (const SegmentId id : segments_.borrowing_copies(fp)) {
    Result<const SegmentMeta*> m = loaded_meta(id, plan);
    if (!m) return m.error();
    at.clear();
    bool whole = true;
    for (std::uint32_t b = 0; b < (*m)->blocks.size() && whole; ++b) {
      if ((*m)->blocks[b].state != BlockState::borrowed) continue;
      Result<BlockRef> where = borrowed_block(**m, b, image, found, plan);
      if (where) {
        at.emplace(b, *where);
      } else if (where.code() == Errc::not_found) {
        gone = where.error();
        whole = false;
      } else {
        return where.error();
      }
    }
    if (!whole) continue;
    // Re-lent blocks may come from segments other than the lenders chosen at upload: the copy
    // is kept only while its blocks are still read from within the fragmentation budget.
    std::set<SegmentId> targets;
    for (const auto& [b, where] : at) targets.insert(where.segment);
    const std::size_t allowed =
        cross_dedup_targets_max((*m)->bytes, options_.cross_dedup_segments_per_mib);
    if (targets.size() <= allowed) return *m;
    gone = make_error(Errc::not_found, "borrowing from " + std::to_string(targets.size()) +
                                           " segments after re-lending; the fragmentation budget "
                                           "allows " +
                                           std::to_string(allowed));
  }
  if (gone) return *gone;
  return make_error(Errc::not_found, "segment " + fp.hex() + " is not stored");
}

Result<bool> Store::put_borrowing(const SegmentManifest& segment,
                                  std::span<const SegmentId> lenders, std::string_view data) {
  Result<CheckedBorrowing> checked = check_borrowing(segment, lenders, data);
  if (!checked) return checked.error();
  return put_borrowing(segment, lenders, data, *checked);
}

Result<Store::CheckedBorrowing> Store::check_borrowing(const SegmentManifest& segment,
                                                       std::span<const SegmentId> lenders,
                                                       std::string_view data) const {
  if (Status s = check_segment_manifest(segment); !s) return s.error();
  if (lenders.size() != segment.blocks.size()) {
    return make_error(Errc::invalid_argument, "lenders for " + std::to_string(lenders.size()) +
                                                  " blocks of a segment of " +
                                                  std::to_string(segment.blocks.size()));
  }
  // The blocks sent, each hashed against the manifest (outside the lock: the CPU-bound part).
  std::vector<std::string_view> pieces;
  std::vector<std::uint32_t> sent;
  std::uint64_t at = 0;
  std::set<SegmentId> distinct;
  bool short_data = false;
  for (std::uint32_t b = 0; b < segment.blocks.size(); ++b) {
    if (segment.blocks[b].null) {
      if (lenders[b] != 0) {
        return make_error(Errc::invalid_argument, "a null block cannot be borrowed");
      }
      continue;
    }
    if (lenders[b] != 0) {
      distinct.insert(lenders[b]);
      continue;
    }
    const std::uint32_t length = block_bytes_at(segment.bytes, b);
    if (at + length > data.size()) {
      short_data = true;
      break;
    }
    pieces.push_back(data.substr(at, length));
    sent.push_back(b);
    at += length;
  }
  if (distinct.empty()) {
    return make_error(Errc::invalid_argument, "a segment borrowing no block: upload it whole");
  }
  if (short_data || at != data.size()) {
    return make_error(Errc::invalid_argument,
                      "the blocks sent are " + std::to_string(data.size()) + " bytes");
  }
  std::vector<Fingerprint> fps(pieces.size());
  Hasher::of_each(segment.fp.kind, pieces, fps);
  for (std::size_t i = 0; i < sent.size(); ++i) {
    if (fps[i] != segment.blocks[sent[i]].fp) {
      return make_error(Errc::invalid_argument,
                        "block " + std::to_string(sent[i]) + " does not hash to its fingerprint");
    }
  }
  return CheckedBorrowing{std::move(distinct), sent.size()};
}

Result<bool> Store::put_borrowing(const SegmentManifest& segment,
                                  std::span<const SegmentId> lenders, std::string_view data,
                                  const CheckedBorrowing& checked) {
  DOPPEL_ASSERT(lenders.size() == segment.blocks.size());
  const std::set<SegmentId>& distinct = checked.lenders;
  FairLockGuard guard(mutex_);
  if (Status s = ensure_ready(); !s) return s.error();
  if (!load_problems_.empty()) return read_only(load_problems_);
  if (segments_.find_complete(segment.fp)) return false;
  if (segments_.size() >= options_.segments_max) {
    return make_error(Errc::no_space, "segments_max " + std::to_string(options_.segments_max));
  }
  const std::size_t allowed =
      cross_dedup_targets_max(segment.bytes, options_.cross_dedup_segments_per_mib);
  if (distinct.size() > allowed) {
    // not_found, as for a lender gone: the client uploads the segment whole (the budget may have
    // been lowered since it asked).
    return make_error(Errc::not_found, "borrowing from " + std::to_string(distinct.size()) +
                                           " segments; the fragmentation budget allows " +
                                           std::to_string(allowed) + ": upload the segment whole");
  }
  // Lenders come from the wire: each must be a stored segment before an id is taken (a lender
  // naming the id about to be handed out would make the segment its own lender).
  for (const SegmentId lender : distinct) {
    if (segments_.find(lender) == nullptr) {
      return make_error(Errc::not_found, "lender segment " + std::to_string(lender) +
                                             " is not stored: upload the segment whole");
    }
  }
  const SegmentId id = segments_.take_id();
  SegmentMeta meta = borrowing_segment_meta(id, segment.fp, segment.bytes, block_fps_of(segment),
                                            null_blocks_of(segment), lenders);
  // Each lender still holds the content now (a commit checks again: it may give it up since).
  Plan plan;
  LenderIndex index;
  for (std::uint32_t b = 0; b < meta.blocks.size(); ++b) {
    if (meta.blocks[b].state != BlockState::borrowed) continue;
    if (Result<BlockRef> found = lender_block(meta, b, index, plan); !found) return found.error();
  }
  return put_segment_locked(meta, data, std::vector<bool>(checked.blocks_sent, false));
}

}  // namespace doppel::dedup
