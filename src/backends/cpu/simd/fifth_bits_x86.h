// Q5_0's fifth bits spread to bytes, for the x86 kernels (gemm_r16_avx2.cpp, kernels_x86.inc.h).
// In an unnamed namespace: each includer is compiled with its own ISA's flags, so each keeps its
// own copy (an inline function shared across them could be linked from the wrong ISA's object).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace autoglm::cpu::simd {
namespace {

// Byte i of the result is 16 where bit i of `bits` is set, else 0.
inline __m256i fifth_bits(uint32_t bits) {
  const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3,
                                          3, 3, 3, 3, 3, 3);
  const __m256i select = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  const __m256i v = _mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int32_t>(bits)), spread), select);
  return _mm256_and_si256(_mm256_cmpeq_epi8(v, select), _mm256_set1_epi8(16));
}

}  // namespace
}  // namespace autoglm::cpu::simd
