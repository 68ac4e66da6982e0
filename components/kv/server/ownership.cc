#include "components/kv/server/ownership.h"

#include <cstring>

namespace doppel::kv {
namespace {
inline std::uint32_t rotl32(std::uint32_t x, int r) {
  return (x << r) | (x >> (32 - r));
}
}  // namespace

// Austin Appleby's MurmurHash3, x86 32-bit variant (public domain), written
// from its specification: 4-byte little-endian blocks, tail, finalizer.
std::uint32_t murmur3_x86_32(std::string_view data, std::uint32_t seed) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t len = data.size();
  const std::size_t blocks = len / 4;
  std::uint32_t h = seed;
  constexpr std::uint32_t c1 = 0xcc9e2d51, c2 = 0x1b873593;
  for (std::size_t i = 0; i < blocks; ++i) {
    std::uint32_t k;
    std::memcpy(&k, bytes + i * 4, 4);  // x86: little-endian, as the reference
    k *= c1;
    k = rotl32(k, 15);
    k *= c2;
    h ^= k;
    h = rotl32(h, 13);
    h = h * 5 + 0xe6546b64;
  }
  const unsigned char* tail = bytes + blocks * 4;
  std::uint32_t k = 0;
  switch (len & 3) {
    case 3:
      k ^= static_cast<std::uint32_t>(tail[2]) << 16;
      [[fallthrough]];
    case 2:
      k ^= static_cast<std::uint32_t>(tail[1]) << 8;
      [[fallthrough]];
    case 1:
      k ^= tail[0];
      k *= c1;
      k = rotl32(k, 15);
      k *= c2;
      h ^= k;
  }
  h ^= static_cast<std::uint32_t>(len);
  h ^= h >> 16;
  h *= 0x85ebca6b;
  h ^= h >> 13;
  h *= 0xc2b2ae35;
  h ^= h >> 16;
  return h;
}

}  // namespace doppel::kv
