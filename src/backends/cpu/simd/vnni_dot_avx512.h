// The integer core the AVX-512 VNNI tile kernels share (gemm_r16_avx512.cpp for the 32-column
// layouts, gemm_q4k_r16_avx512.cpp for Q4_K_R16 / Q5_K_R16, gemm_q36k_r16_avx512.cpp for Q3_K_R16 /
// Q6_K_R16).
// Include only from translation units compiled with the AVX-512 kernel flags (src/CMakeFiles:
// *_avx512.cpp), so every copy is built the same way.
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

// The 16 rows' integer dots with a token's 32 activation bytes qs as two 16-column sub-blocks
// (w[0..3] and w[4..7]), started from init0 and init1: two chains of 4 vpdpbusd, interleaved so
// one token is not bound by their latency.
inline void sub_block_pair_dots(__m512i init0, __m512i init1, const __m512i w[8], const int8_t* qs, __m512i& d0,
                                __m512i& d1) {
  d0 = dpbusd_bcast4(init0, w[0], qs + 0);
  d1 = dpbusd_bcast4(init1, w[4], qs + 16);
  d0 = dpbusd_bcast4(d0, w[1], qs + 4);
  d1 = dpbusd_bcast4(d1, w[5], qs + 20);
  d0 = dpbusd_bcast4(d0, w[2], qs + 8);
  d1 = dpbusd_bcast4(d1, w[6], qs + 24);
  d0 = dpbusd_bcast4(d0, w[3], qs + 12);
  d1 = dpbusd_bcast4(d1, w[7], qs + 28);
}

// dot16x32 for 4-bit weights whose high nibbles were left in place (w[4..7] = byte & 0xF0, 16x
// the nibble; w[0..3] the low nibbles): the high chain's sum comes out 16x, exact in int32 (4 x 4
// x 240 x 128 < 2^31), and one arithmetic shift brings it back, where moving each of the 4
// registers' nibbles down took a shift each. Only for few tokens: it pays once per token, the
// shifts it saves once per block.
inline __m512i dot16x32_high_in_place(__m512i init, const __m512i w[8], const int8_t* qs) {
  __m512i lo, hi;
  sub_block_pair_dots(init, _mm512_setzero_si512(), w, qs, lo, hi);
  return _mm512_add_epi32(lo, _mm512_srai_epi32(hi, 4));
}

// Those dots, each started from its own offset (bias[0], bias[1]) and multiplied by its rows'
// scales: sc0 * dot0 + sc1 * dot1, exact in int32 (LATTICE_R16, whose dots can pass int16).
inline __m512i scaled_sub_block_pair(const int32_t* bias, const __m512i w[8], const int8_t* qs, __m512i sc0,
                                     __m512i sc1) {
  __m512i d0, d1;
  sub_block_pair_dots(_mm512_set1_epi32(bias[0]), _mm512_set1_epi32(bias[1]), w, qs, d0, d1);
  return _mm512_add_epi32(_mm512_mullo_epi32(d0, sc0), _mm512_mullo_epi32(d1, sc1));
}

// The int16 route for sub-block scales: where a chain's dot is known to lie within int16, it is
// its lane's low half (the high half its sign), and vpdpwssd against a scale held in the lane's
// low 16 bits (0 in the high) multiplies and adds it exactly in one uop, where vpmulld takes two
// and the adds more. `sc` registers here must have their high halves zero (scale_lanes16).
inline __m512i scale_lanes16(__m512i sc32) { return _mm512_and_si512(sc32, _mm512_set1_epi32(0xFFFF)); }

// acc + sc0 * dot0 + sc1 * dot1 for two 16-column sub-blocks (w[0..3], w[4..7]) each started
// from its offset (none: bias null), when each dot fits int16 (Q2_K: 16 * 3 * 127; Q3_K:
// 16 * 4 * 127; Q4_K's 32-column sub-block as two halves with one scale: 16 * 15 * 127).
inline __m512i scaled_sub_block_pair16(__m512i acc, const int32_t* bias, const __m512i w[8], const int8_t* qs,
                                       __m512i sc0, __m512i sc1) {
  __m512i d0, d1;
  sub_block_pair_dots(bias ? _mm512_set1_epi32(bias[0]) : _mm512_setzero_si512(),
                      bias ? _mm512_set1_epi32(bias[1]) : _mm512_setzero_si512(), w, qs, d0, d1);
  return _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(acc, d0, sc0), d1, sc1);
}

