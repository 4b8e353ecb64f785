// The 16 rows' unsigned weights of one packed block of the 32-column layouts, in 8 registers
// (register c: columns 4c..4c+3, 4 bytes per row): what the VNNI tiles (gemm_r16_avx512.cpp)
// multiply and the AMX tiles (gemm_r16_amx.cpp) store as a tile. Include only from translation
// units compiled with the AVX-512 kernel flags.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "backends/cpu/simd/packed_simd.h"
#include "backends/cpu/simd/vnni_dot_avx512.h"

namespace autoglm::cpu::simd {

// Loads the 8 column-group registers of one packed block (unsigned weights).
template <Layout L>
inline void load_weights(const uint8_t* q, __m512i w[8]) {
  if constexpr (L == Layout::kQ8) {
    for (int j = 0; j < 8; ++j) w[j] = _mm512_loadu_si512(q + 64 * j);
  } else {
    const __m512i mask = _mm512_set1_epi8(0x0F);
    for (int c = 0; c < 4; ++c) {
      const __m512i v = _mm512_loadu_si512(q + 64 * c);
      w[c] = _mm512_and_si512(v, mask);                           // columns 4c..4c+3
      w[c + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), mask);  // columns 16+4c..
    }
    if constexpr (kHasFifthBits<L>) {  // the fifth bits: register j's in bit j of each byte
      const __m512i h = _mm512_loadu_si512(q + 4 * 64);
      vnni::or_fifth_bits(w, h);
    }
    if constexpr (L == Layout::kIQ4NL) {  // nibble -> grid value + 128 (1..241), one vpshufb each
      const __m512i grid = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(kIQ4Grid.u)));
      for (int j = 0; j < 8; ++j) w[j] = _mm512_shuffle_epi8(grid, w[j]);
    }
  }
}

// Q4_0 / Q4_1's 8 registers for vnni::dot16x32_high_in_place: the high nibbles masked in place
// (16x their value), one op per register where load_weights takes two.
inline void load_weights_high_in_place(const uint8_t* q, __m512i w[8]) {
  const __m512i lo = _mm512_set1_epi8(0x0F), hi = _mm512_set1_epi8(static_cast<char>(0xF0));
  for (int c = 0; c < 4; ++c) {
    const __m512i v = _mm512_loadu_si512(q + 64 * c);
    w[c] = _mm512_and_si512(v, lo);
    w[c + 4] = _mm512_and_si512(v, hi);
  }
}

}  // namespace autoglm::cpu::simd
