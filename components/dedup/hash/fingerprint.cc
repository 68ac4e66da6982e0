#include "components/dedup/hash/fingerprint.h"

#include <cstring>

#include "runtime/assert.h"

namespace doppel::dedup {
namespace {

constexpr std::string_view kHexDigits = "0123456789abcdef";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Zero bytes to hash null blocks from, without allocating per call.
constexpr std::size_t kZeroChunkBytes = 4096;
const char kZeroChunk[kZeroChunkBytes] = {};

}  // namespace

std::string_view hash_kind_name(HashKind kind) {
  switch (kind) {
    case HashKind::sha256:
      return "sha256";
    case HashKind::sha1:
      return "sha1";
  }
  return "unknown";
}

std::optional<HashKind> parse_hash_kind(std::string_view name) {
  if (name == "sha256") return HashKind::sha256;
  if (name == "sha1") return HashKind::sha1;
  return std::nullopt;
}

std::size_t digest_bytes(HashKind kind) {
  return kind == HashKind::sha1 ? Sha1::kDigestBytes : Sha256::kDigestBytes;
}

bool valid_hash_kind(std::uint8_t raw) {
  return raw == static_cast<std::uint8_t>(HashKind::sha256) ||
         raw == static_cast<std::uint8_t>(HashKind::sha1);
}

std::string Fingerprint::hex() const {
  const std::size_t n = digest_bytes(kind);
  std::string out(2 * n, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kHexDigits[bytes[i] >> 4];
    out[2 * i + 1] = kHexDigits[bytes[i] & 15];
  }
  return out;
}

std::string Fingerprint::short_hex() const {
  return hex().substr(0, 12);
}

Result<Fingerprint> Fingerprint::from_hex(HashKind kind, std::string_view hex) {
  const std::size_t n = digest_bytes(kind);
  if (hex.size() != 2 * n) {
    return make_error(Errc::invalid_argument, "a " + std::string(hash_kind_name(kind)) +
                                                  " fingerprint has " + std::to_string(2 * n) +
                                                  " hex digits, not " + std::to_string(hex.size()));
  }
  Fingerprint fp;
  fp.kind = kind;
  for (std::size_t i = 0; i < n; ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return make_error(Errc::invalid_argument, "not hex: " + std::string(hex));
    fp.bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return fp;
}

std::size_t FingerprintHash::operator()(const Fingerprint& fp) const {
  std::uint64_t h = 0;
  std::memcpy(&h, fp.bytes.data(), sizeof h);
  return static_cast<std::size_t>(h ^ static_cast<std::uint64_t>(fp.kind));
}

void Hasher::update(std::string_view bytes) {
  if (kind_ == HashKind::sha1) {
    sha1_.update(bytes);
  } else {
    sha256_.update(bytes);
  }
}

Fingerprint Hasher::finish() {
  Fingerprint fp;
  fp.kind = kind_;
  if (kind_ == HashKind::sha1) {
    const Sha1::Digest d = sha1_.finish();
    std::memcpy(fp.bytes.data(), d.data(), d.size());
  } else {
    const Sha256::Digest d = sha256_.finish();
    std::memcpy(fp.bytes.data(), d.data(), d.size());
  }
  return fp;
}

Fingerprint Hasher::of(HashKind kind, std::string_view bytes) {
  Hasher h(kind);
  h.update(bytes);
  return h.finish();
}

void Hasher::of_each(HashKind kind, std::span<const std::string_view> pieces,
                     std::span<Fingerprint> out) {
  DOPPEL_ASSERT(out.size() == pieces.size());
  std::size_t i = 0;
  while (i < pieces.size()) {
    if (kind == HashKind::sha256 && i + 1 < pieces.size() &&
        pieces[i].size() == pieces[i + 1].size()) {
      const auto digests = Sha256::of_pair(pieces[i], pieces[i + 1]);
      for (const Sha256::Digest& d : digests) {
        out[i].kind = kind;
        out[i].bytes = {};
        std::memcpy(out[i].bytes.data(), d.data(), d.size());
        ++i;
      }
    } else {
      out[i] = of(kind, pieces[i]);
      ++i;
    }
  }
}

bool is_all_zero(std::string_view bytes) {
  // Word at a time; the tail byte by byte.
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    if (w != 0) return false;
  }
  for (; i < bytes.size(); ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

Fingerprint segment_fingerprint_of(HashKind kind, std::span<const Fingerprint> block_fps) {
  Hasher h(kind);
  const std::size_t n = digest_bytes(kind);
  for (const Fingerprint& b : block_fps) {
    DOPPEL_ASSERT(b.kind == kind);
    h.update(std::string_view(reinterpret_cast<const char*>(b.bytes.data()), n));
  }
  return h.finish();
}

Fingerprint null_fingerprint(HashKind kind, std::size_t bytes) {
  Hasher h(kind);
  for (std::size_t left = bytes; left > 0;) {
    const std::size_t n = std::min(left, kZeroChunkBytes);
    h.update(std::string_view(kZeroChunk, n));
    left -= n;
  }
  return h.finish();
}

std::uint64_t checksum64(std::string_view bytes) {
  const Sha256::Digest d = Sha256::of(bytes);
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | d[static_cast<std::size_t>(i)];
  return v;
}

}  // namespace doppel::dedup
