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
#define DOPPEL_SHANI __attribute__((target("sha,sse4.1,ssse3"), always_inline)) inline

// The state as the instructions want it: ABEF and CDGH.
struct ShaState {
  __m128i abef, cdgh;
};

DOPPEL_SHANI ShaState load_state(const std::uint32_t* state) {
  __m128i tmp = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state));       // DCBA
  __m128i efgh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state + 4));  // HGFE
  tmp = _mm_shuffle_epi32(tmp, 0xB1);                                           // CDAB
  efgh = _mm_shuffle_epi32(efgh, 0x1B);                                         // EFGH
  return {_mm_alignr_epi8(tmp, efgh, 8), _mm_blend_epi16(efgh, tmp, 0xF0)};
}

DOPPEL_SHANI void store_state(const ShaState& s, std::uint32_t* state) {
  const __m128i feba = _mm_shuffle_epi32(s.abef, 0x1B);
  const __m128i dchg = _mm_shuffle_epi32(s.cdgh, 0xB1);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state), _mm_blend_epi16(feba, dchg, 0xF0));   // DCBA
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state + 4), _mm_alignr_epi8(dchg, feba, 8));  // HGFE
}

// Message words 4g..4g+3 of the block, from the data or the schedule.
DOPPEL_SHANI __m128i schedule(__m128i* m, int g, const std::uint8_t* data) {
  const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
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
  return w;
}

// Four rounds.
DOPPEL_SHANI void rounds(ShaState& s, __m128i w, int g) {
  __m128i k = _mm_add_epi32(
      w, _mm_loadu_si128(reinterpret_cast<const __m128i*>(kSha256Round.data() + 4 * g)));
  s.cdgh = _mm_sha256rnds2_epu32(s.cdgh, s.abef, k);
  k = _mm_shuffle_epi32(k, 0x0E);
  s.abef = _mm_sha256rnds2_epu32(s.abef, s.cdgh, k);
}

__attribute__((target("sha,sse4.1,ssse3"))) void compress_shani(std::uint32_t* state,
                                                                const std::uint8_t* data,
                                                                std::size_t blocks) {
  ShaState s = load_state(state);
  for (; blocks > 0; --blocks, data += Sha256::kBlockBytes) {
    const ShaState before = s;
    __m128i m[4];
    for (int g = 0; g < 16; ++g) rounds(s, schedule(m, g, data), g);
    s.abef = _mm_add_epi32(s.abef, before.abef);
    s.cdgh = _mm_add_epi32(s.cdgh, before.cdgh);
  }
  store_state(s, state);
}

// Two independent messages in lockstep. A round's instruction waits for the one before it in
// the same message, so one message leaves the SHA unit idle between rounds; a second fills it.
__attribute__((target("sha,sse4.1,ssse3"))) void compress_shani_x2(std::uint32_t* state_a,
                                                                   const std::uint8_t* a,
                                                                   std::uint32_t* state_b,
                                                                   const std::uint8_t* b,
                                                                   std::size_t blocks) {
  ShaState sa = load_state(state_a), sb = load_state(state_b);
  for (; blocks > 0; --blocks, a += Sha256::kBlockBytes, b += Sha256::kBlockBytes) {
    const ShaState before_a = sa, before_b = sb;
    __m128i ma[4], mb[4];
    for (int g = 0; g < 16; ++g) {
      const __m128i wa = schedule(ma, g, a);
      const __m128i wb = schedule(mb, g, b);
      rounds(sa, wa, g);
      rounds(sb, wb, g);
    }
    sa.abef = _mm_add_epi32(sa.abef, before_a.abef);
    sa.cdgh = _mm_add_epi32(sa.cdgh, before_a.cdgh);
    sb.abef = _mm_add_epi32(sb.abef, before_b.abef);
    sb.cdgh = _mm_add_epi32(sb.cdgh, before_b.cdgh);
  }
  store_state(sa, state_a);
  store_state(sb, state_b);
}

bool cpu_has_sha() {
  static const bool has = __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1");
  return has;
}
#endif

}  // namespace

bool sha256_compress_accelerated(std::array<std::uint32_t, 8>& state, const std::uint8_t* data,
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

void Sha256::compress(const std::uint8_t* data, std::size_t blocks) {
  if (sha256_compress_accelerated(state_, data, blocks)) return;
  for (; blocks > 0; --blocks, data += kBlockBytes) sha256_compress_portable(state_, data);
}

void Sha256::compress_pair(Sha256& a, const std::uint8_t* a_data, Sha256& b,
                           const std::uint8_t* b_data, std::size_t blocks) {
#if defined(__x86_64__)
  if (cpu_has_sha()) {
    compress_shani_x2(a.state_.data(), a_data, b.state_.data(), b_data, blocks);
    return;
  }
#endif
  a.compress(a_data, blocks);
  b.compress(b_data, blocks);
}

}  // namespace doppel::dedup
