#pragma once
// Fingerprints: a hash kind and its digest, the identity of a segment or a
// block in RevDedup. SHA-256 is the default (collision-safe: two different
// blocks with one fingerprint would silently become one); SHA-1 is
// selectable to reproduce the paper, which uses it.

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "components/dedup/hash/sha1.h"
#include "components/dedup/hash/sha256.h"
#include "runtime/result.h"

namespace doppel::dedup {

enum class HashKind : std::uint8_t { sha256 = 1, sha1 = 2 };

std::string_view hash_kind_name(HashKind kind);  // "sha256", "sha1"
std::optional<HashKind> parse_hash_kind(std::string_view name);
std::size_t digest_bytes(HashKind kind);  // 32, 20
bool valid_hash_kind(std::uint8_t raw);

struct Fingerprint {
  static constexpr std::size_t kBytesMax = 32;

  HashKind kind = HashKind::sha256;
  // The digest; a SHA-1 digest fills the first 20 bytes and the rest are zero.
  std::array<std::uint8_t, kBytesMax> bytes{};

  // Lower-case hex of the digest: 64 characters for SHA-256, 40 for SHA-1.
  std::string hex() const;
  // The first 12 hex digits, for messages and events.
  std::string short_hex() const;
  // invalid_argument unless `hex` is exactly a digest of `kind` in hex.
  static Result<Fingerprint> from_hex(HashKind kind, std::string_view hex);

  auto operator<=>(const Fingerprint&) const = default;
};

// For unordered containers: the digest is already uniform, so its first
// eight bytes are the hash (deterministic: no per-process seed).
struct FingerprintHash {
  std::size_t operator()(const Fingerprint& fp) const;
};

// Streaming: a Sha256 or a Sha1 behind one interface.
class Hasher {
 public:
  explicit Hasher(HashKind kind) : kind_(kind) {}
  HashKind kind() const { return kind_; }
  void update(std::string_view bytes);
  // Returns the fingerprint and leaves the hasher reset.
  Fingerprint finish();

  static Fingerprint of(HashKind kind, std::string_view bytes);
  // out[i] = of(kind, pieces[i]). Neighbouring SHA-256 pieces of one length are hashed two at
  // a time (Sha256::of_pair), nearly twice as fast: give a segment's blocks in one call.
  static void of_each(HashKind kind, std::span<const std::string_view> pieces,
                      std::span<Fingerprint> out);

 private:
  HashKind kind_;
  Sha256 sha256_;
  Sha1 sha1_;
};

bool is_all_zero(std::string_view bytes);

// The fingerprint of `bytes` zero bytes: what a null block hashes to.
Fingerprint null_fingerprint(HashKind kind, std::size_t bytes);

// A segment's fingerprint: the hash of its blocks' digests in order (a hash
// list), so the bytes are hashed once, block by block, not twice. Blocks are
// 4 KiB except a short last one, whose digest covers its length, so two
// segments with one fingerprint hold the same bytes as surely as two blocks do.
Fingerprint segment_fingerprint_of(HashKind kind, std::span<const Fingerprint> block_fps);

// A checksum for our own metadata (not an identity): the first eight bytes
// of SHA-256, little-endian.
std::uint64_t checksum64(std::string_view bytes);

}  // namespace doppel::dedup
