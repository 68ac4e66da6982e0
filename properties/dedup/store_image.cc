#include "properties/dedup/store_image.h"

#include <algorithm>
#include <cstring>

#include "components/dedup/hash/sha1.h"
#include "components/dedup/hash/sha256.h"

namespace doppel::properties::dedup {
namespace {

constexpr std::string_view kSegmentMagic = "DDSEGM01";
constexpr std::string_view kRecipeMagic = "DDRECP01";
constexpr std::size_t kSegmentHeaderBytes = 160;
constexpr std::size_t kRecipeHeaderBytes = 256;
constexpr std::size_t kBlockRecordBytes = 1 + 4 + 4 + 32;
constexpr std::size_t kEntryBytes = 1 + 8 + 4 + 32;
constexpr std::size_t kImageNameBytes = 128;
constexpr std::uint64_t kSegmentBytesMax = 32u << 20;  // the format's limit
constexpr std::uint64_t kImageBytesMax = 1ull << 40;

// Little-endian fields, in order; reading past the end sets failed().
class Fields {
 public:
  explicit Fields(std::string_view bytes) : bytes_(bytes) {}
  std::uint64_t le(std::size_t n) {
    if (at_ + n > bytes_.size()) {
      failed_ = true;
      return 0;
    }
    std::uint64_t v = 0;
    for (std::size_t i = n; i > 0; --i)
      v = (v << 8) | static_cast<unsigned char>(bytes_[at_ + i - 1]);
    at_ += n;
    return v;
  }
  std::string_view take(std::size_t n) {
    if (at_ + n > bytes_.size()) {
      failed_ = true;
      return {};
    }
    const std::string_view out = bytes_.substr(at_, n);
    at_ += n;
    return out;
  }
  Digest digest() {
    Digest d{};
    const std::string_view b = take(d.size());
    if (!b.empty()) std::memcpy(d.data(), b.data(), d.size());
    return d;
  }
  bool failed() const { return failed_; }

