#pragma once
// Which core owns a key: MurmurHash3_x86_32(key, seed 0) % cores, as the
// Sphinx paper. Every core can compute it; only the owner touches the key.

#include <cstdint>
#include <string_view>

#include "runtime/runtime.h"

namespace doppel::kv {

std::uint32_t murmur3_x86_32(std::string_view data, std::uint32_t seed);

inline CoreId owner_core(std::string_view key, CoreId cores) {
  return murmur3_x86_32(key, 0) % cores;
}

}  // namespace doppel::kv
