#include "components/dedup/store/segment_meta.h"

#include <algorithm>

#include "components/dedup/format/manifest.h"
#include "components/dedup/hash/byte_codec.h"

namespace doppel::dedup {
namespace {

constexpr std::string_view kMagic = "DDSEGM01";
constexpr std::size_t kBlockRecordBytes = 1 + 4 + 4 + Fingerprint::kBytesMax;
constexpr std::uint32_t kFlagComplete = 1;
constexpr std::uint32_t kFlagHooks = 2;  // the header holds hooks; their count in bits 8..15
constexpr std::uint32_t kFlagBorrowing = 4;

void put_digest32(ByteWriter& w, const Fingerprint& fp) {
  w.bytes(std::string_view(reinterpret_cast<const char*>(fp.bytes.data()), fp.bytes.size()));
}

Fingerprint get_digest32(ByteReader& r, HashKind kind) {
  Fingerprint fp;
  fp.kind = kind;
  const std::string_view b = r.bytes(Fingerprint::kBytesMax);
  if (!b.empty()) std::copy(b.begin(), b.end(), reinterpret_cast<char*>(fp.bytes.data()));
  return fp;
}

void put_space(ByteWriter& w, const SegmentSpace& s) {
  w.u64(s.data_bytes);
  w.u64(s.stored_bytes);
  w.u64(s.punched_bytes);
  w.u64(s.compacted_bytes);
}

SegmentSpace get_space(ByteReader& r) {
  SegmentSpace s;
  s.data_bytes = r.u64();
  s.stored_bytes = r.u64();
  s.punched_bytes = r.u64();
  s.compacted_bytes = r.u64();
  return s;
}

Error corrupt(SegmentId id, std::string_view what) {
  return make_error(Errc::corrupt,
                    "segment " + std::to_string(id) + " metadata: " + std::string(what));
}

// The header, body checksum included; padded to kSegmentHeaderBytes with the
// header checksum in its last eight bytes.
std::string encode_header(const SegmentHeader& h, std::uint64_t body_checksum) {
  std::string out;
  ByteWriter w(out);
  w.bytes(kMagic);
  w.u8(static_cast<std::uint8_t>(h.fp.kind));
  w.u64(h.id);
  put_digest32(w, h.fp);
  w.u32(h.bytes);
  w.u32(h.generation);
  w.u32(h.block_count);
  DOPPEL_ASSERT(h.hook_count <= kHooksPerSegment);
  w.u32((h.complete ? kFlagComplete : 0) | (h.borrowing ? kFlagBorrowing : 0) |
        (h.hooks_known ? kFlagHooks | h.hook_count << 8 : 0));
  w.u64(h.refs_total);
  put_space(w, h.space);
  w.u64(body_checksum);
  if (h.hooks_known) {
    for (std::uint32_t i = 0; i < h.hook_count; ++i) w.u64(h.hooks[i]);
  }
  DOPPEL_ASSERT(out.size() <= kSegmentHeaderBytes - 8);
  out.resize(kSegmentHeaderBytes - 8, '\0');
  w.u64(checksum64(out));
  return out;
}

struct DecodedHeader {
  SegmentHeader header;
  std::uint64_t body_checksum = 0;
};

Result<DecodedHeader> decode_header(std::string_view bytes, SegmentId id,
                                    std::uint32_t segment_bytes_max) {
  if (bytes.size() < kSegmentHeaderBytes) return corrupt(id, "truncated header");
  const std::string_view head = bytes.substr(0, kSegmentHeaderBytes - 8);
  ByteReader tail(bytes.substr(kSegmentHeaderBytes - 8, 8));
  if (tail.u64() != checksum64(head)) return corrupt(id, "header checksum");
  ByteReader r(head);
  if (r.bytes(kMagic.size()) != kMagic) return corrupt(id, "magic");
  const std::uint8_t kind = r.u8();
  if (!valid_hash_kind(kind)) return corrupt(id, "hash kind");
  DecodedHeader d;
  SegmentHeader& h = d.header;
  h.id = r.u64();
  h.fp = get_digest32(r, static_cast<HashKind>(kind));
  h.bytes = r.u32();
  h.generation = r.u32();
  h.block_count = r.u32();
  const std::uint32_t flags = r.u32();
  h.complete = (flags & kFlagComplete) != 0;
  h.borrowing = (flags & kFlagBorrowing) != 0;
  h.hooks_known = (flags & kFlagHooks) != 0;
  h.hook_count = h.hooks_known ? flags >> 8 & 0xff : 0;
  if (h.hook_count > kHooksPerSegment) return corrupt(id, "hook count");
  h.refs_total = r.u64();
  h.space = get_space(r);
  d.body_checksum = r.u64();
  for (std::uint32_t i = 0; i < h.hook_count; ++i) h.hooks[i] = r.u64();
  if (r.failed()) return corrupt(id, "truncated header");
  if (h.id != id) return corrupt(id, "names segment " + std::to_string(h.id));
  if (h.bytes == 0 || h.bytes > segment_bytes_max || h.block_count != blocks_in(h.bytes)) {
    return corrupt(id, "size");
  }
  if (!h.space.balanced()) return corrupt(id, "space does not balance");
  return d;
}

Status check_block(const SegmentMeta& m, std::size_t b, std::uint8_t raw_state) {
  const SegmentBlock& blk = m.blocks[b];
  if (raw_state > static_cast<std::uint8_t>(BlockState::borrowed)) {
    return corrupt(m.id, "block state");
  }
  if (blk.state == BlockState::null && blk.refs != 0) return corrupt(m.id, "null block with refs");
  if (blk.state == BlockState::borrowed && (blk.lender == 0 || blk.lender == m.id)) {
    return corrupt(m.id, "a block borrowed from segment " + std::to_string(blk.lender));
  }
  if (blk.slot >= m.blocks.size()) return corrupt(m.id, "block slot");
  return {};
}

}  // namespace

SegmentSpace& SegmentSpace::operator+=(const SegmentSpace& o) {
  data_bytes += o.data_bytes;
  stored_bytes += o.stored_bytes;
  punched_bytes += o.punched_bytes;
  compacted_bytes += o.compacted_bytes;
  return *this;
}

SegmentSpace& SegmentSpace::operator-=(const SegmentSpace& o) {
  DOPPEL_ASSERT(data_bytes >= o.data_bytes && stored_bytes >= o.stored_bytes);
  DOPPEL_ASSERT(punched_bytes >= o.punched_bytes && compacted_bytes >= o.compacted_bytes);
  data_bytes -= o.data_bytes;
  stored_bytes -= o.stored_bytes;
  punched_bytes -= o.punched_bytes;
  compacted_bytes -= o.compacted_bytes;
  return *this;
}

bool SegmentMeta::complete() const {
  for (const SegmentBlock& b : blocks) {
    if (b.state != BlockState::null && b.state != BlockState::present) return false;
  }
  return true;
}

bool SegmentMeta::borrowing() const {
  return std::any_of(blocks.begin(), blocks.end(),
                     [](const SegmentBlock& b) { return b.state == BlockState::borrowed; });
}

std::uint64_t SegmentMeta::refs_total() const {
  std::uint64_t n = 0;
  for (const SegmentBlock& b : blocks) n += b.refs;
  return n;
}

std::uint32_t SegmentMeta::block_length(std::size_t b) const {
  return block_bytes_at(bytes, b);
}

SegmentSpace SegmentMeta::space() const {
  SegmentSpace s;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const std::uint64_t n = block_length(b);
    switch (blocks[b].state) {
      case BlockState::null:
        continue;
      case BlockState::present:
        s.stored_bytes += n;
        break;
      case BlockState::punched:
        s.punched_bytes += n;
        break;
      case BlockState::compacted:
      case BlockState::borrowed:  // never in the data file: as if compacted at birth
        s.compacted_bytes += n;
        break;
    }
    s.data_bytes += n;
  }
  return s;
}