 private:
  std::string_view bytes_;
  std::size_t at_ = 0;
  bool failed_ = false;
};

std::uint64_t blocks_of(std::uint64_t bytes) {
  return (bytes + kDiskBlockBytes - 1) / kDiskBlockBytes;
}

std::uint64_t length_at(std::uint64_t bytes, std::size_t index) {
  return std::min<std::uint64_t>(kDiskBlockBytes, bytes - index * kDiskBlockBytes);
}

bool valid_kind(std::uint64_t kind) {
  return kind == 1 || kind == 2;
}

// The header's own checksum (its last eight bytes) and the body's (named in the header).
bool checksums_hold(std::string_view bytes, std::size_t header_bytes, std::uint64_t body_sum) {
  Fields tail(bytes.substr(header_bytes - 8, 8));
  return tail.le(8) == disk_checksum(bytes.substr(0, header_bytes - 8)) &&
         body_sum == disk_checksum(bytes.substr(header_bytes));
}

struct SegmentTotals {
  std::uint64_t refs = 0, data = 0, stored = 0, punched = 0, compacted = 0;
  bool complete = true;
};

SegmentTotals totals_of(const DiskSegment& s) {
  SegmentTotals t;
  for (std::size_t b = 0; b < s.blocks.size(); ++b) {
    const DiskBlock& blk = s.blocks[b];
    t.refs += blk.refs;
    const std::uint64_t n = s.block_length(b);
    if (blk.state == DiskBlockState::null) continue;
    t.data += n;
    if (blk.state == DiskBlockState::present) t.stored += n;
    if (blk.state == DiskBlockState::punched) t.punched += n;
    if (blk.state == DiskBlockState::compacted || blk.state == DiskBlockState::borrowed) {
      t.compacted += n;
    }
    t.complete &= blk.state == DiskBlockState::present;
  }
  return t;
}

Error bad_segment(std::uint64_t id, std::string_view what) {
  return make_error(Errc::corrupt,
                    "segment " + std::to_string(id) + " metadata: " + std::string(what));
}

Error bad_recipe(std::string_view image, std::uint64_t version, std::string_view what) {
  return make_error(Errc::corrupt, "recipe of " + std::string(image) + " version " +
                                       std::to_string(version) + ": " + std::string(what));
}

Status decode_blocks(std::string_view body, DiskSegment& s) {
  Fields f(body);
  for (DiskBlock& blk : s.blocks) {
    const std::uint64_t state = f.le(1);
    if (state == static_cast<std::uint64_t>(DiskBlockState::borrowed)) {
      blk.lender = f.le(8);
      if (blk.lender == 0 || blk.lender == s.id) {
        return bad_segment(s.id, "a block borrowed from segment " + std::to_string(blk.lender));
      }
    } else {
      blk.refs = static_cast<std::uint32_t>(f.le(4));
      blk.slot = static_cast<std::uint32_t>(f.le(4));
    }
    blk.digest = f.digest();
    if (state > 4) return bad_segment(s.id, "a block state " + std::to_string(state));
    blk.state = static_cast<DiskBlockState>(state);
    if (blk.state == DiskBlockState::null && blk.refs != 0) {
      return bad_segment(s.id, "a null block with references");
    }
    if (blk.slot >= s.blocks.size()) return bad_segment(s.id, "a slot past the segment");
  }
  return {};
}

}  // namespace

std::uint64_t DiskSegment::block_length(std::size_t b) const {
  return length_at(bytes, b);
}

std::uint64_t DiskRecipe::block_length(std::size_t position) const {
  return length_at(image_bytes, position);
}

std::uint64_t disk_checksum(std::string_view bytes) {
  const auto d = doppel::dedup::Sha256::of(bytes);
  std::uint64_t v = 0;
  for (std::size_t i = 8; i > 0; --i) v = (v << 8) | d[i - 1];
  return v;
}

Digest disk_block_digest(std::uint8_t hash_kind, std::string_view bytes) {
  Digest out{};
  if (hash_kind == 2) {
    const auto d = doppel::dedup::Sha1::of(bytes);
    std::copy(d.begin(), d.end(), out.begin());
  } else {
    out = doppel::dedup::Sha256::of(bytes);
  }
  return out;
}

Result<DiskSegment> decode_disk_segment(std::string_view bytes, std::uint64_t id) {
  if (bytes.size() < kSegmentHeaderBytes) return bad_segment(id, "shorter than its header");
  Fields f(bytes.substr(0, kSegmentHeaderBytes - 8));
  if (f.take(kSegmentMagic.size()) != kSegmentMagic) return bad_segment(id, "magic");
  DiskSegment s;
  s.hash_kind = static_cast<std::uint8_t>(f.le(1));
  s.id = f.le(8);
  (void)f.digest();  // the segment's fingerprint: the index's business, not the counts'
  s.bytes = static_cast<std::uint32_t>(f.le(4));
  s.generation = static_cast<std::uint32_t>(f.le(4));
  const std::uint64_t block_count = f.le(4);
  const bool complete = (f.le(4) & 1) != 0;
  s.refs_total = f.le(8);
  SegmentTotals header;
  header.data = f.le(8);
  header.stored = f.le(8);
  header.punched = f.le(8);
  header.compacted = f.le(8);
  const std::uint64_t body_sum = f.le(8);
  if (f.failed() || !checksums_hold(bytes, kSegmentHeaderBytes, body_sum)) {
    return bad_segment(id, "a checksum fails");
  }
  if (!valid_kind(s.hash_kind)) return bad_segment(id, "hash kind");
  if (s.id != id) return bad_segment(id, "names segment " + std::to_string(s.id));
  if (s.bytes == 0 || s.bytes > kSegmentBytesMax || block_count != blocks_of(s.bytes)) {
    return bad_segment(id, "size and block count");
  }
  if (bytes.size() - kSegmentHeaderBytes != block_count * kBlockRecordBytes) {
    return bad_segment(id, "body size");
  }
  s.blocks.resize(block_count);
  if (Status st = decode_blocks(bytes.substr(kSegmentHeaderBytes), s); !st) return st.error();
  const SegmentTotals t = totals_of(s);
  if (t.refs != s.refs_total || t.complete != complete || t.data != header.data ||
      t.stored != header.stored || t.punched != header.punched || t.compacted != header.compacted) {
    return bad_segment(id, "the header's totals are not the blocks'");
  }
  return s;
}

Result<DiskRecipe> decode_disk_recipe(std::string_view bytes, std::string_view image,
                                      std::uint64_t version) {
  if (bytes.size() < kRecipeHeaderBytes) return bad_recipe(image, version, "short header");
  Fields f(bytes.substr(0, kRecipeHeaderBytes - 8));
  if (f.take(kRecipeMagic.size()) != kRecipeMagic) return bad_recipe(image, version, "magic");
  DiskRecipe r;
  r.hash_kind = static_cast<std::uint8_t>(f.le(1));
  const std::uint64_t name_bytes = f.le(1);
  const std::string_view name = f.take(kImageNameBytes);
  r.version = f.le(8);
  r.image_bytes = f.le(8);
  const std::uint64_t by_kind[3] = {f.le(8), f.le(8), f.le(8)};  // null, direct, indirect
  const std::uint64_t body_sum = f.le(8);
  if (f.failed() || !checksums_hold(bytes, kRecipeHeaderBytes, body_sum)) {
    return bad_recipe(image, version, "a checksum fails");
  }
  if (!valid_kind(r.hash_kind) || name_bytes > kImageNameBytes) {
    return bad_recipe(image, version, "hash kind or name length");
  }
  r.image = std::string(name.substr(0, name_bytes));
  if (r.image != image || r.version != version) return bad_recipe(image, version, "names another");
  if (r.image_bytes > kImageBytesMax ||
      bytes.size() - kRecipeHeaderBytes != blocks_of(r.image_bytes) * kEntryBytes) {
    return bad_recipe(image, version, "image size and body size");
  }
  r.entries.resize(blocks_of(r.image_bytes));
  Fields body(bytes.substr(kRecipeHeaderBytes));
  std::uint64_t counted[3] = {0, 0, 0};
  for (std::size_t p = 0; p < r.entries.size(); ++p) {
    DiskEntry& e = r.entries[p];
    const std::uint64_t kind = body.le(1);
    e.target = body.le(8);
    e.index = static_cast<std::uint32_t>(body.le(4));
    e.digest = body.digest();
    if (kind > 2) return bad_recipe(image, version, "an entry kind " + std::to_string(kind));
    e.kind = static_cast<DiskRefKind>(kind);
    counted[kind] += r.block_length(p);
  }
  if (counted[0] != by_kind[0] || counted[1] != by_kind[1] || counted[2] != by_kind[2]) {
    return bad_recipe(image, version, "the header's byte counts are not the entries'");
  }
  return r;
}

std::optional<DiskSegmentFile> parse_disk_segment_file(std::string_view name) {
  if (name.size() < 18 || name[16] != '.') return std::nullopt;
  DiskSegmentFile f;
  for (const char c : name.substr(0, 16)) {
    const bool digit = c >= '0' && c <= '9';
    if (!digit && (c < 'a' || c > 'f')) return std::nullopt;
    f.id = (f.id << 4) | static_cast<std::uint64_t>(digit ? c - '0' : c - 'a' + 10);
  }
  const std::string_view rest = name.substr(17);
  if (rest == "meta") {
    f.is_meta = true;
    return f;
  }
  const std::size_t dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 9 || rest.substr(dot) != ".data") {
    return std::nullopt;
  }
  std::uint64_t generation = 0;
  for (const char c : rest.substr(0, dot)) {
    if (c < '0' || c > '9') return std::nullopt;
    generation = generation * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (generation > 0xffffffffu) return std::nullopt;
  f.generation = static_cast<std::uint32_t>(generation);
  return f;
}

std::optional<DiskVersionFile> parse_disk_version_file(std::string_view name) {
  if (name.size() < 12 || name[10] != '.') return std::nullopt;
  DiskVersionFile f;
  for (const char c : name.substr(0, 10)) {
    if (c < '0' || c > '9') return std::nullopt;
    f.version = f.version * 10 + static_cast<std::uint64_t>(c - '0');
  }
  const std::string_view rest = name.substr(11);
  if (rest != "recipe" && rest != "gone") return std::nullopt;
  f.is_recipe = rest == "recipe";
  return f;
}

}  // namespace doppel::properties::dedup
