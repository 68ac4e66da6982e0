#include "components/dedup/hash/sha256.h"

#include <bit>
#include <cstring>

#include "runtime/assert.h"

namespace doppel::dedup {
namespace {}  // namespace

alignas(16) extern const std::array<std::uint32_t, 64> kSha256Round = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

namespace {
const auto& kRound = kSha256Round;

std::uint32_t load_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

void store_be32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

}  // namespace

void Sha256::reset() {
  state_ = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
            0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  buffered_ = 0;
  total_bytes_ = 0;
}

void sha256_compress_portable(std::array<std::uint32_t, 8>& state, const std::uint8_t* block) {
  std::array<std::uint32_t, 64> w;
  for (int t = 0; t < 16; ++t) w[t] = load_be32(block + 4 * t);
  for (int t = 16; t < 64; ++t) {
    const std::uint32_t s0 = std::rotr(w[t - 15], 7) ^ std::rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
    const std::uint32_t s1 = std::rotr(w[t - 2], 17) ^ std::rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1;
  }
  std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  std::uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
  for (int t = 0; t < 64; ++t) {
    const std::uint32_t s1 = std::rotr(e, 6) ^ std::rotr(e, 11) ^ std::rotr(e, 25);
    const std::uint32_t ch = (e & f) ^ (~e & g);
    const std::uint32_t t1 = h + s1 + ch + kRound[t] + w[t];
    const std::uint32_t s0 = std::rotr(a, 2) ^ std::rotr(a, 13) ^ std::rotr(a, 22);
    const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    const std::uint32_t t2 = s0 + maj;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
  state[5] += f;
  state[6] += g;
  state[7] += h;
}

void Sha256::update(std::string_view bytes) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  std::size_t n = bytes.size();
  total_bytes_ += n;
  if (buffered_ > 0) {
    const std::size_t take = std::min(n, kBlockBytes - buffered_);
    std::memcpy(buffer_.data() + buffered_, p, take);
    buffered_ += take;
    p += take;
    n -= take;
    if (buffered_ < kBlockBytes) return;
    compress(buffer_.data(), 1);
    buffered_ = 0;
  }
  if (n >= kBlockBytes) {
    compress(p, n / kBlockBytes);
    p += n / kBlockBytes * kBlockBytes;
    n %= kBlockBytes;
  }
  if (n > 0) std::memcpy(buffer_.data(), p, n);
  buffered_ = n;
}

Sha256::Digest Sha256::finish() {
  DOPPEL_ASSERT(buffered_ < kBlockBytes);
  std::array<std::uint8_t, 2 * kBlockBytes> tail;
  const std::size_t blocks =
      padded_tail(std::string_view(reinterpret_cast<const char*>(buffer_.data()), buffered_),
                  total_bytes_, tail);
  compress(tail.data(), blocks);
  const Digest out = digest();
  reset();
  return out;
}

std::size_t Sha256::padded_tail(std::string_view rest, std::uint64_t total_bytes,
                                std::array<std::uint8_t, 2 * kBlockBytes>& out) {
  DOPPEL_ASSERT(rest.size() < kBlockBytes);
  // 0x80, zeros, then the length in bits (64 bits, big-endian) ending a block.
  const std::size_t blocks = rest.size() + 1 + 8 <= kBlockBytes ? 1 : 2;
  const std::size_t bytes = blocks * kBlockBytes;
  std::memcpy(out.data(), rest.data(), rest.size());
  out[rest.size()] = 0x80;
  std::memset(out.data() + rest.size() + 1, 0, bytes - 8 - rest.size() - 1);
  const std::uint64_t bits = total_bytes * 8;
  for (int i = 0; i < 8; ++i) out[bytes - 1 - i] = static_cast<std::uint8_t>(bits >> (8 * i));
  return blocks;
}

Sha256::Digest Sha256::digest() const {
  Digest out;
  for (int i = 0; i < 8; ++i) store_be32(out.data() + 4 * i, state_[i]);
  return out;
}

std::array<Sha256::Digest, 2> Sha256::of_pair(std::string_view a, std::string_view b) {
  DOPPEL_ASSERT(a.size() == b.size());
  Sha256 ha, hb;
  const std::size_t full = a.size() / kBlockBytes;
  compress_pair(ha, reinterpret_cast<const std::uint8_t*>(a.data()), hb,
                reinterpret_cast<const std::uint8_t*>(b.data()), full);
  std::array<std::uint8_t, 2 * kBlockBytes> tail_a, tail_b;
  const std::size_t tail_blocks = padded_tail(a.substr(full * kBlockBytes), a.size(), tail_a);
  padded_tail(b.substr(full * kBlockBytes), b.size(), tail_b);
  compress_pair(ha, tail_a.data(), hb, tail_b.data(), tail_blocks);
  return {ha.digest(), hb.digest()};
}

Sha256::Digest Sha256::of(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.finish();
}

}  // namespace doppel::dedup
