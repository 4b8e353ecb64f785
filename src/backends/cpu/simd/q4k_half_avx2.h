// Half h (rows 8h..8h+7) of a packed Q4_K_R16 / Q5_K_R16 super-block as the 256-bit kernels read
// it (AVX2: gemm_q4k_r16_avx2.cpp, AVX-VNNI: gemm_q4k_r16_avxvnni.cpp): the 8 rows' d and dmin,
// the scales and mins unpacked (packed_q4k.h), a sub-block's scales and a token's mins term; and
// the tile both kernels run, which differ only in how they form the sub-blocks' integer sums.
// Include only from translation units compiled with the AVX2 kernel flags (*_avx2.cpp,
// *_avxvnni.cpp); the anonymous namespace gives each its own copy.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "backends/cpu/packed.h"
#include "backends/cpu/packed_q4k.h"
#include "backends/cpu/simd/half_passes.h"
#include "backends/cpu/simd/scales192_avx2.h"

namespace autoglm::cpu::simd {
namespace {

struct Q4KHalf {
  int h;
  __m256 dw, dm;
  alignas(32) uint8_t u[256];  // u[16j + i]: scale of sub-block j of row i; then the min pairs

  Q4KHalf(const uint8_t* sb, int half) : h(half) {
    dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sb + 16 * h)));
    dm = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sb + 32 + 16 * h)));
    unpack_scales192(sb + kQ4KR16ScalesOff, u);
  }
  // Sub-block j's scales of the 8 rows, one per 32-bit lane.
  __m256i scales(int j) const {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(u + 16 * j + 8 * h)));
  }
  // acc minus a token's mins term, as gemm_q4_K_r16_reference: the 8 rows' exact
  // sum_j m_j * ysum_j for its sub-block sum pairs ms (PackedActivations::msum), times dmin * d.
  __m256 minus_mins(const int32_t* ms, float d, __m256 acc) const {
    __m256i im = _mm256_setzero_si256();
    for (int p = 0; p < 4; ++p) {
      const __m256i mins = _mm256_cvtepu8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(u + 128 + 32 * p + 16 * h)));
      im = _mm256_add_epi32(im, _mm256_madd_epi16(mins, _mm256_set1_epi32(ms[p])));
    }
    return _mm256_fnmadd_ps(_mm256_cvtepi32_ps(im), _mm256_mul_ps(dm, _mm256_set1_ps(d)), acc);
  }
};

// One tile of NT tokens over a 16-row group (simd/half_passes.h: two halves of 8 rows, for
// decode's one or two tokens alternating every super-block). Per super-block half: the mins term,
// then isum[t] = sum_j sc_j * dot_j of each token, exact in int32, from
// sub_blocks(sb, s, h, half, isum) (isum starts at 0), then one fma: gemm_q4_K_r16_reference's
// order. kFive: Q5_K_R16, whose weights ask into L2 as the 5-bit 32-column layouts do.
template <bool kFive, int NT, bool kAlsoFar, class SubBlocks>
inline void q4k_half_tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                          int64_t ldy, SubBlocks&& sub_blocks) {
  constexpr HalfPassShape kShape{kFive ? kQ5KR16Bytes : kQ4KR16Bytes, 1, 2, 2, kFive ? _MM_HINT_T1 : _MM_HINT_T0};
  half_pass_tile<kShape, NT, kAlsoFar>(nb, wgroup, y, ldy, [&](const uint8_t* sb, int64_t s, int h, __m256 acc[NT]) {
    const Q4KHalf half(sb, h);
    for (int t = 0; t < NT; ++t) {
      const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
      acc[t] = half.minus_mins(act.msum.data() + si * 4, act.d[si], acc[t]);
    }
    __m256i isum[NT];
    for (int t = 0; t < NT; ++t) isum[t] = _mm256_setzero_si256();
    sub_blocks(sb, s, h, half, isum);
    for (int t = 0; t < NT; ++t) {
      const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(half.dw, _mm256_set1_ps(act.d[si])), acc[t]);
    }
  });
}

}  // namespace
}  // namespace autoglm::cpu::simd
