#pragma once
// The store's key hash: MurmurHash64A (Austin Appleby, public domain),
// seeded. It is deliberately not the MurmurHash3 that picks a key's core: on
// one core every key shares `hash % cores`, and the index must not inherit
// that pattern. The seed comes from the store's options (never from the
// process), so a run is the same every time; give each store its own seed to
// make colliding keys hard to guess from outside.

#include <cstdint>
#include <cstring>
#include <string_view>

namespace doppel::kv {

inline std::uint64_t hash_key(std::string_view key, std::uint64_t seed) {
  constexpr std::uint64_t m = 0xc6a4a7935bd1e995ull;
  constexpr int r = 47;
  const auto length = static_cast<std::uint64_t>(key.size());
  std::uint64_t h = seed ^ (length * m);
  const char* p = key.data();
  const char* const words_end = p + (key.size() / 8) * 8;
  for (; p != words_end; p += 8) {
    std::uint64_t k;
    std::memcpy(&k, p, 8);
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  const std::size_t tail = key.size() & 7;
  if (tail != 0) {
    std::uint64_t k = 0;
    for (std::size_t i = 0; i < tail; ++i) {
      k |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
    }
    h ^= k;
    h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

}  // namespace doppel::kv
