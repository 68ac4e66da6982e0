#pragma once
// SHA-1 (FIPS 180-4 §6.1), streaming. Only to reproduce the paper, which
// fingerprints with SHA-1; SHA-1 has known collisions, so the store defaults
// to SHA-256 (a collision there would silently merge two different blocks).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace doppel::dedup {

class Sha1 {
 public:
  static constexpr std::size_t kDigestBytes = 20;
  static constexpr std::size_t kBlockBytes = 64;
  using Digest = std::array<std::uint8_t, kDigestBytes>;

  Sha1() { reset(); }
  void reset();
  void update(std::string_view bytes);
  // Pads, returns the digest and leaves the hasher reset.
  Digest finish();

  static Digest of(std::string_view bytes);

 private:
  // `blocks` consecutive 64-byte blocks: with the CPU's SHA extensions when it has them
  // (sha1_shani.cc), else sha1_compress_portable.
  void compress(const std::uint8_t* data, std::size_t blocks);

  std::array<std::uint32_t, 5> state_;
  std::array<std::uint8_t, kBlockBytes> buffer_;
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

// The two ways to compress blocks into a state, apart so that the tests can hold them to one
// another on a CPU with the extensions. The accelerated one returns false (and does nothing)
// where the CPU lacks them.
void sha1_compress_portable(std::array<std::uint32_t, 5>& state, const std::uint8_t* block);
bool sha1_compress_accelerated(std::array<std::uint32_t, 5>& state, const std::uint8_t* data,
                               std::size_t blocks);

}  // namespace doppel::dedup
