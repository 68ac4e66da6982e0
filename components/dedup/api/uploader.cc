#include "components/dedup/api/uploader.h"

#include <algorithm>
#include <memory>

#include "runtime/future.h"

namespace doppel::dedup {

using namespace std::chrono_literals;

namespace {

// BUGGIFY (runtime/buggify.h): one upload of a backup falls behind the others.
const BuggifySite kSlowSegment{"dedup.upload.slow_segment",
                               "a segment's upload waits up to 500 ms before it is sent"};

// Fingerprints a segment on two cores at once: its first blocks on `helper` while this core
// hashes the rest. Hashing is most of a backup's CPU (each block is SHA-256'd), and the
// client's core also reads the image and sends segments. The helper writes only into its own
// share of `blocks`, which it co-owns, and reads the segment's bytes, which the waiting fiber
// keeps alive until the helper is done. (If the helper's core is stopping, its task never runs
// and this core hashes that share itself; this fiber is only cancelled while it waits when the
// whole runtime stops.)
SegmentHasher hasher_on_two_cores(Runtime& rt, CoreId helper) {
  return [&rt, helper](HashKind kind, std::string_view bytes) {
    const std::size_t count = blocks_in(bytes.size());
    const std::size_t shared = count / 2 & ~std::size_t{1};  // even: SHA-256 hashes in pairs
    if (shared == 0) return segment_manifest_of(kind, bytes);
    auto blocks = std::make_shared<std::vector<BlockManifest>>(count);
    Future<bool> helped = call_on(rt, helper, [kind, bytes, blocks, shared] {
      hash_blocks(kind, bytes, 0, shared, *blocks);
      return true;
    });
    hash_blocks(kind, bytes, shared, count, *blocks);
    if (!helped.get()) hash_blocks(kind, bytes, 0, shared, *blocks);
    return segment_manifest_from(kind, static_cast<std::uint32_t>(bytes.size()),
                                 std::move(*blocks));
  };
}

}  // namespace

Uploader::Uploader(Runtime& rt, DedupClient& client, std::string image, UploadOptions options)
    : rt_(rt),
      client_(client),
      image_(std::move(image)),
      options_(options),
      cutter_(options.cutter),
      queue_(rt, options.queue_segments),
      borrow_(options.borrow),
      upload_done_(rt) {
  DOPPEL_ASSERT(options.query_batch_max > 0);
  DOPPEL_ASSERT(options.uploads_max > 0);
  if (rt.core_count() > 1) {
    cutter_.set_hasher(hasher_on_two_cores(rt, (rt.this_core() + 1) % rt.core_count()));
  }
  uploaders_running_ = options.uploads_max;
  for (std::size_t i = 0; i < options.uploads_max; ++i) {
    rt_.spawn("backup-upload", [this] { upload_loop(); });
  }
}

Uploader::~Uploader() {
  try {
    abandoned_ = true;  // the segments still queued are not wanted
    stop_uploads();
  } catch (const Cancelled&) {
    // The node is stopping or crashed: the upload fiber unwinds on its own, touching nothing.
  }
}

void Uploader::stop_uploads() {
  queue_.close();
  while (uploaders_running_ > 0) {
    // Without a deadline, only a node going down (or crashed) ends a wait un-notified: its
    // fibers are being cancelled, the upload fibers too, and this one may be unwinding already
    // (so park cannot throw): stop waiting, or it would spin here for ever.
    if (upload_done_.wait() != Wake::notified) return;
  }
}

void Uploader::upload_loop() {
  std::vector<CutSegment> batch;
  for (;;) {
    std::optional<CutSegment> next = queue_.pop();
    if (!next || abandoned_ || error_) break;  // closed and drained, given up, or failed
    batch.clear();
    batch.push_back(std::move(*next));
    // No more than this fiber's share of what is queued, so that the fibers upload side by side
    // instead of one taking everything and sending it alone.
    const std::size_t share = std::max<std::size_t>(1, (queue_.size() + 1) / options_.uploads_max);
    while (batch.size() < std::min(options_.query_batch_max, share)) {
      std::optional<CutSegment> more = queue_.try_pop();
      if (!more) break;
      batch.push_back(std::move(*more));
    }
    if (Status s = settle(batch); !s) {
      if (!error_) error_ = s.error();
      queue_.close();
      break;
    }
  }
  if (--uploaders_running_ == 0) upload_done_.notify_all();
}

// Asks about the batch's segments not settled yet, then uploads the missing ones. A segment is
// known from the moment one fiber decides to upload it, so another fiber's batch holding the
// same segment does not send it again (finish() waits for every fiber before committing).
Status Uploader::settle(std::vector<CutSegment>& batch) {
  std::vector<Fingerprint> ask;
  std::vector<std::size_t> answer_at(batch.size(), 0);  // each segment's place in `ask`
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const SegmentManifest& m = batch[i].manifest;
    if (m.all_null() || known_.contains(m.fp)) continue;
    const auto same = std::find(ask.begin(), ask.end(), m.fp);
    answer_at[i] = static_cast<std::size_t>(same - ask.begin());
    if (same == ask.end()) ask.push_back(m.fp);
  }
  std::vector<bool> present;
  if (!ask.empty()) {
    auto answer = client_.has_segments(ask);
    if (!answer) return answer.error();
    present = std::move(*answer);
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    CutSegment& s = batch[i];
    const std::uint32_t bytes = s.manifest.bytes;
    if (s.manifest.all_null()) {
      ++progress_.segments_null;
    } else if (known_.contains(s.manifest.fp) || present[answer_at[i]]) {
      // (known at the query stays known, so answer_at is only read for a segment asked about)
      ++progress_.segments_deduplicated;
    } else {
      known_.insert(s.manifest.fp);
      (void)buggify_sleep(rt_, kSlowSegment, 500ms);
      auto stored = upload(s);
      if (!stored) return stored.error();
      ++(*stored ? progress_.segments_uploaded : progress_.segments_deduplicated);
    }
    if (!s.manifest.all_null()) known_.insert(s.manifest.fp);
    progress_.bytes_done += bytes;
    cutter_.recycle(std::move(s.bytes));
  }
  return {};
}