std::uint64_t block_hook(const Fingerprint& fp) {
  std::uint64_t h = 0;
  for (int i = 7; i >= 0; --i) h = h << 8 | fp.bytes[static_cast<std::size_t>(i)];
  return h;
}

SegmentHeader SegmentMeta::header() const {
  SegmentHeader h{
      id,         fp,          bytes,        generation, static_cast<std::uint32_t>(blocks.size()),
      complete(), borrowing(), refs_total(), space()};
  // The smallest distinct hooks of the present blocks, kept sorted.
  auto& hooks = h.hooks;
  std::uint32_t& n = h.hook_count;
  for (const SegmentBlock& b : blocks) {
    if (b.state != BlockState::present) continue;
    const std::uint64_t hook = block_hook(b.fp);
    const auto at = std::lower_bound(hooks.begin(), hooks.begin() + n, hook);
    const auto i = static_cast<std::uint32_t>(at - hooks.begin());
    if (i == kHooksPerSegment || (i < n && hooks[i] == hook)) continue;
    n = std::min<std::uint32_t>(n + 1, kHooksPerSegment);
    for (std::uint32_t k = n - 1; k > i; --k) hooks[k] = hooks[k - 1];
    hooks[i] = hook;
  }
  return h;
}

SegmentMeta new_segment_meta(SegmentId id, const Fingerprint& fp, std::uint32_t bytes,
                             const std::vector<Fingerprint>& block_fps,
                             const std::vector<bool>& null_blocks) {
  DOPPEL_ASSERT(block_fps.size() == blocks_in(bytes) && null_blocks.size() == block_fps.size());
  SegmentMeta m{id, fp, bytes, 0, {}};
  m.blocks.resize(block_fps.size());
  for (std::size_t b = 0; b < block_fps.size(); ++b) {
    m.blocks[b].fp = block_fps[b];
    m.blocks[b].state = null_blocks[b] ? BlockState::null : BlockState::present;
    m.blocks[b].slot = static_cast<std::uint32_t>(b);
  }
  return m;
}

