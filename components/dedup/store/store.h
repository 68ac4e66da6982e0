#pragma once
// The RevDedup store: the server side of a backup store for versioned images
// (see ../README.md for the paper and what we do differently).
//
//   auto store = Store::boot(rt, rt.fs(), StoreOptions{});     // recovers first
//   has_segments(fps)          which segments are stored (global, coarse dedup)
//   put_segment(fp, bytes)     store one segment (verified, idempotent)
//   commit(image, manifest)    a new version from stored segments; its new
//                              segments' blocks found in other segments are
//                              referenced there (cross_dedup.h); reverse
//                              dedup of the previous version against it
//   read(image, v, offset, buf) any range of any version, in pieces
//   list_images / list_versions / version_info
//   remove_version(image, v)   any version; its space comes back
//   verify()                   re-hash everything; report damaged ranges
//   gc()                       drop segments nothing references
//   stats()                    space accounting, which always balances
//   check()                    every invariant, by a full scan (tests)
//
// Threading: one Store per node, used from fibers of one core. Calls block
// their fiber on disk I/O (never the core) and hold the store's lock for
// their whole duration, so calls run one at a time, in arrival order
// (fair_mutex.h); a read that streams a version takes the lock per piece,
// and a commit between two pieces does not change what the version reads
// (only where its blocks are).
//
// Errors are values: invalid_argument / too_large for bad input, not_found
// for a missing image, version or segment, corrupt when stored data or
// metadata fails its checksum, io_error and friends from the disk. After an
// error nothing has changed, with one exception: when the disk fails after
// a change reached the intent log, the store completes the change at once
// if it can, else at its next recovery (an error from commit then leaves
// the version's existence undecided until then, as a timeout would).
// Metadata found damaged at boot makes the store read-only: put_segment,
// commit, remove_version and gc answer corrupt; reads and verify go on.
//
// Crash safety: every change goes through the intent log (intent_log.h);
// boot() replays an interrupted change and deletes what an unlogged one
// left. After a crash at any point every committed version reads back
// byte-identical, no half-committed version is visible and the space
// accounting balances.

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "components/dedup/format/manifest.h"
#include "components/dedup/store/block_removal.h"
#include "components/dedup/store/catalog.h"
#include "components/dedup/store/change_set.h"
#include "components/dedup/store/cross_dedup.h"
#include "components/dedup/store/fair_mutex.h"
#include "components/dedup/store/file_io.h"
#include "components/dedup/store/options.h"
#include "components/dedup/store/paths.h"
#include "components/dedup/store/reverse_dedup.h"
#include "components/dedup/store/segment_table.h"
#include "runtime/future.h"
#include "runtime/runtime.h"
#include "runtime/sync.h"

namespace doppel::dedup {

struct VersionInfo {
  VersionNumber version = 0;
  std::uint64_t image_bytes = 0;
  std::uint64_t null_bytes = 0;      // read as zeros, never stored
  std::uint64_t direct_bytes = 0;    // read from its own segments
  std::uint64_t indirect_bytes = 0;  // read through later versions

  bool operator==(const VersionInfo&) const = default;
};

// How a restore of one version reads (its fragmentation): from how many segments, in how many
// reads (runs of positions at consecutive slots of one segment, as read() reads them).
struct RestoreLayout {
  std::uint64_t image_bytes = 0;
  std::uint64_t data_bytes = 0;  // not null
  std::uint64_t segments = 0;    // distinct segments read
  std::uint64_t runs = 0;        // reads of a data file
  std::uint32_t chain = 0;       // the longest chain of indirect references followed

  bool operator==(const RestoreLayout&) const = default;
};

struct ImageInfo {
  std::string name;
  std::uint64_t versions = 0;
  VersionNumber oldest = 0;
  VersionNumber latest = 0;
};

// The space accounting. Two balances always hold (balanced()):
//   logical = null + direct + indirect          (what versions hold)
//   segment_data = stored + punched + compacted (what segments hold)
struct StoreStats {
  std::uint64_t images = 0;
  std::uint64_t versions = 0;
  std::uint64_t segments = 0;
  std::uint64_t complete_segments = 0;  // no block removed: dedup targets

  std::uint64_t logical_bytes = 0;  // the sizes of all versions
  std::uint64_t null_bytes = 0;
  std::uint64_t direct_bytes = 0;
  std::uint64_t indirect_bytes = 0;

  std::uint64_t segment_data_bytes = 0;  // non-null bytes of all segments as uploaded
  std::uint64_t stored_bytes = 0;        // of those, on disk now
  std::uint64_t punched_bytes = 0;       // freed by punching holes
  std::uint64_t compacted_bytes = 0;     // freed by compaction
  std::uint64_t unreferenced_bytes = 0;  // stored in segments no version uses (gc)

