// The integer core the AVX-VNNI tile kernels share (gemm_r16_avxvnni.cpp for the 32-column
// layouts, gemm_q4k_r16_avxvnni.cpp for Q4_K_R16 / Q5_K_R16, gemm_q36k_r16_avxvnni.cpp for Q2_K_R16
// / Q3_K_R16 / Q6_K_R16, gemm_iq4xs_r16_avxvnni.cpp): the 256-bit forms of vnni_dot_avx512.h's dots
// on 8 rows, and the 32-column layouts' unsigned weight registers.
// Include only from translation units compiled with the AVX-VNNI kernel flags (src/CMakeLists.txt:
// *_avxvnni.cpp), so every copy is built the same way.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "backends/cpu/simd/half_passes.h"
#include "backends/cpu/simd/packed_simd.h"

namespace autoglm::cpu::simd::vnni256 {

// acc + the 8 lanes' u8 x s8 dot of w with the 4 activation bytes at p, broadcast.
inline __m256i dpbusd_bcast4(__m256i acc, __m256i w, const int8_t* p) {
  return _mm256_dpbusd_avx_epi32(acc, w, bcast4(p));
}

// The 8 rows' integer dots with a token's 32 activation bytes qs (w[c]: columns 4c..4c+3), started
// from init: two chains of 4 vpdpbusd so one token (decode) is not bound by their latency.
// Integer sums are exact, so the split changes nothing. Written out rather than as
// sub_block_pair_dots plus an add (the same sums): so, Q8_0's 4-token tile read 1-5% slower.
inline __m256i dot8x32(__m256i init, const __m256i w[8], const int8_t* qs) {
  __m256i s0 = dpbusd_bcast4(init, w[0], qs + 0);
  __m256i s1 = dpbusd_bcast4(_mm256_setzero_si256(), w[1], qs + 4);
  s0 = dpbusd_bcast4(s0, w[2], qs + 8);
  s1 = dpbusd_bcast4(s1, w[3], qs + 12);
  s0 = dpbusd_bcast4(s0, w[4], qs + 16);
  s1 = dpbusd_bcast4(s1, w[5], qs + 20);
  s0 = dpbusd_bcast4(s0, w[6], qs + 24);
  s1 = dpbusd_bcast4(s1, w[7], qs + 28);
  return _mm256_add_epi32(s0, s1);
}

// The 8 rows' dots with qs as two 16-column sub-blocks (w[0..3] and w[4..7]), started from init0
// and init1: two chains of 4 vpdpbusd, interleaved so one token is not bound by their latency.
inline void sub_block_pair_dots(__m256i init0, __m256i init1, const __m256i w[8], const int8_t* qs, __m256i& d0,
                                __m256i& d1) {
  d0 = dpbusd_bcast4(init0, w[0], qs + 0);
  d1 = dpbusd_bcast4(init1, w[4], qs + 16);
  d0 = dpbusd_bcast4(d0, w[1], qs + 4);
  d1 = dpbusd_bcast4(d1, w[5], qs + 20);
  d0 = dpbusd_bcast4(d0, w[2], qs + 8);
  d1 = dpbusd_bcast4(d1, w[6], qs + 24);
  d0 = dpbusd_bcast4(d0, w[3], qs + 12);
  d1 = dpbusd_bcast4(d1, w[7], qs + 28);
}

// The same in 8-column quarters (columns 8k..8k+7: w[2k], w[2k + 1]), each from init[k], for
// layouts whose dots fit int16 only so (Q6_K: 8 * 32 * 127, Q5_K: 8 * 31 * 127).
inline void quarter_dots(const __m256i init[4], const __m256i w[8], const int8_t* qs, __m256i d[4]) {
  for (int k = 0; k < 4; ++k) d[k] = dpbusd_bcast4(dpbusd_bcast4(init[k], w[2 * k], qs + 8 * k), w[2 * k + 1], qs + 8 * k + 4);
}

// Half h's 8 weight registers of a 32-column layout's packed block (backends/cpu/packed.h),
// unsigned: register j holds columns 4j..4j+3 of the half's 8 rows (4 bytes each). q: the block's
// quants; the 64-byte chunk c holds columns 4c..4c+3 of rows 0-7, then of rows 8-15 (Q4 / Q5 /
// IQ4_NL: low nibbles; high nibbles are columns 16 + 4c..), and the fifth bits follow 4 chunks on
// (bit j of a byte: register j's). IQ4_XS_R16's sub-blocks are stored as IQ4_NL_R16's blocks.
template <Layout L>
inline void half_weights(const uint8_t* q, int h, __m256i w[8]) {
  const uint8_t* half = q + 32 * h;
  if constexpr (L == Layout::kQ8) {
    for (int j = 0; j < 8; ++j) w[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(half + 64 * j));
  } else {
    const __m256i mask = _mm256_set1_epi8(0x0F);
    for (int c = 0; c < 4; ++c) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(half + 64 * c));
      w[c] = _mm256_and_si256(v, mask);
      w[c + 4] = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);
    }
    if constexpr (kHasFifthBits<L>) {
      const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(half + 4 * 64));
      for (int j = 0; j < 8; ++j) w[j] = _mm256_or_si256(w[j], fifth_bit(hb, j));
    }
    if constexpr (L == Layout::kIQ4NL) {  // nibble -> grid value + 128 (1..241)
      const __m256i grid = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(kIQ4Grid.u)));
      for (int j = 0; j < 8; ++j) w[j] = _mm256_shuffle_epi8(grid, w[j]);
    }
  }
}

}  // namespace autoglm::cpu::simd::vnni256
