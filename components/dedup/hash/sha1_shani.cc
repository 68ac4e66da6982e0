// SHA-1 block compression with the x86 SHA extensions, chosen at run time
// when the CPU has them: the simulator hashes every image the dedup
// scenarios back up, and a seed on SHA-1 ran 4x slower than one on SHA-256
// (which has its own, sha256_shani.cc) with the portable rounds.
//
// The schedule, derived from FIPS 180-4 §6.1.2 rather than copied: the words
// go four at a time, W[4g..4g+3] in lanes 3..0 of one register, and group g
// (g >= 4) is msg2(msg1(W[g-4], W[g-3]) ^ W[g-2], W[g-1]). Four registers
// hold the groups in flight, so step k (rounds 4k..4k+3) starts group k+3
// with msg1, adds group k+2's xor and finishes group k+1 with msg2. E for
// the next step is the A of this one, rotated by sha1nexte. Checked against
// the FIPS vectors and the portable code by tests/dedup/hash_test.cc.
#include <utility>

#include "components/dedup/hash/sha1.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace doppel::dedup {

#if defined(__x86_64__)
namespace {

#define DOPPEL_SHANI __attribute__((target("sha,sse4.1,ssse3"), always_inline)) inline

struct Sha1Registers {
  __m128i abcd;
  __m128i e;       // this step's E plus its message words (lane 3 first)
  __m128i next_e;  // A before this step's rounds: the next step's E
  __m128i w[4];    // message groups in flight, group g in w[g % 4]
};

template <int K>
DOPPEL_SHANI void step(Sha1Registers& r) {
  if constexpr (K == 0) {
    r.e = _mm_add_epi32(r.e, r.w[0]);
  } else {
    r.e = _mm_sha1nexte_epu32(r.next_e, r.w[K % 4]);
  }
  r.next_e = r.abcd;
  // The function and constant of rounds 4K..4K+3: one per twenty rounds.
  r.abcd = _mm_sha1rnds4_epu32(r.abcd, r.e, K / 5);
  if constexpr (K >= 3 && K <= 18)
    r.w[(K + 1) % 4] = _mm_sha1msg2_epu32(r.w[(K + 1) % 4], r.w[K % 4]);
  if constexpr (K >= 2 && K <= 17) r.w[(K + 2) % 4] = _mm_xor_si128(r.w[(K + 2) % 4], r.w[K % 4]);
  if constexpr (K >= 1 && K <= 16)
    r.w[(K + 3) % 4] = _mm_sha1msg1_epu32(r.w[(K + 3) % 4], r.w[K % 4]);
}

template <int... K>
DOPPEL_SHANI void all_steps(Sha1Registers& r, std::integer_sequence<int, K...>) {
  (step<K>(r), ...);
}

__attribute__((target("sha,sse4.1,ssse3"))) void compress_shani(std::uint32_t* state,
                                                                const std::uint8_t* data,
                                                                std::size_t blocks) {
  // Big-endian words, word 0 in the top lane.
  const __m128i reverse = _mm_set_epi64x(0x0001020304050607LL, 0x08090a0b0c0d0e0fLL);
  __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(state)), 0x1B);
  __m128i e = _mm_set_epi32(static_cast<int>(state[4]), 0, 0, 0);
  for (; blocks > 0; --blocks, data += Sha1::kBlockBytes) {
    Sha1Registers r;
    r.abcd = abcd;
    r.e = e;
    r.next_e = _mm_setzero_si128();
    for (int i = 0; i < 4; ++i) {
      r.w[i] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * i)),
                                reverse);
    }
    all_steps(r, std::make_integer_sequence<int, 20>{});
    // E after the last rounds is the A before them, rotated; then the feed-forward.
    e = _mm_sha1nexte_epu32(r.next_e, e);
    abcd = _mm_add_epi32(r.abcd, abcd);
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state), _mm_shuffle_epi32(abcd, 0x1B));
  state[4] = static_cast<std::uint32_t>(_mm_extract_epi32(e, 3));
}

bool cpu_has_sha() {
  static const bool has = __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1");
  return has;
}

}  // namespace
#endif

bool sha1_compress_accelerated(std::array<std::uint32_t, 5>& state, const std::uint8_t* data,
                               std::size_t blocks) {
#if defined(__x86_64__)
  if (cpu_has_sha()) {
    compress_shani(state.data(), data, blocks);
    return true;
  }
#endif
  (void)state, (void)data, (void)blocks;
  return false;
}

}  // namespace doppel::dedup
