// 256 six-bit values kept in 192 bytes (packed_q4k.h: unpack_scales192, the scalar reference),
// unpacked with AVX2 for the Q4_K_R16 / Q5_K_R16 and Q3_K_R16 kernels. Include only from
// translation units compiled with the AVX2 kernel flags (*_avx2.cpp).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace autoglm::cpu::simd {
namespace {

// Per half v of u: two 32-byte loads of low nibbles and one of top bits -> 128 bytes of u
// (32-byte aligned).
inline void unpack_scales192(const uint8_t* area, uint8_t* u) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
  for (int v = 0; v < 2; ++v) {
    const uint8_t* lo = area + 64 * v;
    const __m256i lo0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo));
    const __m256i lo1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo + 32));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(area + 128 + 32 * v));
    auto top = [&](int shift) {
      return _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(hi, _mm_cvtsi32_si128(shift)), m2), 4);
    };
    auto* out = reinterpret_cast<__m256i*>(u + 128 * v);
    _mm256_store_si256(out, _mm256_or_si256(_mm256_and_si256(lo0, m4), top(0)));
    _mm256_store_si256(out + 1, _mm256_or_si256(_mm256_and_si256(lo1, m4), top(2)));
    _mm256_store_si256(out + 2, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lo0, 4), m4), top(4)));
    _mm256_store_si256(out + 3, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lo1, 4), m4), top(6)));
  }
}

}  // namespace
}  // namespace autoglm::cpu::simd
