// The integer core the AVX-512 VNNI tile kernels share (gemm_r16_avx512.cpp for Q8_0/Q4_0_R16,
// gemm_q4k_r16_avx512.cpp for Q4_K_R16). Include only from translation units compiled with the
// AVX-512 kernel flags (src/CMakeFiles: *_avx512.cpp), so every copy is built the same way.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace autoglm::cpu::simd::vnni {

// acc + the 16 lanes' u8 x s8 dot of w with the 4 activation bytes at p, broadcast by the
// instruction's own {1to16} memory operand: one fused uop where _mm512_set1_epi32 + vpdpbusd
// are two (GCC does not fold the broadcast), and the tile loops are bound by uops: with the
// precomputed start (PackedActivations::bias) full tiles ran ~50% faster (bench_kernels,
// docs/BENCHMARKS.md). The result is the same instruction's.
inline __m512i dpbusd_bcast4(__m512i acc, __m512i w, const int8_t* p) {
  __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*reinterpret_cast<const char(*)[4]>(p)));
  return acc;
}

// The 16 rows' integer dots with 32 activation bytes: w[c] holds columns 4c..4c+3 of the 16
// rows (unsigned), qs the token's signed bytes; the sum starts from `init`. Two chains of 4
// vpdpbusd so a single token (decode) is not bound by their latency; integer sums are exact,
// so the split changes nothing.
inline __m512i dot16x32(__m512i init, const __m512i w[8], const int8_t* qs) {
  __m512i s0 = dpbusd_bcast4(init, w[0], qs + 0);
  __m512i s1 = dpbusd_bcast4(_mm512_setzero_si512(), w[1], qs + 4);
  s0 = dpbusd_bcast4(s0, w[2], qs + 8);
  s1 = dpbusd_bcast4(s1, w[3], qs + 12);
  s0 = dpbusd_bcast4(s0, w[4], qs + 16);
  s1 = dpbusd_bcast4(s1, w[5], qs + 20);
  s0 = dpbusd_bcast4(s0, w[6], qs + 24);
  s1 = dpbusd_bcast4(s1, w[7], qs + 28);
  return _mm512_add_epi32(s0, s1);
}

}  // namespace autoglm::cpu::simd::vnni
