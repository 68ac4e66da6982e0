#pragma once
// Which core owns a key: MurmurHash3_x86_32(key, seed 0) % cores, as the
// Sphinx paper, or with libmemcached's seed (0xdeadbeef times the key's
// length) when the node's per-core ports are to match a libmemcached client's
// modula distribution (KvSettings::owner_hash). Every core can compute it;
// only the owner touches the key.

#include <cstdint>
#include <string_view>

#include "components/kv/settings.h"
#include "runtime/runtime.h"

namespace doppel::kv {

std::uint32_t murmur3_x86_32(std::string_view data, std::uint32_t seed);

// libmemcached's MEMCACHED_HASH_MURMUR3 (libhashkit/murmur3.cc).
inline std::uint32_t libmemcached_murmur3(std::string_view key) {
  return murmur3_x86_32(key, 0xdeadbeefu * static_cast<std::uint32_t>(key.size()));
}

inline CoreId owner_core(std::string_view key, CoreId cores, OwnerHash hash = OwnerHash::murmur3) {
  const std::uint32_t h =
      hash == OwnerHash::murmur3 ? murmur3_x86_32(key, 0) : libmemcached_murmur3(key);
  return h % cores;
}

}  // namespace doppel::kv