// Sends what the server lacks of the segment: without the blocks other segments hold (upload
// avoidance), else whole -- also when a lender gave a block up between the question and the
// upload, or the server predates borrowing (its 404s).
Result<bool> Uploader::upload(CutSegment& s) {
  const SegmentManifest& m = s.manifest;
  if (borrow_) {
    auto lenders = client_.plan_borrowing(image_, m);
    if (!lenders && lenders.code() != Errc::not_found) return lenders.error();
    if (!lenders) borrow_ = false;
    std::uint64_t borrowed = 0, kept_bytes = 0;
    for (std::size_t b = 0; lenders && b < m.blocks.size(); ++b) {
      if ((*lenders)[b] != 0) {
        ++borrowed;
      } else if (!m.blocks[b].null) {
        kept_bytes += block_bytes_at(m.bytes, b);
      }
    }
    if (borrowed > 0) {
      auto stored = client_.put_borrowing(m, *lenders, s.bytes);
      if (stored) {
        if (*stored) {
          progress_.bytes_uploaded += kept_bytes;
          progress_.blocks_borrowed += borrowed;
          ++progress_.segments_borrowing;
        }
        return stored;
      }
      if (stored.code() != Errc::not_found) return stored.error();
    }
  }
  auto stored = client_.put_segment(m.fp, s.bytes);
  if (stored && *stored) progress_.bytes_uploaded += m.bytes;
  return stored;
}

Status Uploader::enqueue(CutSegment segment) {
  ++progress_.segments;
  if (queue_.push(std::move(segment))) return {};
  if (error_) return *error_;
  return make_error(Errc::cancelled, "the upload stopped");
}

Status Uploader::feed(std::string_view bytes) {
  if (error_) return *error_;
  completed_.clear();
  if (Status s = cutter_.feed(bytes, completed_); !s) return s;
  return after_cut(bytes.size());
}

Status Uploader::fed(std::size_t n) {
  if (error_) return *error_;
  completed_.clear();
  cutter_.took(n, completed_);
  return after_cut(n);
}

Status Uploader::after_cut(std::size_t bytes) {
  progress_.bytes_cut += bytes;
  for (CutSegment& segment : completed_) {
    if (Status s = enqueue(std::move(segment)); !s) return s;
  }
  completed_.clear();
  // Cutting is CPU work that never waits: give way now and then, so that the upload fiber
  // sends its next request as soon as the last one is answered, while we cut on.
  cut_since_yield_ += bytes;
  if (cut_since_yield_ >= kYieldBytes) {
    cut_since_yield_ = 0;
    rt_.sleep(Duration(0));
  }
  return {};
}

Result<CommitResult> Uploader::finish() {
  if (error_) return *error_;
  if (std::optional<CutSegment> last = cutter_.finish()) {
    if (Status s = enqueue(std::move(*last)); !s) return s.error();
  }
  stop_uploads();
  if (error_) return *error_;
  return client_.commit(image_, cutter_.manifest());
}

}  // namespace doppel::dedup
