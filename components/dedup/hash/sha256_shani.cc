// SHA-256 block compression with the x86 SHA extensions (SHA-NI), chosen at
// run time when the CPU has them: about 10x the portable code, which matters
// because the dedup client and server hash every byte twice (segments and
// blocks). The algorithm is the standard use of the instructions (Intel's
// white paper): the state kept as ABEF/CDGH, four rounds per step with
// sha256rnds2, the message schedule with sha256msg1/msg2. Checked against the
// FIPS 180-4 vectors by tests/dedup/hash_test.cc, like the portable path.

#include "components/dedup/hash/sha256.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace doppel::dedup {

extern const std::array<std::uint32_t, 64> kSha256Round;

namespace {

#if defined(__x86_64__)
__attribute__((target("sha,sse4.1,ssse3"))) void compress_shani(std::uint32_t* state,
                                                                 const std::uint8_t* data,
                                                                 std::size_t blocks) {
  const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i tmp = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state));       // DCBA
  __m128i state1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state + 4));  // HGFE
  tmp = _mm_shuffle_epi32(tmp, 0xB1);                  // CDAB
  state1 = _mm_shuffle_epi32(state1, 0x1B);            // EFGH
  __m128i state0 = _mm_alignr_epi8(tmp, state1, 8);    // ABEF
  state1 = _mm_blend_epi16(state1, tmp, 0xF0);         // CDGH
  for (; blocks > 0; --blocks, data += Sha256::kBlockBytes) {
    const __m128i abef = state0, cdgh = state1;
    __m128i m[4];
    for (int g = 0; g < 16; ++g) {
      __m128i w;
      if (g < 4) {
        w = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * g)),
                             byte_swap);
      } else {
        // W[t] from W[t-16], W[t-15], W[t-7], W[t-2], four at a time.
        w = _mm_sha256msg1_epu32(m[g % 4], m[(g + 1) % 4]);
        w = _mm_add_epi32(w, _mm_alignr_epi8(m[(g + 3) % 4], m[(g + 2) % 4], 4));
        w = _mm_sha256msg2_epu32(w, m[(g + 3) % 4]);
      }
      m[g % 4] = w;
      __m128i k = _mm_add_epi32(
          w, _mm_loadu_si128(reinterpret_cast<const __m128i*>(kSha256Round.data() + 4 * g)));
      state1 = _mm_sha256rnds2_epu32(state1, state0, k);
      k = _mm_shuffle_epi32(k, 0x0E);
      state0 = _mm_sha256rnds2_epu32(state0, state1, k);
    }
    state0 = _mm_add_epi32(state0, abef);
    state1 = _mm_add_epi32(state1, cdgh);
  }
  tmp = _mm_shuffle_epi32(state0, 0x1B);               // FEBA
  state1 = _mm_shuffle_epi32(state1, 0xB1);            // DCHG
  state0 = _mm_blend_epi16(tmp, state1, 0xF0);         // DCBA
  state1 = _mm_alignr_epi8(state1, tmp, 8);            // HGFE
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state), state0);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state + 4), state1);
}

bool cpu_has_sha() {
  static const bool has = __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1");
  return has;
}
#endif

}  // namespace

void Sha256::compress(const std::uint8_t* data, std::size_t blocks) {
#if defined(__x86_64__)
  if (cpu_has_sha()) {
    compress_shani(state_.data(), data, blocks);
    return;
  }
#endif
  for (; blocks > 0; --blocks, data += kBlockBytes) compress_portable(data);
}

}  // namespace doppel::dedup
