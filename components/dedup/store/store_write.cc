// The store's writes: put_segment, commit (with reverse dedup), remove_version.

#include <algorithm>

#include "components/dedup/store/fan_out.h"
#include "components/dedup/store/store.h"
#include "components/dedup/store/store_internal.h"
#include "runtime/future.h"
#include "runtime/sometimes.h"

namespace doppel::dedup {
namespace {

// BUGGIFY (runtime/buggify.h): a new segment's data is slow to reach the disk.
const BuggifySite kSlowDataSync{"dedup.segment.slow_data_sync",
                                "a new segment's data file takes up to 500 ms more to sync"};
// What the swarm should see happen: new segments lending blocks to other images' segments, and
// a version borrowing while its own previous one gives blocks up to reverse dedup.
const SometimesSite kCrossDeduped{"dedup.commit.cross_deduped",
                                  "a commit finds blocks of its new segments in other segments"};
const SometimesSite kBorrowingStored{"dedup.upload.borrowing",
                                     "a segment is stored without the blocks other segments hold"};
const SometimesSite kLenderGaveUp{
    "dedup.commit.lender_gave_up",
    "a commit finds a lender gave a borrowed block up after the upload (back up again)"};
const SometimesSite kRelent{
    "dedup.commit.relent",
    "a commit finds a borrowed block elsewhere, its lender having given it up since the upload"};
const SometimesSite kCrossAndReverse{
    "dedup.commit.cross_and_reverse",
    "a commit borrows blocks and reverse-dedups its previous version at once"};

Error read_only(const std::vector<std::string>& problems) {
  return make_error(Errc::corrupt, "metadata is damaged (" + problems.front() +
                                       "); the store is read-only until it is repaired");
}

std::string version_name(std::string_view image, VersionNumber version) {
  return std::string(image) + " version " + std::to_string(version);
}

// Writes the non-null blocks of a new segment: one write per run of them.
Status write_blocks(OpenFile& file, std::string_view bytes, const std::vector<bool>& null_blocks) {
  std::size_t b = 0;
  while (b < null_blocks.size()) {
    if (null_blocks[b]) {
      ++b;
      continue;
    }
    std::size_t end = b;
    while (end < null_blocks.size() && !null_blocks[end]) ++end;
    const std::size_t from = b * kBlockBytes;
    const std::size_t to = std::min<std::size_t>(end * kBlockBytes, bytes.size());
    if (Status s = file->pwrite(bytes.substr(from, to - from), from); !s) return s;
    b = end;
  }
  return {};
}

}  // namespace

// --- put_segment

Status Store::check_segment(const Fingerprint& fp, std::size_t bytes) const {
  if (fp.kind != options_.hash) {
    return make_error(Errc::invalid_argument,
                      "the store fingerprints with " + std::string(hash_kind_name(options_.hash)));
  }
  if (bytes == 0 || bytes > options_.segment_bytes_max) {
    return make_error(Errc::too_large, "a segment of " + std::to_string(bytes) +
                                           " bytes; segment_bytes_max is " +
                                           std::to_string(options_.segment_bytes_max));
  }
  return {};
}

Result<bool> Store::put_segment(const Fingerprint& fp, std::string_view bytes) {
  // Hash before taking the lock: it is the expensive part and touches nothing shared.
  if (Status s = check_segment(fp, bytes.size()); !s) return s.error();
  return put_segment(fp, bytes, segment_manifest_of(fp.kind, bytes));
}

Result<bool> Store::put_segment(const Fingerprint& fp, std::string_view bytes,
                                const SegmentManifest& hashed) {
  if (Status s = check_segment(fp, bytes.size()); !s) return s.error();
  DOPPEL_ASSERT(hashed.bytes == bytes.size() && hashed.blocks.size() == blocks_in(bytes.size()));
  if (hashed.fp != fp) {
    return make_error(Errc::invalid_argument, "segment bytes do not hash to " + fp.short_hex());
  }
  FairLockGuard guard(mutex_);
  if (Status s = ensure_ready(); !s) return s.error();
  if (!load_problems_.empty()) return read_only(load_problems_);
  if (segments_.find_complete(fp)) return false;
  if (segments_.size() >= options_.segments_max) {
    return make_error(Errc::no_space, "segments_max " + std::to_string(options_.segments_max));
  }
  std::vector<Fingerprint> block_fps(hashed.blocks.size());
  std::vector<bool> null_blocks(hashed.blocks.size());
  for (std::size_t b = 0; b < hashed.blocks.size(); ++b) {
    block_fps[b] = hashed.blocks[b].fp;
    null_blocks[b] = hashed.blocks[b].null;
  }
  const SegmentId id = segments_.take_id();
  return put_segment_locked(
      new_segment_meta(id, fp, static_cast<std::uint32_t>(bytes.size()), block_fps, null_blocks),
      bytes, null_blocks);
}

// Data first (synced), then the metadata under its final name (staged,
// synced, renamed, directory synced): a segment exists once its metadata
// does, and its data is durable by then. A crash before leaves files that
// recovery deletes; the client uploads again.
Result<bool> Store::put_segment_locked(const SegmentMeta& meta, std::string_view bytes,
                                       const std::vector<bool>& null_blocks) {
  const SegmentId id = meta.id;
  if (Status s = write_segment(meta, bytes, null_blocks); !s) {
    // What cannot be removed now (the disk failing still) is removed by a recovery, which the
    // next operation runs: no stray file outlives the next operation. The metadata goes first
    // and the data only once it is gone: recovery loads a segment whose metadata is there as
    // stored, so it must find its data too (dedup-disk seed 2519: the metadata's removal failed
    // on EIO after the data's succeeded, and every later put of the image failed on the
    // missing data file).
    for (const std::string& path : {paths_.segment_meta(id), staged_path(paths_.segment_meta(id)),
                                    paths_.segment_data(id, meta.generation)}) {
      if (!io_.remove_if_present(path)) {
        needs_recovery_ = true;
        break;
      }
    }
    return s.error();
  }
  segments_.put(meta.header(), rt_.now());
  remember_meta(meta);  // the commit that follows needs it
  sometimes(rt_, kBorrowingStored, meta.borrowing());
  rt_.record(Event("DedupSegmentStored", Severity::debug)
                 .detail("segment", id)
                 .detail("bytes", bytes.size())
                 .detail("fp", meta.fp.short_hex()));
  return true;
}

Status Store::write_segment(const SegmentMeta& meta, std::string_view bytes,
                            const std::vector<bool>& null_blocks) {
  if (meta.space().stored_bytes > 0) {
    auto file = io_.open_file(paths_.segment_data(meta.id, meta.generation),
                              OpenOptions{.create = true, .truncate = true});
    if (!file) return file.error();
    if (Status s = write_blocks(**file, bytes, null_blocks); !s) return s;
    if (Status s = (**file)->datasync(); !s) return s;
    io_.stall(kSlowDataSync, std::chrono::milliseconds(500));
  }
  const std::string path = paths_.segment_meta(meta.id);
  if (Status s = io_.write_synced(staged_path(path), encode_segment_meta(meta)); !s) return s;
  if (Status s = io_.fs().rename(staged_path(path), path); !s) return s;
  return io_.fs().sync_dir(paths_.segments_dir());
}

// --- commit

Result<CommitResult> Store::commit(std::string_view image, const VersionManifest& manifest) {
  if (!valid_image_name(image)) {
    return make_error(Errc::invalid_argument, "image name '" + std::string(image) + "'");
  }
  if (manifest.kind != options_.hash) {
    return make_error(Errc::invalid_argument,
                      "the store fingerprints with " + std::string(hash_kind_name(options_.hash)));
  }
  const ManifestLimits limits{options_.segment_bytes_max, options_.image_bytes_max};
  if (Status s = check_manifest(manifest, limits); !s) return s.error();
  FairLockGuard guard(mutex_);
  if (Status s = ensure_ready(); !s) return s.error();
  Result<CommitResult> done = commit_locked(image, manifest);
  if (!done && done.code() == Errc::io_error &&
      options_.planted_bug == PlantedBug::failed_commit_keeps_lock) {
    guard.leak();  // planted: an error path that returns without unlocking
  }
  return done;
}

// The new version's recipe: each block a direct reference into its stored
// segment, or null. The manifest's block fingerprints must be the segment's.
// A segment uploaded borrowing blocks (store_borrowing.cc) has them referenced
// where its lenders hold them, and gives them up (plan.lent).
Result<Recipe> Store::build_recipe(std::string_view image, VersionNumber version,
                                   const VersionManifest& manifest, Plan& plan) {
  Recipe recipe{std::string(image), version, manifest.kind, manifest.image_bytes, {}};
  recipe.entries.reserve(manifest.block_count());
  BorrowedBlocks borrowed;
  std::map<std::uint32_t, BlockRef> lent_at;  // the borrowed blocks of the segment, settled
  for (const SegmentManifest& seg : manifest.segments) {
    const SegmentMeta* meta = nullptr;
    bool shared = false;  // versions referenced the segment before: segment dedup
    lent_at.clear();
    if (!seg.all_null()) {
      Result<const SegmentMeta*> m = make_error(Errc::not_found, "");
      if (const std::optional<SegmentId> id = segments_.find_complete(seg.fp)) {
        m = loaded_meta(*id, plan);
      } else if (segments_.find_borrowing(seg.fp)) {
        const std::uint64_t relent = borrowed.relent;
        m = settle_borrowing(seg.fp, image, borrowed, plan, lent_at);
        sometimes(rt_, kRelent, borrowed.relent > relent);
        sometimes(rt_, kLenderGaveUp, !m && m.code() == Errc::not_found);
        if (!m) return make_error(m.code(), m.error().what + ": back up the version again");
      } else {
        // Stored a moment ago, the segment may have lent its blocks to other segments at another
        // version's commit since (cross_dedup.h): the client uploads it again.
        return make_error(Errc::not_found, "segment " + seg.fp.hex() +
                                               " is not stored (or no longer whole): back up "
                                               "the version again");
      }
      if (!m) return m.error();
      meta = *m;
      if (meta->bytes != seg.bytes) {
        return make_error(Errc::invalid_argument, "segment " + seg.fp.short_hex() + " size");
      }
      shared = segments_.find(meta->id)->header.refs_total > 0;
    }
    for (std::uint32_t b = 0; b < seg.blocks.size(); ++b) {
      RecipeEntry e;
      if (!seg.blocks[b].null) {
        if (meta->blocks[b].fp != seg.blocks[b].fp) {
          return make_error(Errc::invalid_argument,
                            "segment " + seg.fp.short_hex() + " block " + std::to_string(b) +
                                ": the manifest's fingerprint is not the stored block's");
        }
        e = RecipeEntry{RefKind::direct, meta->id, b, seg.blocks[b].fp};
        const std::uint32_t length = meta->block_length(b);
        if (meta->blocks[b].state == BlockState::borrowed) {
          const BlockRef& at = lent_at.at(b);
          e.target = at.segment;
          e.index = at.block;
          recipe.saved.cross_bytes += length;
          ++plan.blocks_cross_deduped;
          std::vector<std::uint32_t>& given_up = plan.lent[meta->id];
          if (given_up.empty() || given_up.back() < b) given_up.push_back(b);
        } else if (shared) {
          recipe.saved.segment_bytes += length;
        }
      }
      recipe.entries.push_back(e);
    }
  }
  return recipe;
}

Result<const SegmentMeta*> Store::loaded_meta(SegmentId id, Plan& plan) {
  auto it = plan.loaded.find(id);
  if (it != plan.loaded.end()) return &it->second;
  Result<std::shared_ptr<const SegmentMeta>> m = cached_meta(id);
  if (!m) return m.error();
  return &plan.loaded.emplace(id, **m).first->second;
}

Status Store::check_commit_limits(std::string_view image) const {
  const ImageVersions* iv = catalog_.find(image);
  if ((iv == nullptr || iv->versions.empty()) && catalog_.image_count() >= options_.images_max) {
    return make_error(Errc::no_space, "images_max " + std::to_string(options_.images_max));
  }
  if (iv != nullptr && iv->versions.size() >= options_.versions_per_image_max) {
    return make_error(Errc::no_space,
                      "versions_per_image_max " + std::to_string(options_.versions_per_image_max));
  }
  if (catalog_.next_version(image) > kVersionNumberMax) {
    return make_error(Errc::no_space, "version numbers of " + std::string(image));
  }
  return {};
}

Result<CommitResult> Store::commit_locked(std::string_view image, const VersionManifest& m) {
  if (!load_problems_.empty()) return read_only(load_problems_);
  if (Status s = check_commit_limits(image); !s) return s.error();
  const VersionNumber version = catalog_.next_version(image);
  const Instant started = rt_.now();
  Plan plan;
  Result<Recipe> next = build_recipe(image, version, m, plan);
  if (!next) return next.error();
  std::optional<Recipe> prev;
  if (const std::optional<VersionNumber> previous = catalog_.latest(image)) {
    Result<Recipe> loaded = load_recipe(image, *previous);
    if (!loaded) return loaded.error();
    prev = std::move(*loaded);
  }
  const bool uncounted = options_.planted_bug == PlantedBug::borrow_uncounted;
  if (!uncounted) {
    if (Status s = cross_dedup(*next, prev ? &*prev : nullptr, plan); !s) return s.error();
  }
  RefDeltas deltas;
  count_direct_refs(*next, +1, deltas);
  if (uncounted) {  // planted: the references move after they were counted
    if (Status s = cross_dedup(*next, prev ? &*prev : nullptr, plan); !s) return s.error();
  }
  // A lent block ends with no reference: named in the deltas, it is removed.
  for (const auto& [id, blocks] : plan.lent) {
    for (const std::uint32_t b : blocks) deltas[id][b] += 0;
  }
  std::vector<Recipe> recipes;
  if (prev) {
    RefDeltas forgotten = deltas;
    const ReverseDedupCount n = reverse_dedup(
        *prev, *next, options_.planted_bug == PlantedBug::skip_decrement ? forgotten : deltas);
    plan.blocks_reverse_deduped = n.blocks;
    recipes.push_back(std::move(*prev));
  }
  recipes.push_back(std::move(*next));
  const bool new_image = catalog_.find(image) == nullptr;
  if (new_image) {
    if (Status s = io_.fs().make_dir(paths_.image_dir(image)); !s) return s.error();
  }
  ChangeSet change(io_, paths_);
  if (new_image) change.made_dir(paths_.image_dir(image));
  const Instant built = rt_.now();
  if (Status s = plan_segments(deltas, plan, change); !s) return abandon(change, s);
  const Instant segments_staged = rt_.now();
  if (Status s = stage_recipes(recipes, plan, change); !s) return abandon(change, s);
  if (version > 1) change.remove(paths_.gone_marker(image, version - 1));
  const Instant recipes_staged = rt_.now();
  if (Status s = run_change(change, plan); !s) return s.error();
  const Instant changed = rt_.now();
  CommitResult result{version,
                      0,
                      plan.blocks_reverse_deduped,
                      plan.blocks_cross_deduped,
                      plan.blocks_removed,
                      plan.segments_punched,
                      plan.segments_compacted,
                      plan.segments_dropped};
  for (const SegmentManifest& seg : m.segments) result.new_segment_refs += seg.all_null() ? 0 : 1;
  sometimes(rt_, kCrossDeduped, result.blocks_cross_deduped > 0);
  sometimes(rt_, kCrossAndReverse,
            result.blocks_cross_deduped > 0 && result.blocks_reverse_deduped > 0);
  rt_.record(Event("DedupVersionCommitted")
                 .detail("image", image)
                 .detail("version", version)
                 .detail("bytes", m.image_bytes)
                 .detail("reverse_deduped", result.blocks_reverse_deduped)
                 .detail("cross_deduped", result.blocks_cross_deduped)
                 .detail("removed", result.blocks_removed)
                 .detail("compacted", result.segments_compacted));
  // Where a commit's time went (virtual time in the simulator): to see what to make faster.
  const auto micros = [](Duration d) { return d.count() / 1000; };
  rt_.record(Event("DedupCommitPhases", Severity::debug)
                 .detail("image", image)
                 .detail("version", version)
                 .detail("recipe_build_us", micros(built - started))
                 .detail("segments_us", micros(segments_staged - built))
                 .detail("recipes_write_us", micros(recipes_staged - segments_staged))
                 .detail("change_us", micros(changed - recipes_staged)));
  return result;
}

Error Store::abandon(ChangeSet& change, const Status& why) {
  if (!change.abandon()) needs_recovery_ = true;  // as in put_segment_locked
  return why.error();
}

Status Store::stage_recipes(std::vector<Recipe>& recipes, Plan& plan, ChangeSet& change) {
  if (Status s = fan_out(rt_, recipes.size(), kSyncedWritesAtOnce,
                         [&](std::size_t i) {
                           const Recipe& r = recipes[i];
                           return change.stage(paths_.recipe(r.image, r.version), encode_recipe(r));
                         });
      !s) {
    return s;
  }
  for (const Recipe& r : recipes) plan.versions.emplace_back(r.image, summary_of(r.header()));
  return {};
}

// --- remove_version

Result<RemoveResult> Store::remove_version(std::string_view image, VersionNumber version) {
  FairLockGuard guard(mutex_);
  if (Status s = ensure_ready(); !s) return s.error();
  return remove_locked(image, version);
}

Result<RemoveResult> Store::remove_locked(std::string_view image, VersionNumber version) {
  if (catalog_.find(image, version) == nullptr) {
    return make_error(Errc::not_found, version_name(image, version));
  }
  if (!load_problems_.empty()) return read_only(load_problems_);
  Result<Recipe> removed = load_recipe(image, version);
  if (!removed) return removed.error();
  Plan plan;
  RefDeltas deltas;
  count_direct_refs(*removed, -1, deltas);
  std::vector<Recipe> rewritten;
  RemoveResult result;
  for (const auto& [v, summary] : catalog_.find(image)->versions) {
    if (v >= version) break;
    Result<Recipe> older = load_recipe(image, v);
    if (!older) return older.error();
    const std::uint64_t n = repoint(*older, *removed, deltas);
    result.entries_repointed += n;
    if (n > 0) rewritten.push_back(std::move(*older));
  }
  ChangeSet change(io_, paths_);
  if (Status s = plan_segments(deltas, plan, change); !s) return abandon(change, s);
  if (Status s = stage_recipes(rewritten, plan, change); !s) return abandon(change, s);
  change.remove(paths_.recipe(image, version));
  if (version == catalog_.find(image)->highest_taken) {
    // Keep the number taken: the next commit must not reuse it.
    if (Status s = change.stage(paths_.gone_marker(image, version), {}); !s) {
      return abandon(change, s);
    }
  }
  plan.removed.emplace_back(std::string(image), version);
  if (Status s = run_change(change, plan); !s) return s.error();
  result.blocks_removed = plan.blocks_removed;
  result.bytes_freed = plan.bytes_freed;
  rt_.record(Event("DedupVersionRemoved")
                 .detail("image", image)
                 .detail("version", version)
                 .detail("repointed", result.entries_repointed)
                 .detail("removed", result.blocks_removed)
                 .detail("freed", result.bytes_freed));
  return result;
}

}  // namespace doppel::dedup
