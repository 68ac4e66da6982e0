#include "components/dedup/client/image_cutter.h"

#include <algorithm>

namespace doppel::dedup {
namespace {

const CutterOptions& checked(const CutterOptions& options) {
  DOPPEL_ASSERT_MSG(check_cutter_options(options).ok(), "cutter options fail their check");
  return options;
}

}  // namespace

Status check_cutter_options(const CutterOptions& o) {
  if (o.segment_bytes < kSegmentBytesMin || o.segment_bytes > kSegmentBytesMax ||
      o.segment_bytes % kBlockBytes != 0) {
    return make_error(Errc::invalid_argument, "segment_bytes " + std::to_string(o.segment_bytes) +
                                                  ": a multiple of 4096 from " +
                                                  std::to_string(kSegmentBytesMin) + " to " +
                                                  std::to_string(kSegmentBytesMax));
  }
  if (o.image_bytes_max > kImageBytesMax) {
    return make_error(Errc::invalid_argument,
                      "image_bytes_max above " + std::to_string(kImageBytesMax));
  }
  return {};
}

ImageCutter::ImageCutter(const CutterOptions& options) : options_(checked(options)) {
  manifest_.kind = options.hash;
  start_segment();
}

Status ImageCutter::feed(std::string_view bytes, std::vector<CutSegment>& completed) {
  DOPPEL_ASSERT_MSG(!finished_, "feed after finish");
  if (bytes.size() > options_.image_bytes_max - manifest_.image_bytes) {
    return make_error(Errc::too_large,
                      "image over image_bytes_max " + std::to_string(options_.image_bytes_max));
  }
  while (!bytes.empty()) {
    const std::size_t room = options_.segment_bytes - filled_;
    const std::size_t n = std::min(room, bytes.size());
    take(bytes.substr(0, n));
    bytes.remove_prefix(n);
    if (filled_ == options_.segment_bytes) completed.push_back(end_segment());
  }
  return {};
}

std::span<char> ImageCutter::input_space(std::size_t max) {
  DOPPEL_ASSERT_MSG(!finished_, "input_space after finish");
  const std::uint64_t image_room = options_.image_bytes_max - manifest_.image_bytes;
  space_given_ = static_cast<std::size_t>(std::min<std::uint64_t>(
      {std::uint64_t{max}, std::uint64_t{options_.segment_bytes - filled_}, image_room}));
  return {current_.bytes.data() + filled_, space_given_};
}

void ImageCutter::took(std::size_t n, std::vector<CutSegment>& completed) {
  DOPPEL_ASSERT(n <= space_given_);
  space_given_ = 0;
  filled_ += n;
  manifest_.image_bytes += n;
  if (filled_ == options_.segment_bytes) completed.push_back(end_segment());
}

void ImageCutter::recycle(std::string buffer) {
  if (spare_.size() < kSpareBuffersMax && buffer.capacity() >= options_.segment_bytes) {
    spare_.push_back(std::move(buffer));
  }
}

// Bytes that fit in the current segment. They are hashed when the segment is complete, all of
// its blocks at once (segment_manifest_of hashes two blocks at a time).
void ImageCutter::take(std::string_view bytes) {
  DOPPEL_ASSERT(filled_ + bytes.size() <= options_.segment_bytes);
  bytes.copy(current_.bytes.data() + filled_, bytes.size());
  filled_ += bytes.size();
  manifest_.image_bytes += bytes.size();
}

void ImageCutter::start_segment() {
  current_ = CutSegment{};
  if (!spare_.empty()) {
    current_.bytes = std::move(spare_.back());
    spare_.pop_back();
  }
  current_.bytes.resize(options_.segment_bytes);  // zeroes only what a buffer never held
  filled_ = 0;
}

CutSegment ImageCutter::end_segment() {
  DOPPEL_ASSERT(filled_ > 0);
  current_.bytes.resize(filled_);
  current_.manifest = hasher_ ? hasher_(options_.hash, current_.bytes)
                              : segment_manifest_of(options_.hash, current_.bytes);
  DOPPEL_ASSERT(current_.manifest.bytes == filled_);
  manifest_.segments.push_back(current_.manifest);
  CutSegment done = std::move(current_);
  if (finished_) {
    current_ = CutSegment{};
  } else {
    start_segment();
  }
  return done;
}

std::optional<CutSegment> ImageCutter::finish() {
  DOPPEL_ASSERT_MSG(!finished_, "finish twice");
  finished_ = true;
  if (filled_ == 0) return std::nullopt;
  return end_segment();
}

std::vector<CutSegment> cut_image(std::string_view image, const CutterOptions& options,
                                  VersionManifest& manifest) {
  ImageCutter cutter(options);
  std::vector<CutSegment> segments;
  const Status fed = cutter.feed(image, segments);
  DOPPEL_ASSERT_MSG(fed.ok(), "cut_image: image over image_bytes_max");
  if (std::optional<CutSegment> last = cutter.finish()) segments.push_back(std::move(*last));
  manifest = cutter.manifest();
  return segments;
}

}  // namespace doppel::dedup
