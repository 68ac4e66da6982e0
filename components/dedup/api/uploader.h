#pragma once
// Backing up one version of an image through the API (paper 3.4): the caller feeds the image's
// bytes in any chunking; they are cut into segments and fingerprinted (ImageCutter), the server
// is asked which segments it has, only the others are uploaded (never an all-null one, never one
// twice; without the blocks the server holds in other segments), and finish() commits the
// manifest.
//
// Cutting and uploading overlap: segments wait in a bounded queue for the upload fibers, so
// memory stays at about (queue_segments + uploads_max * query_batch_max + 1) segments whatever
// the image's size, and feed() blocks the caller's fiber while the queue is full. Several upload
// fibers (each request on its own connection) keep the server busy while a segment crosses the
// network or the server syncs the one before.
//
//   Uploader up(rt, client, "vm-a", options);
//   while (read a chunk) if (Status s = up.feed(chunk); !s) ...
//   auto committed = up.finish();

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "components/dedup/api/client.h"
#include "components/dedup/client/image_cutter.h"
#include "runtime/channel.h"
#include "runtime/sync.h"

namespace doppel::dedup {

struct UploadOptions {
  CutterOptions cutter;
  std::size_t queue_segments = 4;   // cut, waiting for an upload fiber
  std::size_t query_batch_max = 8;  // segments asked about in one query (at most a fiber's share)
  std::size_t uploads_max = 2;      // upload fibers, so requests in flight at once
  // Upload avoidance (store/cross_dedup.h): before a segment is uploaded, ask which of its
  // blocks the server holds in other segments, and send only the others.
  bool borrow = true;
};

struct UploadProgress {
  std::uint64_t bytes_cut = 0;   // of the image, cut and fingerprinted
  std::uint64_t bytes_done = 0;  // in segments settled: uploaded, found stored, or null
  std::uint64_t segments = 0;    // cut
  std::uint64_t segments_uploaded = 0;
  std::uint64_t segments_deduplicated = 0;  // the server had them (or this upload did)
  std::uint64_t segments_null = 0;          // all zero: never sent
  std::uint64_t bytes_uploaded = 0;         // sent: whole segments, or their blocks not borrowed
  std::uint64_t segments_borrowing = 0;     // of those uploaded, sent without some blocks
  std::uint64_t blocks_borrowed = 0;        // not sent: the server holds them elsewhere
};

class Uploader {
 public:
  // feed() lets the upload fiber run after cutting this much.
  static constexpr std::uint64_t kYieldBytes = 1u << 20;

  Uploader(Runtime& rt, DedupClient& client, std::string image, UploadOptions options);
  // Abandons the upload unless finish() was called: waits for the upload fibers, which stop
  // after their current request.
  ~Uploader();
  Uploader(const Uploader&) = delete;
  Uploader& operator=(const Uploader&) = delete;

  // The next bytes of the image. The first upload error stops everything and is returned by
  // every later call.
  Status feed(std::string_view bytes);
  // Or, saving a copy of every byte: read the next bytes of the image into input_space(max),
  // then fed(n) for the first n of them (as ImageCutter::input_space).
  std::span<char> input_space(std::size_t max) { return cutter_.input_space(max); }
  Status fed(std::size_t n);
  // Ends the image: waits for the uploads, then commits.
  Result<CommitResult> finish();

  const UploadProgress& progress() const { return progress_; }

 private:
  void upload_loop();
  Status settle(std::vector<CutSegment>& batch);
  Result<bool> upload(CutSegment& segment);
  Status enqueue(CutSegment segment);
  Status after_cut(std::size_t bytes);
  void stop_uploads();

  Runtime& rt_;
  DedupClient& client_;
  std::string image_;
  UploadOptions options_;
  ImageCutter cutter_;
  Channel<CutSegment> queue_;
  std::vector<CutSegment> completed_;
  std::set<Fingerprint> known_;  // settled by this upload: asked or sent once only
  UploadProgress progress_;
  std::uint64_t cut_since_yield_ = 0;
  std::optional<Error> error_;
  bool abandoned_ = false;  // destroyed before finish(): upload nothing more
  bool borrow_;             // options.borrow, until the server turns out not to lend
  std::size_t uploaders_running_ = 0;
  Condition upload_done_;
};

}  // namespace doppel::dedup
