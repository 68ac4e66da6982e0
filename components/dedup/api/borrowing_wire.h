#pragma once
// The bodies of upload avoidance (cross_dedup.h, "Borrowing at upload"), both ways:
//
//   POST /images/{name}/borrowing      the segment's manifest (the manifest codec, a version of
//                                      one segment) -> per block the id of the segment holding
//                                      its content, 0 to send it: decimal, space-separated, "\n"
//   PUT /segments/{fp}/borrowing       u32 length of the manifest, the manifest, per block a
//                                      u64 lender (0: sent), then the sent blocks' bytes in order
//                                      (little-endian) -> 201 stored, 200 stored already

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "components/dedup/format/manifest.h"
#include "components/dedup/store/options.h"
#include "runtime/result.h"

namespace doppel::dedup {

// The one-segment manifest both bodies carry.
std::string encode_segment_manifest(const SegmentManifest& segment);
// invalid_argument unless it holds exactly one segment of the given kind.
Result<SegmentManifest> decode_segment_manifest(std::string_view bytes, HashKind kind,
                                                const ManifestLimits& limits);

std::string encode_lenders(std::span<const SegmentId> lenders);
// protocol unless it holds exactly `count` ids.
Result<std::vector<SegmentId>> decode_lenders(std::string_view body, std::size_t count);

struct BorrowingUpload {
  SegmentManifest segment;
  std::vector<SegmentId> lenders;  // per block
  std::string_view data;           // the sent blocks, in order (a view into the body)
};
// The PUT body from the whole segment's bytes: only the blocks not borrowed and not null.
std::string encode_borrowing_upload(const SegmentManifest& segment,
                                    std::span<const SegmentId> lenders, std::string_view bytes);
// invalid_argument naming what is wrong; `data` points into `body`.
Result<BorrowingUpload> decode_borrowing_upload(std::string_view body, HashKind kind,
                                                const ManifestLimits& limits);
// The largest PUT body for segments of at most `segment_bytes_max`.
std::uint64_t borrowing_upload_bytes_max(std::uint32_t segment_bytes_max);

}  // namespace doppel::dedup
