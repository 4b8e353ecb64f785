// Q6_K_R16's unsigned weights (u = q + 32, 0..63) of one 32-column unit j (0..7) of a packed
// super-block, in 8 registers (register C: columns 32j + 4C..4C+3 of the 16 rows; 0-3 are
// sub-block 2j, 4-7 sub-block 2j + 1): what the VNNI tile (gemm_q36k_r16_avx512.cpp) multiplies
// and the AMX tile (gemm_q6k_r16_amx.cpp) stores as tiles. Column group C of unit j is its
// nibble (the high ones for odd j) OR'ed with the top 2 bits of field f = 2 (j % 2) + C / 4,
// moved to bits 4-5 (layout: packed_q6k.h). Include only from translation units compiled with
// the AVX-512 kernel flags.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "backends/cpu/packed_q6k.h"

namespace autoglm::cpu::simd {

namespace q6k_detail {
template <int C, bool kHigh>
inline __m512i weights(const uint8_t* low, const uint8_t* top) {
  const __m512i v = _mm512_loadu_si512(low + 64 * C);
  const __m512i t = _mm512_loadu_si512(top + 64 * (C % 4));
  constexpr int f = 2 * (kHigh ? 1 : 0) + C / 4;
  __m512i tb;
  if constexpr (f == 0) tb = _mm512_slli_epi16(t, 4);
  if constexpr (f == 1) tb = _mm512_slli_epi16(t, 2);
  if constexpr (f == 2) tb = t;
  if constexpr (f == 3) tb = _mm512_srli_epi16(t, 2);
  tb = _mm512_and_si512(tb, _mm512_set1_epi8(0x30));
  // (nibbles & 0x0F) | top bits
  return _mm512_ternarylogic_epi32(kHigh ? _mm512_srli_epi16(v, 4) : v, tb, _mm512_set1_epi8(0x0F), 0xEC);
}

template <bool kHigh>
inline void unit_half(const uint8_t* low, const uint8_t* top, __m512i w[8]) {
  w[0] = weights<0, kHigh>(low, top);
  w[1] = weights<1, kHigh>(low, top);
  w[2] = weights<2, kHigh>(low, top);
  w[3] = weights<3, kHigh>(low, top);
  w[4] = weights<4, kHigh>(low, top);
  w[5] = weights<5, kHigh>(low, top);
  w[6] = weights<6, kHigh>(low, top);
  w[7] = weights<7, kHigh>(low, top);
}
}  // namespace q6k_detail

inline void q6k_unit(const uint8_t* sb, int j, __m512i w[8]) {
  const uint8_t* low = sb + kQ6KR16LowOff + 512 * (j / 2);
  const uint8_t* top = sb + kQ6KR16HighOff + 256 * (j / 2);
  if (j % 2) {
    q6k_detail::unit_half<true>(low, top, w);
  } else {
    q6k_detail::unit_half<false>(low, top, w);
  }
}

}  // namespace autoglm::cpu::simd