// scaled_sub_block_pair16 with no offsets for a sub-block whose nibbles sit in the bytes' high
// halves (w[c] = byte & 0xF0, 16x each nibble): each half's dot comes out 16x, exact in int32, and
// one arithmetic shift each brings it back into int16 before its scale: 2 shifts where moving the
// 8 registers' nibbles down took 8. Only for few tokens (it pays per token, the saving is per
// sub-block).
inline __m512i scaled_sub_block_pair16_high_in_place(__m512i acc, const __m512i w[8], const int8_t* qs, __m512i sc0,
                                                     __m512i sc1) {
  __m512i d0, d1;
  sub_block_pair_dots(_mm512_setzero_si512(), _mm512_setzero_si512(), w, qs, d0, d1);
  return _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(acc, _mm512_srai_epi32(d0, 4), sc0), _mm512_srai_epi32(d1, 4), sc1);
}

// The same in 8-column quarters, each from its own offset bias[0..3], for dots that fit int16
// only so (Q6_K: 8 * 32 * 127).
inline __m512i scaled_sub_block_quarters16(__m512i acc, const int32_t* bias, const __m512i w[8], const int8_t* qs,
                                           __m512i sc0, __m512i sc1) {
  __m512i d0 = dpbusd_bcast4(_mm512_set1_epi32(bias[0]), w[0], qs + 0);
  __m512i d1 = dpbusd_bcast4(_mm512_set1_epi32(bias[1]), w[2], qs + 8);
  __m512i d2 = dpbusd_bcast4(_mm512_set1_epi32(bias[2]), w[4], qs + 16);
  __m512i d3 = dpbusd_bcast4(_mm512_set1_epi32(bias[3]), w[6], qs + 24);
  d0 = dpbusd_bcast4(d0, w[1], qs + 4);
  d1 = dpbusd_bcast4(d1, w[3], qs + 12);
  d2 = dpbusd_bcast4(d2, w[5], qs + 20);
  d3 = dpbusd_bcast4(d3, w[7], qs + 28);
  acc = _mm512_dpwssd_epi32(acc, d0, sc0);
  acc = _mm512_dpwssd_epi32(acc, d1, sc0);
  acc = _mm512_dpwssd_epi32(acc, d2, sc1);
  return _mm512_dpwssd_epi32(acc, d3, sc1);
}

// ORs each register's fifth bit in as 16: bit c of each byte of h belongs to register c's
// byte (Q5_0_R16, Q5_1_R16, Q5_K_R16). A | B & C is ternary-logic 0xF8; the 16-bit shifts move
// bits across bytes only into bits the 0x10 mask drops.
inline void or_fifth_bits(__m512i w[8], __m512i h) {
  const __m512i bit4 = _mm512_set1_epi8(0x10);
  w[0] = _mm512_ternarylogic_epi32(w[0], _mm512_slli_epi16(h, 4), bit4, 0xF8);
  w[1] = _mm512_ternarylogic_epi32(w[1], _mm512_slli_epi16(h, 3), bit4, 0xF8);
  w[2] = _mm512_ternarylogic_epi32(w[2], _mm512_slli_epi16(h, 2), bit4, 0xF8);
  w[3] = _mm512_ternarylogic_epi32(w[3], _mm512_slli_epi16(h, 1), bit4, 0xF8);
  w[4] = _mm512_ternarylogic_epi32(w[4], h, bit4, 0xF8);
  w[5] = _mm512_ternarylogic_epi32(w[5], _mm512_srli_epi16(h, 1), bit4, 0xF8);
  w[6] = _mm512_ternarylogic_epi32(w[6], _mm512_srli_epi16(h, 2), bit4, 0xF8);
  w[7] = _mm512_ternarylogic_epi32(w[7], _mm512_srli_epi16(h, 3), bit4, 0xF8);
}

}  // namespace autoglm::cpu::simd::vnni