  // What dedup saved when the versions there are now were committed (CommitSavings).
  std::uint64_t segment_deduped_bytes = 0;
  std::uint64_t cross_deduped_bytes = 0;
  std::uint64_t hook_entries = 0;  // in the hook index (segment_table.h)

  // Since boot().
  std::uint64_t blocks_reverse_deduped = 0;
  std::uint64_t blocks_cross_deduped = 0;
  std::uint64_t blocks_punched = 0;
  std::uint64_t segments_compacted = 0;
  std::uint64_t segments_dropped = 0;
  std::uint64_t intents_replayed = 0;

  bool balanced() const;
};

struct CommitResult {
  VersionNumber version = 0;
  std::uint64_t new_segment_refs = 0;        // segments of the version (not null)
  std::uint64_t blocks_reverse_deduped = 0;  // of the previous version
  std::uint64_t blocks_cross_deduped = 0;    // of its new segments, found in others
  std::uint64_t blocks_removed = 0;          // count reached zero
  std::uint32_t segments_punched = 0;
  std::uint32_t segments_compacted = 0;
  std::uint32_t segments_dropped = 0;
};

struct RemoveResult {
  std::uint64_t entries_repointed = 0;  // of older versions that pointed into it
  std::uint64_t blocks_removed = 0;
  std::uint64_t bytes_freed = 0;
};

// A damaged range of a version (offset and length in the image).
struct Damage {
  std::string image;
  VersionNumber version = 0;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::string what;
};

struct VerifyReport {
  static constexpr std::size_t kDamageMax = 1000;  // further damage is counted only

  std::uint64_t segments_checked = 0;
  std::uint64_t blocks_checked = 0;
  std::uint64_t versions_checked = 0;
  std::vector<std::string> problems;  // damaged files and segments, by path
  std::vector<Damage> damage;
  std::uint64_t damage_count = 0;

