// The head of a packed Q4_K_R16 / Q5_K_R16 super-block as the AVX-512 kernels read it (VNNI:
// gemm_q4k_r16_avx512.cpp, AMX: gemm_q4k_r16_amx.cpp): the 16 rows' d and dmin, the scales and
// mins unpacked (packed_q4k.h), and the mins term of a token. Include only from translation units
// compiled with the AVX-512 kernel flags.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "backends/cpu/packed_q4k.h"
#include "backends/cpu/simd/scales192_avx512.h"

namespace autoglm::cpu::simd {

struct Q4KHead {
  __m512 dw, dm;
  alignas(64) uint8_t u[256];  // u[16j + i]: scale of sub-block j of row i; then the min pairs
  __m512i mins[4];             // min pair p of the 16 rows, as int16 (lane i: row i)

  explicit Q4KHead(const uint8_t* sb) {
    dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb)));
    dm = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb + 32)));
    unpack_scales192(sb + kQ4KR16ScalesOff, u);
    for (int p = 0; p < 4; ++p) {
      mins[p] = _mm512_cvtepu8_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(u + 128 + 32 * p)));
    }
  }
  // Sub-block j's scales of the 16 rows, as int32.
  __m512i scales(int j) const { return _mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(u + 16 * j))); }
  // The 16 rows' exact sum_j m_j * ysum_j for a token's sub-block sum pairs ms
  // (PackedActivations::msum): 4 vpdpwssd.
  __m512i mins_dot(const int32_t* ms) const {
    __m512i im = _mm512_dpwssd_epi32(_mm512_setzero_si512(), mins[0], _mm512_set1_epi32(ms[0]));
    im = _mm512_dpwssd_epi32(im, mins[1], _mm512_set1_epi32(ms[1]));
    im = _mm512_dpwssd_epi32(im, mins[2], _mm512_set1_epi32(ms[2]));
    return _mm512_dpwssd_epi32(im, mins[3], _mm512_set1_epi32(ms[3]));
  }
};

}  // namespace autoglm::cpu::simd
