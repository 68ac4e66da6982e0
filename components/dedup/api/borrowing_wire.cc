#include "components/dedup/api/borrowing_wire.h"

#include <charconv>

#include "components/dedup/hash/byte_codec.h"

namespace doppel::dedup {

std::string encode_segment_manifest(const SegmentManifest& segment) {
  return encode_manifest(VersionManifest{segment.fp.kind, segment.bytes, {segment}});
}

Result<SegmentManifest> decode_segment_manifest(std::string_view bytes, HashKind kind,
                                                const ManifestLimits& limits) {
  Result<VersionManifest> m = decode_manifest(bytes, limits);
  if (!m) return make_error(Errc::invalid_argument, "segment manifest: " + m.error().message());
  if (m->kind != kind) {
    return make_error(Errc::invalid_argument,
                      "segment manifest: fingerprints are " + std::string(hash_kind_name(m->kind)) +
                          "; this server's are " + std::string(hash_kind_name(kind)));
  }
  if (m->segments.size() != 1) {
    return make_error(
        Errc::invalid_argument,
        "segment manifest: " + std::to_string(m->segments.size()) + " segments, not one");
  }
  return std::move(m->segments.front());
}

std::string encode_lenders(std::span<const SegmentId> lenders) {
  std::string out;
  out.reserve(lenders.size() * 2 + 1);
  for (std::size_t i = 0; i < lenders.size(); ++i) {
    if (i > 0) out += ' ';
    out += std::to_string(lenders[i]);
  }
  out += '\n';
  return out;
}

Result<std::vector<SegmentId>> decode_lenders(std::string_view body, std::size_t count) {
  if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  std::vector<SegmentId> out;
  out.reserve(count);
  const char* at = body.data();
  const char* end = body.data() + body.size();
  while (at < end && out.size() <= count) {
    SegmentId id = 0;
    const auto [next, ec] = std::from_chars(at, end, id);
    if (ec != std::errc() || (next != end && *next != ' ')) {
      return make_error(Errc::protocol, "the lenders are not decimal ids");
    }
    out.push_back(id);
    at = next == end ? end : next + 1;
  }
  if (out.size() != count) {
    return make_error(Errc::protocol, "the server named lenders for " + std::to_string(out.size()) +
                                          " blocks of " + std::to_string(count));
  }
  return out;
}

std::string encode_borrowing_upload(const SegmentManifest& segment,
                                    std::span<const SegmentId> lenders, std::string_view bytes) {
  DOPPEL_ASSERT(lenders.size() == segment.blocks.size() && bytes.size() == segment.bytes);
  const std::string manifest = encode_segment_manifest(segment);
  std::string out;
  ByteWriter w(out);
  w.u32(static_cast<std::uint32_t>(manifest.size()));
  w.bytes(manifest);
  for (const SegmentId id : lenders) w.u64(id);
  for (std::size_t b = 0; b < segment.blocks.size(); ++b) {
    if (segment.blocks[b].null || lenders[b] != 0) continue;
    w.bytes(bytes.substr(b * kBlockBytes, block_bytes_at(segment.bytes, b)));
  }
  return out;
}

Result<BorrowingUpload> decode_borrowing_upload(std::string_view body, HashKind kind,
                                                const ManifestLimits& limits) {
  ByteReader r(body);
  const std::uint32_t manifest_bytes = r.u32();
  const std::string_view manifest = r.bytes(manifest_bytes);
  if (r.failed()) return make_error(Errc::invalid_argument, "a borrowing upload, truncated");
  Result<SegmentManifest> segment = decode_segment_manifest(manifest, kind, limits);
  if (!segment) return segment.error();
  BorrowingUpload up{std::move(*segment), {}, {}};
  up.lenders.resize(up.segment.blocks.size());
  for (SegmentId& id : up.lenders) id = r.u64();
  if (r.failed()) return make_error(Errc::invalid_argument, "a borrowing upload, truncated");
  up.data = body.substr(r.position());
  return up;
}

std::uint64_t borrowing_upload_bytes_max(std::uint32_t segment_bytes_max) {
  // The manifest: its fixed fields and per block a flag and a digest; a lender per block.
  const std::uint64_t blocks = blocks_in(segment_bytes_max);
  return 4 + 128 + blocks * (1 + Fingerprint::kBytesMax + 8) + segment_bytes_max;
}

}  // namespace doppel::dedup
