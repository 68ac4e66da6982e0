#pragma once
// The in-memory segment index (paper §3.3: "the server holds an in-memory
// index that keeps track of the fingerprints and other metadata of all
// segments"): every segment's header by id, and fingerprint -> id for the
// complete segments, the only ones a new version may be deduplicated
// against (a segment with removed blocks cannot stand for its content any
// more; the same content uploaded again becomes a new segment). Rebuilt at
// boot from the segment metadata headers. About 200 bytes per segment (the
// paper budgets 32): a PiB of 4 MiB segments needs some 50 GiB of index.
//
// Beside it, the hook index for cross-image dedup: each referenced
// segment's hooks (segment_meta.h) -> the segments holding a present block
// with that hook, the newest kSegmentsPerHookMax of them. At most
// kHooksPerSegment entries per segment, each a node of 32 bytes (hook, id,
// link) and a bucket of 8: 120 bytes per segment, 30 MiB per TiB stored in
// 4 MiB segments, 120 MiB per TiB in 1 MiB ones. Segments no version
// references yet are left out: they are uploads in flight, not content to
// share.

#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "components/dedup/store/segment_meta.h"
#include "runtime/time.h"

namespace doppel::dedup {

struct SegmentSummary {
  SegmentHeader header;
  // When it was last seen with no reference (gc waits unreferenced_ttl).
  Instant unreferenced_since = instant_ns(0);
};

class SegmentTable {
 public:
  void clear();
  // Adds or replaces the segment's summary; indexes it if complete.
  void put(const SegmentHeader& header, Instant now);
  void erase(SegmentId id);

  const SegmentSummary* find(SegmentId id) const;
  std::optional<SegmentId> find_complete(const Fingerprint& fp) const;
  // The newest segment of this fingerprint uploaded borrowing blocks (segment_meta.h), if any:
  // what a commit naming the fingerprint uses when no complete segment has it.
  std::optional<SegmentId> find_borrowing(const Fingerprint& fp) const;
  // Every segment of this fingerprint uploaded borrowing blocks, the newest first.
  std::vector<SegmentId> borrowing_copies(const Fingerprint& fp) const;
  // The referenced segments with a present block whose hook is `hook`, in no order.
  std::vector<SegmentId> with_hook(std::uint64_t hook) const;
  std::size_t hook_entries() const { return by_hook_.size(); }
  const std::map<SegmentId, SegmentSummary>& all() const { return by_id_; }
  std::size_t size() const { return by_id_.size(); }
  std::size_t complete_count() const { return by_fp_.size(); }

  // Ids are never reused while any file names them: next_id passes them all.
  void note_id(SegmentId id);
  SegmentId take_id() { return next_id_++; }

  SegmentSpace space() const { return space_; }
  std::uint64_t unreferenced_bytes() const { return unreferenced_bytes_; }
  // Asserts the index, the sums and the summaries agree.
  void check() const;

 private:
  static constexpr std::size_t kSegmentsPerHookMax = 4;

  void account(const SegmentHeader& h, bool add);
  void index_hooks(const SegmentHeader& h, bool add);

  std::map<SegmentId, SegmentSummary> by_id_;
  std::unordered_map<Fingerprint, SegmentId, FingerprintHash> by_fp_;
  // Every borrowing segment of each fingerprint (clients may upload one each): erasing one is
  // a set operation, not a scan of the table.
  std::unordered_map<Fingerprint, std::set<SegmentId>, FingerprintHash> borrowing_by_fp_;
  std::unordered_multimap<std::uint64_t, SegmentId> by_hook_;
  SegmentSpace space_;
  std::uint64_t unreferenced_bytes_ = 0;
  SegmentId next_id_ = 1;
};

}  // namespace doppel::dedup
