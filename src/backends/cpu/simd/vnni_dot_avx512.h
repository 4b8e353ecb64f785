// The integer core the AVX-512 VNNI tile kernels share (gemm_r16_avx512.cpp for Q8_0/Q4_0_R16,
// gemm_q4k_r16_avx512.cpp for Q4_K_R16). Include only from translation units compiled with the
// AVX-512 kernel flags (src/CMakeFiles: *_avx512.cpp), so every copy is built the same way.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace autoglm::cpu::simd::vnni {

// Four activation bytes repeated in every 32-bit lane.
inline __m512i bcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// The 16 rows' integer dots with 32 activation bytes: w[c] holds columns 4c..4c+3 of the 16
// rows (unsigned), qs the token's signed bytes; the sum starts from `init`. Two chains of 4
// vpdpbusd so a single token (decode) is not bound by their latency; integer sums are exact,
// so the split changes nothing.
inline __m512i dot16x32(__m512i init, const __m512i w[8], const int8_t* qs) {
  __m512i s0 = _mm512_dpbusd_epi32(init, w[0], bcast4(qs + 0));
  __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[1], bcast4(qs + 4));
  s0 = _mm512_dpbusd_epi32(s0, w[2], bcast4(qs + 8));
  s1 = _mm512_dpbusd_epi32(s1, w[3], bcast4(qs + 12));
  s0 = _mm512_dpbusd_epi32(s0, w[4], bcast4(qs + 16));
  s1 = _mm512_dpbusd_epi32(s1, w[5], bcast4(qs + 20));
  s0 = _mm512_dpbusd_epi32(s0, w[6], bcast4(qs + 24));
  s1 = _mm512_dpbusd_epi32(s1, w[7], bcast4(qs + 28));
  return _mm512_add_epi32(s0, s1);
}

}  // namespace autoglm::cpu::simd::vnni
