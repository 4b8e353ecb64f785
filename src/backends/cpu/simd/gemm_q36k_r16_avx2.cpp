// AVX2 kernels for Q6_K_R16, Q3_K_R16 and Q2_K_R16 (backends/cpu/packed_q6k.h, packed_q3k.h,
// packed_q2k.h), for CPUs without AVX-512: the 16-column-sub-block K-quant layouts, which differ
// in how a unit's weights and scales are read and in their offset (Q2_K: none, mins instead). As the Q4_K_R16 AVX2 kernel: one 256-bit register holds 4
// columns of 8 rows, a row group is worked as two halves of 8 rows (simd/half_passes.h), and
// for decode's one or two tokens the halves alternate every super-block.
// Per 16-column sub-block: 4 vpmaddubsw of the unsigned weights against broadcast 4-byte groups
// of the Q8_K activations. Q6_K's weights (0..63) give pairs of at most 2 * 63 * 127 = 16002, so
// two add up in int16 (<= 32004); Q3_K's (0..7) pairs of at most 1778, so all four do. Then a
// vpmaddwd against the rows' scale, held twice per 32-bit lane, widens and scales them: exact in
// int32. The offset (-32 for Q6_K, -4 for Q3_K) is one vpmaddwd per unit of the rows' scale
// pairs against the token's pair of sub-block sums, times the offset. Q2_K's 2-bit weights add
// up as Q3_K's; its mins term is 8 vpmaddwd of the rows' min pairs against the token's pairs of
// sub-block sums. Per super-block one fma (Q2_K: mins first), as the scalar references do, so
// results are bit-identical to them.
#include <immintrin.h>

#include "backends/cpu/simd/q36k_half_avx2.h"
#include "backends/cpu/simd/simd.h"
#include "backends/cpu/simd/token_tiles.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

constexpr int kTile = 4;  // tokens per register tile

template <class K, int NT, bool kAlsoFar>
inline void tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                 int64_t ldy) {
  const auto* a0 = reinterpret_cast<const quant::block_q8_K*>(act.q.data()) + t0 * act.nb;
  const size_t astride = static_cast<size_t>(act.nb);
  const __m256i low16 = _mm256_set1_epi32(0xFFFF);
  q36k_half_tile<K, NT, kAlsoFar>(nb, wgroup, act, t0, y, ldy, [&](const uint8_t* sb, int64_t s, int j, int h, __m256i sa,
                                                                   __m256i sbb, __m256i isum[NT], __m256i ioff[NT]) __attribute__((always_inline)) {
    const __m256i sc_a = _mm256_or_si256(_mm256_and_si256(sa, low16), _mm256_slli_epi32(sa, 16));  // (sa, sa)
    const __m256i sc_b = _mm256_or_si256(_mm256_and_si256(sbb, low16), _mm256_slli_epi32(sbb, 16));
    const __m256i sc_ab = _mm256_or_si256(_mm256_and_si256(sa, low16), _mm256_slli_epi32(sbb, 16));  // (sa, sb)
    __m256i w[8];
    K::weights(sb, j, h, w);
    for (int t = 0; t < NT; ++t) {
      const auto& a = a0[static_cast<size_t>(t) * astride + static_cast<size_t>(s)];
      const int8_t* qs = a.qs + 32 * j;
      __m256i p[4];  // column groups 2k, 2k + 1
      for (int k = 0; k < 4; ++k) {
        p[k] = _mm256_add_epi16(_mm256_maddubs_epi16(w[2 * k], bcast4(qs + 8 * k)),
                                _mm256_maddubs_epi16(w[2 * k + 1], bcast4(qs + 8 * k + 4)));
      }
      if constexpr (K::kOneWiden) {
        isum[t] = _mm256_add_epi32(isum[t], _mm256_add_epi32(_mm256_madd_epi16(_mm256_add_epi16(p[0], p[1]), sc_a),
                                                             _mm256_madd_epi16(_mm256_add_epi16(p[2], p[3]), sc_b)));
      } else {
        isum[t] = _mm256_add_epi32(isum[t], _mm256_add_epi32(_mm256_madd_epi16(p[0], sc_a), _mm256_madd_epi16(p[1], sc_a)));
        isum[t] = _mm256_add_epi32(isum[t], _mm256_add_epi32(_mm256_madd_epi16(p[2], sc_b), _mm256_madd_epi16(p[3], sc_b)));
      }
      if constexpr (K::kHasOffset) ioff[t] = _mm256_add_epi32(ioff[t], _mm256_madd_epi16(sc_ab, bcast4(a.bsums + 2 * j)));
    }
  });
}

// The far-prefetch decode tiles out of line, as gemm_r16_avxvnni.cpp's decode_far (see there).
template <class K>
__attribute__((noinline)) void decode_far(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                                          int64_t nt, float* y, int64_t ldy) {
  run_token_tile<2>(nt, 0, [&](auto n_tok, int64_t) {
    tile<K, decltype(n_tok)::value, true>(nb, wgroup, act, t0, y, ldy);
  });
}

template <class K>
void gemm(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt, float* y,
          int64_t ldy) {
  // A decode step's call (1-2 tokens) where the far prefetch is chosen and pays takes its own
  // tiles (decode_far).
  if constexpr (K::kAlsoFarHelps) {
    static const bool far = decode_prefetch_far_l2();
    if (far && nt <= 2) {
      decode_far<K>(nb, wgroup, act, t0, nt, y, ldy);
      return;
    }
  }
  for_token_tiles<kTile>(nt, [&](auto n_tok, int64_t t) {
    tile<K, decltype(n_tok)::value, false>(nb, wgroup, act, t0 + t, y + t * ldy, ldy);
  });
}

}  // namespace

void gemm_q6_K_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy) {
  gemm<Q6K>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q2_K_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy) {
  gemm<Q2K>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q3_K_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy) {
  gemm<Q3K>(nb, wgroup, act, t0, nt, y, ldy);
}

}  // namespace autoglm::cpu::simd
