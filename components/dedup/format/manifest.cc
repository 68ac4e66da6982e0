#include "components/dedup/format/manifest.h"

#include "components/dedup/hash/byte_codec.h"

namespace doppel::dedup {
namespace {

constexpr std::string_view kMagic = "DDMANI01";

Error bad(std::string what) {
  return make_error(Errc::invalid_argument, std::move(what));
}

std::string at_segment(std::size_t s) {
  return "segment " + std::to_string(s);
}

// Null fingerprints of full blocks, computed once per kind.
const Fingerprint& full_null_fingerprint(HashKind kind) {
  static const Fingerprint sha256 = null_fingerprint(HashKind::sha256, kBlockBytes);
  static const Fingerprint sha1 = null_fingerprint(HashKind::sha1, kBlockBytes);
  return kind == HashKind::sha1 ? sha1 : sha256;
}

Status check_blocks(const SegmentManifest& seg, HashKind kind, std::size_t s) {
  if (seg.blocks.size() != blocks_in(seg.bytes)) {
    return bad(at_segment(s) + " of " + std::to_string(seg.bytes) + " bytes has " +
               std::to_string(seg.blocks.size()) + " blocks");
  }
  for (std::size_t b = 0; b < seg.blocks.size(); ++b) {
    const BlockManifest& block = seg.blocks[b];
    if (block.fp.kind != kind) return bad(at_segment(s) + ": block of another hash kind");
    const std::uint32_t length = block_bytes_at(seg.bytes, b);
    const Fingerprint null_fp =
        length == kBlockBytes ? full_null_fingerprint(kind) : null_fingerprint(kind, length);
    if (block.null != (block.fp == null_fp)) {
      return bad(at_segment(s) + " block " + std::to_string(b) + ": null flag disagrees");
    }
  }
  return {};
}

}  // namespace

bool SegmentManifest::all_null() const {
  for (const BlockManifest& b : blocks) {
    if (!b.null) return false;
  }
  return true;
}

std::uint64_t VersionManifest::block_count() const {
  std::uint64_t n = 0;
  for (const SegmentManifest& s : segments) n += s.blocks.size();
  return n;
}

std::uint64_t blocks_in(std::uint64_t bytes) {
  return (bytes + kBlockBytes - 1) / kBlockBytes;
}

std::uint32_t block_bytes_at(std::uint64_t bytes, std::uint64_t index) {
  DOPPEL_ASSERT(index < blocks_in(bytes));
  const std::uint64_t start = index * kBlockBytes;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(kBlockBytes, bytes - start));
}

void hash_blocks(HashKind kind, std::string_view bytes, std::size_t first, std::size_t end,
                 std::span<BlockManifest> out) {
  DOPPEL_ASSERT(first <= end && end <= out.size() && out.size() == blocks_in(bytes.size()));
  std::vector<std::string_view> pieces(end - first);
  for (std::size_t b = first; b < end; ++b) {
    pieces[b - first] = bytes.substr(b * kBlockBytes, kBlockBytes);
  }
  std::vector<Fingerprint> fps(pieces.size());
  Hasher::of_each(kind, pieces, fps);
  for (std::size_t b = first; b < end; ++b) {
    out[b] = BlockManifest{fps[b - first], is_all_zero(pieces[b - first])};
  }
}

SegmentManifest segment_manifest_from(HashKind kind, std::uint32_t bytes,
                                      std::vector<BlockManifest> blocks) {
  DOPPEL_ASSERT(blocks.size() == blocks_in(bytes));
  std::vector<Fingerprint> fps(blocks.size());
  for (std::size_t b = 0; b < blocks.size(); ++b) fps[b] = blocks[b].fp;
  SegmentManifest m;
  m.fp = segment_fingerprint_of(kind, fps);
  m.bytes = bytes;
  m.blocks = std::move(blocks);
  return m;
}

SegmentManifest segment_manifest_of(HashKind kind, std::string_view bytes) {
  std::vector<BlockManifest> blocks(blocks_in(bytes.size()));
  hash_blocks(kind, bytes, 0, blocks.size(), blocks);
  return segment_manifest_from(kind, static_cast<std::uint32_t>(bytes.size()), std::move(blocks));
}

