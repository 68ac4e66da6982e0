#include "components/dedup/store/recipe.h"

#include "components/dedup/format/manifest.h"
#include "components/dedup/hash/byte_codec.h"

namespace doppel::dedup {
namespace {

constexpr std::string_view kMagic = "DDRECP01";
constexpr std::size_t kEntryBytes = 1 + 8 + 4 + Fingerprint::kBytesMax;

Error corrupt(std::string_view image, VersionNumber version, std::string_view what) {
  return make_error(Errc::corrupt, "recipe of " + std::string(image) + " version " +
                                       std::to_string(version) + ": " + std::string(what));
}

std::string encode_header(const RecipeHeader& h, std::uint64_t body_checksum) {
  DOPPEL_ASSERT(h.image.size() <= kImageNameBytesMax);
  std::string out;
  ByteWriter w(out);
  w.bytes(kMagic);
  w.u8(static_cast<std::uint8_t>(h.kind));
  w.u8(static_cast<std::uint8_t>(h.image.size()));
  w.bytes(h.image);
  out.resize(kMagic.size() + 2 + kImageNameBytesMax, '\0');
  w.u64(h.version);
  w.u64(h.image_bytes);
  w.u64(h.space.null_bytes);
  w.u64(h.space.direct_bytes);
  w.u64(h.space.indirect_bytes);
  w.u64(body_checksum);
  w.u64(h.saved.segment_bytes);
  w.u64(h.saved.cross_bytes);
  DOPPEL_ASSERT(out.size() <= kRecipeHeaderBytes - 8);
  out.resize(kRecipeHeaderBytes - 8, '\0');
  w.u64(checksum64(out));
  return out;
}

struct DecodedHeader {
  RecipeHeader header;
  std::uint64_t body_checksum = 0;
};

Result<DecodedHeader> decode_header(std::string_view bytes, std::string_view image,
                                    VersionNumber version, std::uint64_t image_bytes_max) {
  if (bytes.size() < kRecipeHeaderBytes) return corrupt(image, version, "truncated header");
  const std::string_view head = bytes.substr(0, kRecipeHeaderBytes - 8);
  ByteReader tail(bytes.substr(kRecipeHeaderBytes - 8, 8));
  if (tail.u64() != checksum64(head)) return corrupt(image, version, "header checksum");
  ByteReader r(head);
  if (r.bytes(kMagic.size()) != kMagic) return corrupt(image, version, "magic");
  const std::uint8_t kind = r.u8();
  const std::uint8_t name_bytes = r.u8();
  if (!valid_hash_kind(kind) || name_bytes > kImageNameBytesMax) {
    return corrupt(image, version, "format");
  }
  DecodedHeader d;
  RecipeHeader& h = d.header;
  h.kind = static_cast<HashKind>(kind);
  h.image = std::string(r.bytes(kImageNameBytesMax).substr(0, name_bytes));
  h.version = r.u64();
  h.image_bytes = r.u64();
  h.space.null_bytes = r.u64();
  h.space.direct_bytes = r.u64();
  h.space.indirect_bytes = r.u64();
  d.body_checksum = r.u64();
  h.saved.segment_bytes = r.u64();
  h.saved.cross_bytes = r.u64();
  if (r.failed()) return corrupt(image, version, "truncated header");
  if (h.saved.segment_bytes + h.saved.cross_bytes > h.image_bytes) {
    return corrupt(image, version, "savings");
  }
  if (h.image != image || h.version != version) return corrupt(image, version, "names another");
  if (h.image_bytes > image_bytes_max || h.space.total() != h.image_bytes) {
    return corrupt(image, version, "sizes");
  }
  return d;
}

Status check_entry(const RecipeEntry& e, VersionNumber version) {
  switch (e.kind) {
    case RefKind::null:
      return {};
    case RefKind::direct:
      return e.target != 0 ? Status() : make_error(Errc::corrupt, "segment 0");
    case RefKind::indirect:
      if (e.target > version) return {};
      return make_error(Errc::corrupt, "indirect reference to an earlier version");
  }
  return make_error(Errc::corrupt, "entry kind");
}

}  // namespace

RecipeSpace& RecipeSpace::operator+=(const RecipeSpace& o) {
  null_bytes += o.null_bytes;
  direct_bytes += o.direct_bytes;
  indirect_bytes += o.indirect_bytes;
  return *this;
}

RecipeSpace& RecipeSpace::operator-=(const RecipeSpace& o) {
  DOPPEL_ASSERT(null_bytes >= o.null_bytes && direct_bytes >= o.direct_bytes);
  DOPPEL_ASSERT(indirect_bytes >= o.indirect_bytes);
  null_bytes -= o.null_bytes;
  direct_bytes -= o.direct_bytes;
  indirect_bytes -= o.indirect_bytes;
  return *this;
}

CommitSavings& CommitSavings::operator+=(const CommitSavings& o) {
  segment_bytes += o.segment_bytes;
  cross_bytes += o.cross_bytes;
  return *this;
}

CommitSavings& CommitSavings::operator-=(const CommitSavings& o) {
  DOPPEL_ASSERT(segment_bytes >= o.segment_bytes && cross_bytes >= o.cross_bytes);
  segment_bytes -= o.segment_bytes;
  cross_bytes -= o.cross_bytes;
  return *this;
}

std::uint32_t Recipe::block_length(std::size_t position) const {
  return block_bytes_at(image_bytes, position);
}

RecipeSpace Recipe::space() const {
  RecipeSpace s;
  for (std::size_t p = 0; p < entries.size(); ++p) {
    const std::uint64_t n = block_length(p);
    switch (entries[p].kind) {
      case RefKind::null:
        s.null_bytes += n;
        break;
      case RefKind::direct:
        s.direct_bytes += n;
        break;
      case RefKind::indirect:
        s.indirect_bytes += n;
        break;
    }
  }
  return s;
}

RecipeHeader Recipe::header() const {
  return RecipeHeader{image, version, kind, image_bytes, space(), saved};
}

std::string encode_recipe(const Recipe& recipe) {
  DOPPEL_ASSERT(recipe.entries.size() == blocks_in(recipe.image_bytes));
  std::string body;
  body.reserve(recipe.entries.size() * kEntryBytes);
  ByteWriter w(body);
  for (const RecipeEntry& e : recipe.entries) {
    w.u8(static_cast<std::uint8_t>(e.kind));
    w.u64(e.target);
    w.u32(e.index);
    w.bytes(std::string_view(reinterpret_cast<const char*>(e.fp.bytes.data()), e.fp.bytes.size()));
  }
  std::string out = encode_header(recipe.header(), checksum64(body));
  out += body;
  return out;
}

Result<RecipeHeader> decode_recipe_header(std::string_view bytes, std::string_view image,
                                          VersionNumber version, std::uint64_t image_bytes_max) {
  Result<DecodedHeader> d = decode_header(bytes, image, version, image_bytes_max);
  if (!d) return d.error();
  return d->header;
}

Result<Recipe> decode_recipe(std::string_view bytes, std::string_view image, VersionNumber version,
                             std::uint64_t image_bytes_max) {
  Result<DecodedHeader> d = decode_header(bytes, image, version, image_bytes_max);
  if (!d) return d.error();
  const RecipeHeader& h = d->header;
  const std::string_view body = bytes.substr(kRecipeHeaderBytes);
  if (body.size() != blocks_in(h.image_bytes) * kEntryBytes) {
    return corrupt(image, version, "body size");
  }
  if (checksum64(body) != d->body_checksum) return corrupt(image, version, "body checksum");
  Recipe recipe{h.image, h.version, h.kind, h.image_bytes, {}, h.saved};
  recipe.entries.resize(blocks_in(h.image_bytes));
  ByteReader r(body);
  for (RecipeEntry& e : recipe.entries) {
    e.kind = static_cast<RefKind>(r.u8());
    e.target = r.u64();
    e.index = r.u32();
    e.fp.kind = h.kind;
    const std::string_view digest = r.bytes(Fingerprint::kBytesMax);
    std::copy(digest.begin(), digest.end(), reinterpret_cast<char*>(e.fp.bytes.data()));
    if (Status s = check_entry(e, version); !s) return corrupt(image, version, s.error().what);
  }
  if (recipe.space() != h.space) return corrupt(image, version, "header disagrees with entries");
  return recipe;
}

}  // namespace doppel::dedup
