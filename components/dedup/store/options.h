#pragma once
// The store's options and the limits on everything it keeps.

#include <cstdint>
#include <string>

#include "components/dedup/format/manifest.h"
#include "components/dedup/hash/fingerprint.h"
#include "runtime/result.h"
#include "runtime/time.h"

namespace doppel::dedup {

using SegmentId = std::uint64_t;      // from 1; 0 means none
using VersionNumber = std::uint64_t;  // from 1 per image; never reused

inline constexpr std::size_t kImageNameBytesMax = 128;
inline constexpr std::uint32_t kCrossDedupSegmentsPerMibMax = 256;
inline constexpr VersionNumber kVersionNumberMax = 9'999'999'999;  // ten digits in file names
// Small files a change writes and syncs side by side (its segments' metadata, its recipes):
// each sync is a round trip to the disk, which serves several at once nearly as fast as one.
inline constexpr std::size_t kSyncedWritesAtOnce = 4;
// The store holds at most this many files open at once, whatever the load: a change's
// kSyncedWritesAtOnce small files, two data files being read for compaction and one being
// written, and the intent log.
inline constexpr std::size_t kOpenFilesMax = kSyncedWritesAtOnce + 4;

// Test-only planted bugs (scenarios show each property catches one). Never set in production:
// the node config's `bug` key is the only way in.
enum class PlantedBug : std::uint8_t {
  none,
  skip_decrement,            // reverse dedup forgets to drop the old version's references
  verify_skips_data,         // verify checks metadata only, never re-hashes stored blocks
  failed_commit_keeps_lock,  // a commit that fails on an I/O error never releases the lock
  summary_takes_oldest,      // GET /images gives an image's oldest version's size as its latest's
  // A run of blocks punched out of a data file ends one block early (a fencepost: the run's end
  // taken as its last block's start), so that block's bytes stay on the disk although its
  // metadata says punched: space the accounting reports freed never is.
  punch_keeps_last_block,
  // The append-only role is checked for gc but forgotten for removals (a route added without
  // its policy): an append-only user can destroy backups.
  append_only_removes,
  // Cross-image dedup moves the new version's references after they were counted (two steps of
  // a commit in the wrong order): the borrowed blocks are never counted, the fresh copies keep
  // counts nothing holds, and the lender's blocks go while a clone still reads them.
  borrow_uncounted,
  // A commit of a segment uploaded borrowing blocks finds each lender's block by its content
  // alone, not asking whether the lender still stores it (or anyone still references the
  // lender): a block punched since becomes the new version's content.
  borrow_unchecked,
};

struct StoreOptions {
  std::string dir = "dedup";  // under the node's data directory
  HashKind hash = HashKind::sha256;
  // Paper §3.2.3: remove blocks by punching holes while the segment's holes
  // (old and new) stay below this percentage of its stored blocks; compact
  // the segment at or above it.
  std::uint32_t rebuild_threshold_percent = 20;
  // Cross-image block dedup (cross_dedup.h): the blocks of a new segment may be read from at
  // most this many segments per MiB of it (at least 2) after they are found in other segments;
  // 0 turns it off (the paper's RevDedup).
  std::uint32_t cross_dedup_segments_per_mib = 4;
  std::uint32_t segment_bytes_max = kSegmentBytesMax;
  // A commit holds two recipes in memory, about 56 bytes per 4 KiB block each.
  std::uint64_t image_bytes_max = 64ull << 30;
  std::uint32_t images_max = 1u << 16;
  std::uint32_t versions_per_image_max = 1u << 12;
  std::uint64_t segments_max = 1ull << 26;
  std::uint32_t has_segments_max = 1u << 20;   // fingerprints per has_segments call
  std::uint64_t read_bytes_max = 64ull << 20;  // per read call
  // Segment metadata kept in memory, for reads and for the commits that follow (a version of
  // 256 MiB in 4 MiB segments touches 64, and as many of the version before).
  std::uint32_t meta_cache_entries = 256;
  std::uint32_t resolved_cache_versions = 4;  // versions whose chains are kept resolved
  // Re-hash every block a read returns and fail with corrupt on a mismatch.
  bool verify_reads = true;
  // gc drops a segment that no version references once it has been so this
  // long (an upload may be under way); boot counts as the start.
  Duration unreferenced_ttl = Duration(3'600'000'000'000);
  PlantedBug planted_bug = PlantedBug::none;
};

// invalid_argument naming the option and its bounds.
Status check_store_options(const StoreOptions& options);

}  // namespace doppel::dedup