Status check_manifest(const VersionManifest& m, const ManifestLimits& limits) {
  if (m.image_bytes > limits.image_bytes_max) {
    return make_error(Errc::too_large, "image of " + std::to_string(m.image_bytes) +
                                           " bytes; image_bytes_max is " +
                                           std::to_string(limits.image_bytes_max));
  }
  std::uint64_t covered = 0;
  for (std::size_t s = 0; s < m.segments.size(); ++s) {
    const SegmentManifest& seg = m.segments[s];
    const bool last = s + 1 == m.segments.size();
    if (seg.bytes == 0 || seg.bytes > limits.segment_bytes_max) {
      return make_error(Errc::too_large, at_segment(s) + " has " + std::to_string(seg.bytes) +
                                             " bytes; segment_bytes_max is " +
                                             std::to_string(limits.segment_bytes_max));
    }
    if (!last && seg.bytes % kBlockBytes != 0) {
      return bad(at_segment(s) + " is not a whole number of blocks and is not the last");
    }
    if (seg.fp.kind != m.kind) return bad(at_segment(s) + ": fingerprint of another hash kind");
    if (Status st = check_blocks(seg, m.kind, s); !st) return st;
    covered += seg.bytes;
    if (covered > m.image_bytes) break;
  }
  if (covered != m.image_bytes) {
    return bad("segments cover " + std::to_string(covered) + " bytes of an image of " +
               std::to_string(m.image_bytes));
  }
  return {};
}

std::string encode_manifest(const VersionManifest& m) {
  std::string out;
  ByteWriter w(out);
  w.bytes(kMagic);
  w.u8(static_cast<std::uint8_t>(m.kind));
  w.u64(m.image_bytes);
  w.u32(static_cast<std::uint32_t>(m.segments.size()));
  for (const SegmentManifest& seg : m.segments) {
    w.digest(seg.fp);
    w.u32(seg.bytes);
    for (const BlockManifest& b : seg.blocks) {
      w.u8(b.null ? 1 : 0);
      if (!b.null) w.digest(b.fp);
    }
  }
  w.u64(checksum64(out));
  return out;
}

Result<VersionManifest> decode_manifest(std::string_view bytes, const ManifestLimits& limits) {
  const auto corrupt = [](std::string what) {
    return make_error(Errc::corrupt, "manifest: " + what);
  };
  if (bytes.size() < kMagic.size() + 8) return corrupt("truncated");
  ByteReader tail(bytes.substr(bytes.size() - 8));
  if (tail.u64() != checksum64(bytes.substr(0, bytes.size() - 8))) return corrupt("bad checksum");
  ByteReader r(bytes.substr(0, bytes.size() - 8));
  if (r.bytes(kMagic.size()) != kMagic) return corrupt("bad magic");
  const std::uint8_t kind = r.u8();
  if (!valid_hash_kind(kind)) return corrupt("unknown hash kind");
  VersionManifest m;
  m.kind = static_cast<HashKind>(kind);
  m.image_bytes = r.u64();
  if (m.image_bytes > limits.image_bytes_max) return corrupt("image too large");
  const std::uint32_t segments = r.u32();
  // Each segment takes at least one digest and its size: a bound before reserving.
  if (segments > r.remaining() / (digest_bytes(m.kind) + 4)) return corrupt("truncated");
  m.segments.resize(segments);
  const Fingerprint null_block = null_fingerprint(m.kind, kBlockBytes);
  for (SegmentManifest& seg : m.segments) {
    seg.fp = r.digest(m.kind);
    seg.bytes = r.u32();
    if (r.failed() || seg.bytes == 0 || seg.bytes > limits.segment_bytes_max) {
      return corrupt("bad segment size");
    }
    seg.blocks.resize(blocks_in(seg.bytes));
    for (std::size_t b = 0; b < seg.blocks.size(); ++b) {
      seg.blocks[b].null = r.u8() != 0;
      const std::uint32_t length = block_bytes_at(seg.bytes, b);
      seg.blocks[b].fp =
          seg.blocks[b].null
              ? (length == kBlockBytes ? null_block : null_fingerprint(m.kind, length))
              : r.digest(m.kind);
    }
    if (r.failed()) return corrupt("truncated");
  }
  if (!r.at_end()) return corrupt("trailing bytes");
  if (Status s = check_manifest(m, limits); !s) return s.error();
  return m;
}

}  // namespace doppel::dedup
