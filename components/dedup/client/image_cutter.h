#pragma once
// The client side of RevDedup (paper §3.4): cut an image, streamed in any
// chunking, into fixed-size segments of segment_bytes (the last may be short)
// and 4 KiB blocks, and fingerprint both. Null (all-zero) blocks are
// flagged. Pure code: no I/O, no clock.
//
//   ImageCutter cutter(CutterOptions{.segment_bytes = 4 << 20});
//   std::vector<CutSegment> done;
//   while (read a chunk) { cutter.feed(chunk, done); upload each of done; done.clear(); }
//   if (auto last = cutter.finish()) upload *last;
//   commit(image, cutter.manifest());
//
// A segment whose blocks are all null need not be uploaded (the store never
// needs its bytes); any other segment is uploaded unless has_segments says
// the store already has it.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "components/dedup/format/manifest.h"
#include "components/dedup/hash/fingerprint.h"
#include "runtime/result.h"

namespace doppel::dedup {

struct CutterOptions {
  std::uint32_t segment_bytes = kSegmentBytesDefault;  // a multiple of kBlockBytes
  HashKind hash = HashKind::sha256;
  std::uint64_t image_bytes_max = kImageBytesMax;
};

// invalid_argument naming the option and its bounds.
Status check_cutter_options(const CutterOptions& options);

// Fingerprints a cut segment: segment_manifest_of, unless the cutter is given another way to
// reach the same answer (Uploader hashes half of each segment on a second core).
using SegmentHasher = std::function<SegmentManifest(HashKind, std::string_view)>;

struct CutSegment {
  SegmentManifest manifest;
  std::string bytes;  // the segment's content, null blocks included
};

class ImageCutter {
 public:
  // The options must pass check_cutter_options (asserted).
  explicit ImageCutter(const CutterOptions& options);

  // Takes the next bytes of the image; appends each segment they complete to
  // `completed`. too_large (and nothing taken) past image_bytes_max.
  Status feed(std::string_view bytes, std::vector<CutSegment>& completed);
  // Reading straight into the segment being cut, which saves copying every byte: room for at
  // most `max` next bytes of the image (empty past image_bytes_max); fill a prefix, then
  // took(n) takes it as feed() would.
  std::span<char> input_space(std::size_t max);
  void took(std::size_t n, std::vector<CutSegment>& completed);
  // A cut segment's buffer, no longer needed: a later segment is cut into it (no fresh memory
  // to fault in and zero for each). At most kSpareBuffersMax are kept.
  void recycle(std::string buffer);
  static constexpr std::size_t kSpareBuffersMax = 16;
  // Segments cut from now on are fingerprinted by `hasher`, which must give what
  // segment_manifest_of gives.
  void set_hasher(SegmentHasher hasher) { hasher_ = std::move(hasher); }
  // Ends the image: the last segment if bytes remain since the last full one.
  std::optional<CutSegment> finish();
  bool finished() const { return finished_; }

  // Every segment cut so far, in order (block and segment fingerprints, no
  // bytes); complete once finish() was called.
  const VersionManifest& manifest() const { return manifest_; }
  std::uint64_t image_bytes() const { return manifest_.image_bytes; }

 private:
  void take(std::string_view bytes);
  void start_segment();
  CutSegment end_segment();

  CutterOptions options_;
  VersionManifest manifest_;
  // current_.bytes is segment_bytes long; its first `filled_` are the segment's so far.
  CutSegment current_;
  std::size_t filled_ = 0;
  std::size_t space_given_ = 0;  // by the last input_space()
  std::vector<std::string> spare_;
  SegmentHasher hasher_;  // empty: segment_manifest_of
  bool finished_ = false;
};

// The whole image at once: its segments (with bytes), and in `manifest` the
// manifest to commit.
std::vector<CutSegment> cut_image(std::string_view image, const CutterOptions& options,
                                  VersionManifest& manifest);

}  // namespace doppel::dedup