  bool clean() const { return problems.empty() && damage_count == 0; }
};

struct GcReport {
  std::uint64_t segments_dropped = 0;
  std::uint64_t bytes_freed = 0;
};

class Store {
 public:
  // Boots the store in options.dir: replays an interrupted change, deletes
  // leftovers, loads the segment index and the catalog. Options must pass
  // check_store_options.
  static Result<std::unique_ptr<Store>> boot(Runtime& rt, FileSystem& fs,
                                             const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // One answer per fingerprint: is a complete segment with it stored?
  Result<std::vector<bool>> has_segments(std::span<const Fingerprint> fps);
  // Stores a segment: bytes must hash to fp (else invalid_argument). true if
  // stored now, false if it was there already. Until a version references
  // it, gc may drop it after unreferenced_ttl.
  Result<bool> put_segment(const Fingerprint& fp, std::string_view bytes);
  // The same with the bytes hashed already (the expensive part, which any core may do):
  // `hashed` must be segment_manifest_of(fp.kind, bytes).
  Result<bool> put_segment(const Fingerprint& fp, std::string_view bytes,
                           const SegmentManifest& hashed);
  // Upload avoidance (cross_dedup.h): per block of a segment about to be uploaded for `image`,
  // the stored segment holding its content that the upload may leave out (0: send the block).
  // All 0 with cross-image dedup off, or when a complete segment has the fingerprint already.
  Result<std::vector<SegmentId>> plan_borrowing(std::string_view image,
                                                const SegmentManifest& segment);
  // Stores a segment without the blocks `lenders` names (as plan_borrowing answered): `data` is
  // its other non-null blocks, in order, each hashed against the manifest (else
  // invalid_argument). not_found when a lender no longer holds the content: upload it whole.
  // true if stored now, false if a complete segment has the fingerprint already.
  Result<bool> put_borrowing(const SegmentManifest& segment, std::span<const SegmentId> lenders,
                             std::string_view data);
  // put_borrowing in two: the checks and hashing (reads only the options: any core may do this,
  // the expensive part), then the store's part with what they found.
  struct CheckedBorrowing {
    std::set<SegmentId> lenders;  // distinct
    std::size_t blocks_sent = 0;
  };
  Result<CheckedBorrowing> check_borrowing(const SegmentManifest& segment,
                                           std::span<const SegmentId> lenders,
                                           std::string_view data) const;
  Result<bool> put_borrowing(const SegmentManifest& segment, std::span<const SegmentId> lenders,
                             std::string_view data, const CheckedBorrowing& checked);
  // invalid_argument / too_large unless `segment` is a manifest this store may store, its
  // fingerprint made up of its blocks' (reads only the options: any core may ask).
  Status check_segment_manifest(const SegmentManifest& segment) const;
  // Whether a segment of this fingerprint and size may be stored at all (the kind of hash, the
  // size limit), before hashing it. Reads only the options: any core may ask.
  Status check_segment(const Fingerprint& fp, std::size_t bytes) const;
  // A new version of `image` (created on first commit) whose segments are
  // stored (not_found names the first missing one; all-null segments need
  // not be). Then reverse dedup of the previous version against it.
  Result<CommitResult> commit(std::string_view image, const VersionManifest& manifest);

  // Reads into `into` from `offset` of the version; fewer bytes only at the
  // end of the image. At most read_bytes_max per call.
  Result<std::size_t> read(std::string_view image, VersionNumber version, std::uint64_t offset,
                           std::span<char> into);
  // The longest chain of indirect references a read of the version follows (0: every block is
  // its own or null). Resolves the version (kept in a small cache the reads share).
  Result<std::uint32_t> chain_length(std::string_view image, VersionNumber version);
  // The version's restore fragmentation (reads its recipes and its segments' metadata).
  Result<RestoreLayout> restore_layout(std::string_view image, VersionNumber version);
  // Images with versions, counting those whose recipe was found damaged.
  Result<std::vector<ImageInfo>> list_images();
  // An image with a version whose recipe was found damaged at boot cannot be
  // listed whole: corrupt, naming the damage (so is version_info of it).
  Result<std::vector<VersionInfo>> list_versions(std::string_view image);
  Result<VersionInfo> version_info(std::string_view image, VersionNumber version);

  // Removes any version. Older versions that pointed into it point where it
  // did; the blocks no version references any more are removed (punched,
  // compacted or dropped as after reverse dedup). Removing the newest
  // version makes the one before the newest; its number is not reused.
  Result<RemoveResult> remove_version(std::string_view image, VersionNumber version);

  // Re-hashes every stored block against its fingerprint and every complete
  // segment against its own, checks every metadata file, and reports which
  // ranges of which versions are damaged.
  Result<VerifyReport> verify();
  // Finishes interrupted work (as at boot), deletes leftovers and drops
  // segments unreferenced for unreferenced_ttl, then empties the trash.
  Result<GcReport> gc();
  // Unlinks the data files that changes threw away (a change moves them into trash/ as one of
  // its steps, ChangeSet::discard: unlinking a file of megabytes waits on the disk, ~1 ms here,
  // and a commit's client need not wait for that). At most kTrashFilesMax at a time; returns
  // how many. The API calls it once a commit or a removal has answered; boot and gc() too.
  // Takes no lock: nothing else opens a file in the trash.
  static constexpr std::size_t kTrashFilesMax = 4096;
  Result<std::size_t> empty_trash();

  StoreStats stats() const;
  // Segments compacted since the store opened (a counter of stats(), without its sums).
  std::uint64_t segments_compacted() const { return counters_.segments_compacted; }
  // Every invariant, by a full scan of the disk: reference counts equal the
  // direct references of all versions, chains end in direct references, the
  // newest versions hold only direct ones, removed blocks have no count, the
  // index and accounting match the disk and balance. corrupt names the first
  // violation. For tests: it reads everything.
  Status check();

  const StoreOptions& options() const { return options_; }

  // The parts' own (store_internal.h).
  struct Plan;
  struct Resolved;

 private:
  Store(Runtime& rt, FileSystem& fs, const StoreOptions& options);

  // --- boot and recovery (store.cc)
  Status recover();
  Status ensure_ready();
  Status make_dirs();
  Status remove_leftovers();
  Status load_segments();
  Status load_catalog();
  Status load_image(const std::string& image);
  template <class Decode>
  auto read_twice(std::string_view path, std::uint64_t bytes_max, bool prefix, Decode decode)
      -> decltype(decode(std::string_view()));
  Result<SegmentMeta> load_meta(SegmentId id);
  Result<Recipe> load_recipe(std::string_view image, VersionNumber version);
  Status run_change(ChangeSet& change, const Plan& plan);
  void install(const Plan& plan);
  void changed();

  // --- writes (store_write.cc)
  Result<bool> put_segment_locked(const SegmentMeta& meta, std::string_view bytes,
                                  const std::vector<bool>& null_blocks);
  Status write_segment(const SegmentMeta& meta, std::string_view bytes,
                       const std::vector<bool>& null_blocks);
  Status check_commit_limits(std::string_view image) const;
  Result<const SegmentMeta*> loaded_meta(SegmentId id, Plan& plan);
  Result<Recipe> build_recipe(std::string_view image, VersionNumber version,
                              const VersionManifest& manifest, Plan& plan);
  // --- cross-image block dedup at commit (store_cross_dedup.cc)
  Status cross_dedup(Recipe& next, const Recipe* previous, Plan& plan);
  std::vector<SegmentId> cross_dedup_candidates(const SegmentMeta& fresh,
                                                const std::map<SegmentId, std::uint64_t>& own);
  // --- upload avoidance (store_borrowing.cc)
  struct LenderBlocks {
    const SegmentMeta* meta = nullptr;
    std::unordered_map<Fingerprint, std::uint32_t, FingerprintHash> by_fp;  // present blocks
  };
  using LenderIndex = std::map<SegmentId, LenderBlocks>;
  struct BorrowedBlocks {  // what one commit looked up
    LenderIndex index;
    std::map<SegmentId, std::vector<SegmentId>> relenders;  // per borrower, if its lender failed
    std::uint64_t relent = 0;                               // blocks found elsewhere
  };
  Result<BlockRef> lender_block(const SegmentMeta& borrower, std::uint32_t b, LenderIndex& index,
                                Plan& plan);
  Result<std::optional<std::uint32_t>> block_in(SegmentId segment, const SegmentMeta& borrower,
                                                std::uint32_t b, LenderIndex& index, Plan& plan);
  Result<BlockRef> borrowed_block(const SegmentMeta& borrower, std::uint32_t b,
                                  std::string_view image, BorrowedBlocks& found, Plan& plan);
  // Where each borrowed block of one of the borrowing copies of `fp` is now (the newest copy
  // whose every borrowed block is still held somewhere); not_found if no copy's are.
  Result<const SegmentMeta*> settle_borrowing(const Fingerprint& fp, std::string_view image,
                                              BorrowedBlocks& found, Plan& plan,
                                              std::map<std::uint32_t, BlockRef>& at);
  Result<const std::map<SegmentId, std::uint64_t>*> own_references(std::string_view image);
  // --- the segment side of a change (store_segments.cc)
  struct Compaction;
  Status plan_segments(const RefDeltas& deltas, Plan& plan, ChangeSet& change);
  void stage_removal(const SegmentMeta& before, const RemovalPlan& removal, Plan& plan,
                     ChangeSet& change);
  Status compact(const std::vector<Compaction>& compactions);
  Result<std::string> compacted_data(const Compaction& compaction, CoreId core);
  Status stage_recipes(std::vector<Recipe>& recipes, Plan& plan, ChangeSet& change);
  Error abandon(ChangeSet& change, const Status& why);
  Result<CommitResult> commit_locked(std::string_view image, const VersionManifest& manifest);
  Result<RemoveResult> remove_locked(std::string_view image, VersionNumber version);

  // --- reads (store_read.cc)
  Result<std::shared_ptr<const Resolved>> resolve(std::string_view image, VersionNumber version);
  Result<std::shared_ptr<const SegmentMeta>> cached_meta(SegmentId id);
  void remember_meta(const SegmentMeta& meta);
  void remember_meta(std::shared_ptr<const SegmentMeta> meta);
  void forget_meta(SegmentId id);
  Status read_blocks(const Resolved& r, std::uint64_t offset, std::span<char> into);
  Status read_run(const Resolved& r, const SegmentMeta& meta, std::uint64_t first,
                  std::uint64_t end, std::uint64_t offset, std::span<char> into,
                  std::string& buffer);

  // --- checks (store_check.cc)
  Status check_locked();
  Status check_image(const std::string& image, const std::map<SegmentId, SegmentMeta>& metas,
                     std::map<SegmentId, std::vector<std::uint64_t>>& counts);
  Status verify_segment(SegmentId id, VerifyReport& report,
                        std::set<std::pair<SegmentId, std::uint32_t>>& bad_blocks);
  Result<VerifyReport> verify_locked();
  Result<GcReport> gc_locked();

  // corrupt, naming the damaged recipe, if `version` of `image` (or any of
  // its versions, without one) was found damaged at boot.
  Status version_problem(std::string_view image, std::optional<VersionNumber> version) const;
  // The version's summary; else corrupt if it was found damaged at boot, not_found if not.
  Result<const VersionSummary*> known_version(std::string_view image, VersionNumber version) const;

  Runtime& rt_;
  FileIo io_;
  StoreOptions options_;
  Paths paths_;
  FairMutex mutex_;
  SegmentTable segments_;
  Catalog catalog_;
  bool needs_recovery_ = true;
  std::uint64_t epoch_ = 0;  // bumped by every change: read caches follow it
  std::vector<std::pair<SegmentId, std::shared_ptr<const SegmentMeta>>> meta_cache_;
  std::vector<std::shared_ptr<const Resolved>> resolved_cache_;
  std::vector<std::string> load_problems_;   // metadata that failed to load at boot
  std::vector<SegmentId> problem_segments_;  // their data files are kept
  // Versions whose recipe failed to load at boot, with the problem: not in
  // the catalog, but never silently gone (listing their image is an error).
  std::map<std::pair<std::string, VersionNumber>, std::string> problem_versions_;
  StoreStats counters_;  // the since-open counters
  struct OwnReferences {
    std::string image;
    VersionNumber version = 0;
    std::map<SegmentId, std::uint64_t> counts;
  };
  OwnReferences own_cache_;  // own_references() of the image asked last
};

}  // namespace doppel::dedup
