#pragma once
// SHA-256 (FIPS 180-4 §6.2), streaming. Our own, so that components need no
// crypto library; tested against the FIPS/NIST vectors.
//
//   Sha256 h;
//   h.update(part1);
//   h.update(part2);
//   const Sha256::Digest d = h.finish();

#include <array>
#include <cstdint>
#include <string_view>

namespace doppel::dedup {

class Sha256 {
 public:
  static constexpr std::size_t kDigestBytes = 32;
  static constexpr std::size_t kBlockBytes = 64;
  using Digest = std::array<std::uint8_t, kDigestBytes>;

  Sha256() { reset(); }
  void reset();
  void update(std::string_view bytes);
  // Pads, returns the digest and leaves the hasher reset.
  Digest finish();

  static Digest of(std::string_view bytes);
  // The digests of two messages of one length, hashed in lockstep: with the CPU's SHA
  // extensions nearly twice as fast as one after the other (the rounds of one message wait on
  // each other; the other message's fill the gaps).
  static std::array<Digest, 2> of_pair(std::string_view a, std::string_view b);

 private:
  // `blocks` consecutive 64-byte blocks: with the CPU's SHA extensions
  // when it has them (sha256_shani.cc), else portable code.
  void compress(const std::uint8_t* data, std::size_t blocks);
  // compress() of `blocks` blocks of each of two messages.
  static void compress_pair(Sha256& a, const std::uint8_t* a_data, Sha256& b,
                            const std::uint8_t* b_data, std::size_t blocks);
  // The last partial block of a message and the padding: one or two blocks into `out`.
  static std::size_t padded_tail(std::string_view rest, std::uint64_t total_bytes,
                                 std::array<std::uint8_t, 2 * kBlockBytes>& out);
  Digest digest() const;

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, kBlockBytes> buffer_;
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

// The two ways to compress blocks into a state, apart so that the tests can hold them to one
// another on a CPU with the extensions. The accelerated one returns false (and does nothing)
// where the CPU lacks them.
void sha256_compress_portable(std::array<std::uint32_t, 8>& state, const std::uint8_t* block);
bool sha256_compress_accelerated(std::array<std::uint32_t, 8>& state, const std::uint8_t* data,
                                 std::size_t blocks);

}  // namespace doppel::dedup
