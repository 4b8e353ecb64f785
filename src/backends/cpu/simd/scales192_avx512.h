// 256 six-bit values kept in 192 bytes (packed_q4k.h: unpack_scales192, the scalar reference),
// unpacked with AVX-512 for the Q4_K_R16 / Q5_K_R16 and Q3_K_R16 kernels, and its 128-value half
// for IQ4_XS_R16's. Include only from
// translation units compiled with the AVX-512 kernel flags (*_avx512.cpp).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace autoglm::cpu::simd {
namespace {

// 128 values from one 64-byte load of low nibbles (lo) and one 32-byte load of top bits (hi)
// -> u[0..127] (64-byte aligned): packed_q4k.h's unpack_scales96.
inline void unpack_scales96(const uint8_t* lo_p, const uint8_t* hi_p, uint8_t* u) {
  const __m512i m4 = _mm512_set1_epi8(0x0F), m2 = _mm512_set1_epi8(3);
  // Top bits of V[0..31] / V[32..63] sit in bits 0-1 / 2-3 of the same 32 bytes, V[64..] in 4-7.
  const __m512i shift_lo = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
  const __m512i shift_hi = _mm512_add_epi16(shift_lo, _mm512_set1_epi16(4));
  const __m512i lo = _mm512_loadu_si512(lo_p);
  const __m512i hi = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(hi_p)));
  const __m512i top0 = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(hi, shift_lo), m2), 4);
  const __m512i top1 = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(hi, shift_hi), m2), 4);
  _mm512_store_si512(u, _mm512_or_si512(_mm512_and_si512(lo, m4), top0));
  _mm512_store_si512(u + 64, _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(lo, 4), m4), top1));
}

// The 256 bytes u (64-byte aligned) of a 192-byte area: two halves as above.
inline void unpack_scales192(const uint8_t* area, uint8_t* u) {
  for (int v = 0; v < 2; ++v) unpack_scales96(area + 64 * v, area + 128 + 32 * v, u + 128 * v);
}

}  // namespace
}  // namespace autoglm::cpu::simd
