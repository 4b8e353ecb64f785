// 256 six-bit values kept in 192 bytes (packed_q4k.h: unpack_scales192, the scalar reference),
// unpacked with AVX2 for the Q4_K_R16 / Q5_K_R16 and Q3_K_R16 kernels, and its 128-value half for
// IQ4_XS_R16's. Include only from
// translation units compiled with the AVX2 kernel flags (*_avx2.cpp).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace autoglm::cpu::simd {
namespace {

// 128 values from two 32-byte loads of low nibbles (lo) and one of top bits (hi) -> u[0..127]
// (32-byte aligned): packed_q4k.h's unpack_scales96.
inline void unpack_scales96(const uint8_t* lo, const uint8_t* hi_p, uint8_t* u) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
  const __m256i lo0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo));
  const __m256i lo1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo + 32));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(hi_p));
  auto top = [&](int shift) {
    return _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(hi, _mm_cvtsi32_si128(shift)), m2), 4);
  };
  auto* out = reinterpret_cast<__m256i*>(u);
  _mm256_store_si256(out, _mm256_or_si256(_mm256_and_si256(lo0, m4), top(0)));
  _mm256_store_si256(out + 1, _mm256_or_si256(_mm256_and_si256(lo1, m4), top(2)));
  _mm256_store_si256(out + 2, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lo0, 4), m4), top(4)));
  _mm256_store_si256(out + 3, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lo1, 4), m4), top(6)));
}

// The 256 bytes u (32-byte aligned) of a 192-byte area: two halves as above.
inline void unpack_scales192(const uint8_t* area, uint8_t* u) {
  for (int v = 0; v < 2; ++v) unpack_scales96(area + 64 * v, area + 128 + 32 * v, u + 128 * v);
}

}  // namespace
}  // namespace autoglm::cpu::simd
