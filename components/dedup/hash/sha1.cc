#include "components/dedup/hash/sha1.h"

#include <bit>
#include <cstring>

#include "runtime/assert.h"

namespace doppel::dedup {
namespace {

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

// f_t and K_t of FIPS 180-4 §4.1.1 and §4.2.1.
std::uint32_t round_function(int t, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
  if (t < 20) return (b & c) ^ (~b & d);
  if (t < 40) return b ^ c ^ d;
  if (t < 60) return (b & c) ^ (b & d) ^ (c & d);
  return b ^ c ^ d;
}

std::uint32_t round_constant(int t) {
  if (t < 20) return 0x5a827999;
  if (t < 40) return 0x6ed9eba1;
  if (t < 60) return 0x8f1bbcdc;
  return 0xca62c1d6;
}

}  // namespace

void Sha1::reset() {
  state_ = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
  buffered_ = 0;
  total_bytes_ = 0;
}

void sha1_compress_portable(std::array<std::uint32_t, 5>& state, const std::uint8_t* block) {
  std::array<std::uint32_t, 80> w;
  for (int t = 0; t < 16; ++t) w[t] = load_be32(block + 4 * t);
  for (int t = 16; t < 80; ++t) w[t] = std::rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
  std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3], e = state[4];
  for (int t = 0; t < 80; ++t) {
    const std::uint32_t temp =
        std::rotl(a, 5) + round_function(t, b, c, d) + e + round_constant(t) + w[t];
    e = d;
    d = c;
    c = std::rotl(b, 30);
    b = a;
    a = temp;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
}

void Sha1::compress(const std::uint8_t* data, std::size_t blocks) {
  if (sha1_compress_accelerated(state_, data, blocks)) return;
  for (; blocks > 0; --blocks, data += kBlockBytes) sha1_compress_portable(state_, data);
}

void Sha1::update(std::string_view bytes) {
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

Sha1::Digest Sha1::finish() {
  const std::uint64_t bits = total_bytes_ * 8;
  DOPPEL_ASSERT(buffered_ < kBlockBytes);
  buffer_[buffered_++] = 0x80;
  if (buffered_ > kBlockBytes - 8) {
    std::memset(buffer_.data() + buffered_, 0, kBlockBytes - buffered_);
    compress(buffer_.data(), 1);
    buffered_ = 0;
  }
  std::memset(buffer_.data() + buffered_, 0, kBlockBytes - 8 - buffered_);
  for (int i = 0; i < 8; ++i) {
    buffer_[kBlockBytes - 1 - i] = static_cast<std::uint8_t>(bits >> (8 * i));
  }
  compress(buffer_.data(), 1);
  Digest out;
  for (int i = 0; i < 5; ++i) store_be32(out.data() + 4 * i, state_[i]);
  reset();
  return out;
}

Sha1::Digest Sha1::of(std::string_view bytes) {
  Sha1 h;
  h.update(bytes);
  return h.finish();
}

}  // namespace doppel::dedup