SegmentMeta borrowing_segment_meta(SegmentId id, const Fingerprint& fp, std::uint32_t bytes,
                                   const std::vector<Fingerprint>& block_fps,
                                   const std::vector<bool>& null_blocks,
                                   std::span<const SegmentId> lenders) {
  DOPPEL_ASSERT(lenders.size() == block_fps.size());
  SegmentMeta m = new_segment_meta(id, fp, bytes, block_fps, null_blocks);
  m.generation = 1;
  std::uint32_t slot = 0;
  for (std::size_t b = 0; b < m.blocks.size(); ++b) {
    SegmentBlock& blk = m.blocks[b];
    blk.slot = 0;
    if (blk.state != BlockState::present) continue;
    if (lenders[b] != 0) {
      DOPPEL_ASSERT(lenders[b] != id);
      blk.state = BlockState::borrowed;
      blk.lender = lenders[b];
    } else {
      blk.slot = slot++;
    }
  }
  return m;
}

std::string encode_segment_meta(const SegmentMeta& m) {
  std::string body;
  ByteWriter w(body);
  for (const SegmentBlock& b : m.blocks) {
    w.u8(static_cast<std::uint8_t>(b.state));
    if (b.state == BlockState::borrowed) {
      DOPPEL_ASSERT(b.refs == 0 && b.slot == 0);
      w.u64(b.lender);
    } else {
      DOPPEL_ASSERT(b.lender == 0);
      w.u32(b.refs);
      w.u32(b.slot);
    }
    put_digest32(w, b.fp);
  }
  std::string out = encode_header(m.header(), checksum64(body));
  out += body;
  return out;
}

Result<SegmentHeader> decode_segment_header(std::string_view bytes, SegmentId id,
                                            std::uint32_t segment_bytes_max) {
  Result<DecodedHeader> d = decode_header(bytes, id, segment_bytes_max);
  if (!d) return d.error();
  return d->header;
}

Result<SegmentMeta> decode_segment_meta(std::string_view bytes, SegmentId id,
                                        std::uint32_t segment_bytes_max) {
  Result<DecodedHeader> d = decode_header(bytes, id, segment_bytes_max);
  if (!d) return d.error();
  const SegmentHeader& h = d->header;
  const std::string_view body = bytes.substr(kSegmentHeaderBytes);
  if (body.size() != std::uint64_t{h.block_count} * kBlockRecordBytes) {
    return corrupt(id, "body size");
  }
  if (checksum64(body) != d->body_checksum) return corrupt(id, "body checksum");
  SegmentMeta m{h.id, h.fp, h.bytes, h.generation, {}};
  m.blocks.resize(h.block_count);
  ByteReader r(body);
  for (std::size_t b = 0; b < m.blocks.size(); ++b) {
    const std::uint8_t state = r.u8();
    m.blocks[b].state = static_cast<BlockState>(state);
    if (m.blocks[b].state == BlockState::borrowed) {
      m.blocks[b].lender = r.u64();
    } else {
      m.blocks[b].refs = r.u32();
      m.blocks[b].slot = r.u32();
    }
    m.blocks[b].fp = get_digest32(r, h.fp.kind);
    if (Status s = check_block(m, b, state); !s) return s.error();
  }
  SegmentHeader computed = m.header();
  if (!h.hooks_known) {  // written before hooks: they cannot disagree
    computed.hooks_known = false;
    computed.hook_count = 0;
    computed.hooks = {};
  }
  if (computed != h) return corrupt(id, "header disagrees with the blocks");
  return m;
}

}  // namespace doppel::dedup
