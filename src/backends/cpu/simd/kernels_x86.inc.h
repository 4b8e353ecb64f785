// x86 row kernels shared by kernels_avx2.cpp and kernels_avx512.cpp. Each of those files
// defines AG_SIMD_NS (its namespace) and, for AVX-512, AG_SIMD_512 (512-bit float loops and
// VNNI integer dots) before including this file, so one source gives both ISAs.
//
// Integer dots are exact per block (the same integer sums as src/quant's reference); only the
// float accumulation across blocks differs from the reference's double accumulation.
// Activation rows must come from the Q8_0 / Q8_K quantizers (qs in [-127, 127]): the sign trick
// below cannot negate -128.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "backends/cpu/packed_lattice.h"
#include "backends/cpu/simd/simd.h"
#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/iq_grids.h"

namespace autoglm::cpu::simd::AG_SIMD_NS {
namespace {

using quant::block_q4_0;
using quant::block_q4_1;
using quant::block_q5_0;
using quant::block_q5_1;
using quant::block_q2_K;
using quant::block_q3_K;
using quant::block_q4_K;
using quant::block_q5_K;
using quant::block_q6_K;
using quant::block_q8_0;
using quant::block_q8_K;
using quant::block_iq4_nl;
using quant::block_iq4_xs;
using quant::kQK;
using quant::kQKK;

inline float hsum(__m256 v) {
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

inline int hsum_i32(__m256i v) {
  __m128i q = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  q = _mm_add_epi32(q, _mm_shuffle_epi32(q, 0x4e));
  q = _mm_add_epi32(q, _mm_shuffle_epi32(q, 0xb1));
  return _mm_cvtsi128_si32(q);
}

inline __m256i loadu(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// Sums of four adjacent u8*s8 products into eight int32 lanes. Without VNNI the pairwise int16
// step cannot saturate here: u <= 128 and |s| <= 127 in every caller (2 * 128 * 127 < 32767).
inline __m256i dot_u8s8(__m256i u, __m256i s) {
#if defined(AG_SIMD_512)
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#else
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}

// Signed x signed via |x| and sign(x) moved onto y.
inline __m256i dot_s8s8(__m256i x, __m256i y) {
  return dot_u8s8(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

// ---- float rows ----

float dot_f32(int64_t n, const void* vx, const void* vy) {
  const float* a = static_cast<const float*>(vx);
  const float* b = static_cast<const float*>(vy);
  int64_t i = 0;
#if defined(AG_SIMD_512)
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
  for (; i + 64 <= n; i += 64) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
    s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
  }
  for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1u);
    s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
#else
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  float r = hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  for (; i < n; ++i) r += a[i] * b[i];
  return r;
#endif
}

#if defined(AG_SIMD_512)
inline __m512 load_f16x16(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
inline __m512 load_bf16x16(const uint16_t* p) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
}
#else
inline __m256 load_f16x8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
inline __m256 load_bf16x8(const uint16_t* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
}
#endif

// F16 / BF16 weights times f32 activations; Half is true for F16.
template <bool Half>
float dot_16bit(int64_t n, const void* vx, const void* vy) {
  const auto* a = static_cast<const uint16_t*>(vx);
  const float* b = static_cast<const float*>(vy);
  int64_t i = 0;
#if defined(AG_SIMD_512)
  auto load = [](const uint16_t* p) { return Half ? load_f16x16(p) : load_bf16x16(p); };
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(load(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(load(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
  }
  for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(load(a + i), _mm512_loadu_ps(b + i), s0);
  float r = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
#else
  auto load = [](const uint16_t* p) { return Half ? load_f16x8(p) : load_bf16x8(p); };
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(load(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(load(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(load(a + i), _mm256_loadu_ps(b + i), s0);
  float r = hsum(_mm256_add_ps(s0, s1));
#endif
  for (; i < n; ++i) r += (Half ? quant::fp16_to_fp32(a[i]) : quant::bf16_to_fp32(a[i])) * b[i];
  return r;
}

float dot_f16(int64_t n, const void* x, const void* y) { return dot_16bit<true>(n, x, y); }
float dot_bf16(int64_t n, const void* x, const void* y) { return dot_16bit<false>(n, x, y); }

// ---- legacy 32-element blocks with Q8_0 activations ----

float dot_q8_0(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q8_0*>(vx);
  const auto* y = static_cast<const block_q8_0*>(vy);
  const int64_t nb = n / kQK;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    const __m256i p0 = dot_s8s8(loadu(x[i].qs), loadu(y[i].qs));
    const __m256i p1 = dot_s8s8(loadu(x[i + 1].qs), loadu(y[i + 1].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), _mm256_cvtepi32_ps(p0), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i + 1].d) * h2f(y[i + 1].d)), _mm256_cvtepi32_ps(p1), acc1);
  }
  for (; i < nb; ++i) {
    const __m256i p = dot_s8s8(loadu(x[i].qs), loadu(y[i].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), _mm256_cvtepi32_ps(p), acc0);
  }
  return hsum(_mm256_add_ps(acc0, acc1));
}

// 16 packed bytes -> 32 values: low nibbles (elements 0..15), then high nibbles (16..31).
inline __m256i unpack_nibbles16(const uint8_t* qs) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(b, 4), b), _mm256_set1_epi8(0x0f));
}

float dot_q4_0(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q4_0*>(vx);
  const auto* y = static_cast<const block_q8_0*>(vy);
  const int64_t nb = n / kQK;
  const __m256i eight = _mm256_set1_epi8(8);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    const __m256i q0 = _mm256_sub_epi8(unpack_nibbles16(x[i].qs), eight);
    const __m256i q1 = _mm256_sub_epi8(unpack_nibbles16(x[i + 1].qs), eight);
    const __m256i p0 = dot_s8s8(q0, loadu(y[i].qs));
    const __m256i p1 = dot_s8s8(q1, loadu(y[i + 1].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), _mm256_cvtepi32_ps(p0), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i + 1].d) * h2f(y[i + 1].d)), _mm256_cvtepi32_ps(p1), acc1);
  }
  for (; i < nb; ++i) {
    const __m256i q = _mm256_sub_epi8(unpack_nibbles16(x[i].qs), eight);
    const __m256i p = dot_s8s8(q, loadu(y[i].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), _mm256_cvtepi32_ps(p), acc0);
  }
  return hsum(_mm256_add_ps(acc0, acc1));
}

// Byte i of the result is 16 where bit i of `bits` is set, else 0.
inline __m256i fifth_bits(uint32_t bits) {
  const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3,
                                          3, 3, 3, 3, 3, 3);
  const __m256i select = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  const __m256i v = _mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int32_t>(bits)), spread), select);
  return _mm256_and_si256(_mm256_cmpeq_epi8(v, select), _mm256_set1_epi8(16));
}

// 5-bit values 0..31: Q4_0's nibbles plus a fifth bit per element from qh (bit j: element j).
// Q5_0 and Q5_1 store them so.
inline __m256i load_5bit(const uint8_t* qh_bytes, const uint8_t* qs) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  return _mm256_or_si256(unpack_nibbles16(qs), fifth_bits(qh));
}

// Q5_0: value q - 16.
inline __m256i load_q5_0(const block_q5_0& b) { return _mm256_sub_epi8(load_5bit(b.qh, b.qs), _mm256_set1_epi8(16)); }

float dot_q5_0(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q5_0*>(vx);
  const auto* y = static_cast<const block_q8_0*>(vy);
  const int64_t nb = n / kQK;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    const __m256i p0 = dot_s8s8(load_q5_0(x[i]), loadu(y[i].qs));
    const __m256i p1 = dot_s8s8(load_q5_0(x[i + 1]), loadu(y[i + 1].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), _mm256_cvtepi32_ps(p0), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i + 1].d) * h2f(y[i + 1].d)), _mm256_cvtepi32_ps(p1), acc1);
  }
  for (; i < nb; ++i) {
    const __m256i p = dot_s8s8(load_q5_0(x[i]), loadu(y[i].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), _mm256_cvtepi32_ps(p), acc0);
  }
  return hsum(_mm256_add_ps(acc0, acc1));
}

// Q4_1 / Q5_1: unsigned values q (0..15 / 0..31, Q5_1's fifth bits as Q5_0's) times d, plus the
// min m: d * dy * sum(q * y) + m * dy * sum(y), both sums exact in int32.
template <bool Five>
float dot_q_1(int64_t n, const void* vx, const void* vy) {
  using Block = std::conditional_t<Five, block_q5_1, block_q4_1>;
  const auto* x = static_cast<const Block*>(vx);
  const auto* y = static_cast<const block_q8_0*>(vy);
  const __m256i ones = _mm256_set1_epi8(1);
  __m256 acc = _mm256_setzero_ps(), acc_m = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK; ++i) {
    __m256i q;
    if constexpr (Five) {
      q = load_5bit(x[i].qh, x[i].qs);
    } else {
      q = unpack_nibbles16(x[i].qs);
    }
    const __m256i ya = loadu(y[i].qs);
    const float dy = h2f(y[i].d);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * dy), _mm256_cvtepi32_ps(dot_u8s8(q, ya)), acc);
    acc_m = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].m) * dy), _mm256_cvtepi32_ps(dot_u8s8(ones, ya)), acc_m);
  }
  return hsum(_mm256_add_ps(acc, acc_m));
}

float dot_q4_1(int64_t n, const void* x, const void* y) { return dot_q_1<false>(n, x, y); }
float dot_q5_1(int64_t n, const void* x, const void* y) { return dot_q_1<true>(n, x, y); }

// ---- K-quants with Q8_K activations ----

// Q2_K / Q3_K: 16 sub-blocks of 16, the 2-bit values of element 128h + 32g + l in bits 2g of
// qs[32h + l] (Q3_K: plus 4 where bit 4h + g of hmask[l] is set, then the value is u - 4). Each
// 32-element chunk is one vpmaddubsw (u <= 7, pairs <= 1778 in int16) and one vpmaddwd against
// the two sub-blocks' scales; the offset (Q3_K: -4 * sum_j sc_j * ysum_j) and Q2_K's min term
// come from Q8_K's bsums. Integer sums per super-block are exact.
template <bool Three>
float dot_q23_K(int64_t n, const void* vx, const void* vy) {
  using Block = std::conditional_t<Three, block_q3_K, block_q2_K>;
  const auto* x = static_cast<const Block*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  const __m256i three = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
  __m256 acc = _mm256_setzero_ps();
  float acc_min = 0.0f;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    // The 16 scales as int16 (Q3_K: 6-bit, low nibbles in scales[0..7], top 2 bits in
    // scales[8..11], minus 32; Q2_K: low nibbles, the mins in the high ones) and the offset
    // (Q3_K: sum_j sc_j * ysum_j; Q2_K: sum_j m_j * ysum_j), in vectors: scalar unpacking cost
    // more than the 256 multiply-adds.
    alignas(32) int16_t sc[16];
    __m256i off_with;  // the int16 factors of the bsums in the offset
    if constexpr (Three) {
      const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x[i].scales));
      const __m128i m4 = _mm_set1_epi8(0x0f);
      const __m128i lo = _mm_unpacklo_epi64(_mm_and_si128(b, m4), _mm_and_si128(_mm_srli_epi16(b, 4), m4));
      int32_t top;
      std::memcpy(&top, x[i].scales + 8, 4);
      const __m128i hi = _mm_and_si128(_mm_srlv_epi32(_mm_set1_epi32(top), _mm_setr_epi32(0, 2, 4, 6)), _mm_set1_epi8(3));
      const __m128i s8 = _mm_sub_epi8(_mm_or_si128(lo, _mm_slli_epi16(hi, 4)), _mm_set1_epi8(32));
      off_with = _mm256_cvtepi8_epi16(s8);
      _mm256_store_si256(reinterpret_cast<__m256i*>(sc), off_with);
    } else {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales));
      const __m128i m4 = _mm_set1_epi8(0x0f);
      _mm256_store_si256(reinterpret_cast<__m256i*>(sc), _mm256_cvtepu8_epi16(_mm_and_si128(b, m4)));
      off_with = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(b, 4), m4));
    }
    const int32_t off = hsum_i32(_mm256_madd_epi16(off_with, loadu(y[i].bsums)));
    __m256i hm = _mm256_setzero_si256();
    if constexpr (Three) hm = loadu(x[i].hmask);
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i q = loadu(x[i].qs + 32 * h);
      for (int g = 0; g < 4; ++g) {
        const int k = 4 * h + g;  // elements 32k.. : sub-blocks 2k and 2k + 1
        // (16-bit shifts: only bits of the same byte reach the masked ones)
        __m256i u = _mm256_and_si256(_mm256_srli_epi16(q, 2 * g), three);
        if constexpr (Three) u = _mm256_or_si256(u, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hm, k), one), 2));
        const __m256i p = _mm256_maddubs_epi16(u, loadu(y[i].qs + 32 * k));
        const __m256i s = _mm256_set_m128i(_mm_set1_epi16(sc[2 * k + 1]), _mm_set1_epi16(sc[2 * k]));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, s));
      }
    }
    const float dy = y[i].d;
    if constexpr (Three) {
      sumi = _mm256_sub_epi32(sumi, _mm256_setr_epi32(4 * off, 0, 0, 0, 0, 0, 0, 0));
    } else {
      acc_min += h2f(x[i].dmin) * dy * static_cast<float>(off);
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * dy), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc) - acc_min;
}

float dot_q2_K(int64_t n, const void* x, const void* y) { return dot_q23_K<false>(n, x, y); }
float dot_q3_K(int64_t n, const void* x, const void* y) { return dot_q23_K<true>(n, x, y); }

// Q4_K / Q5_K: sum_j sc[j] * dot(q, y) over the 8 sub-blocks of 32, and the min term from bsums.
template <bool Five>
float dot_q45_K(int64_t n, const void* vx, const void* vy) {
  using Block = std::conditional_t<Five, block_q5_K, block_q4_K>;
  const auto* x = static_cast<const Block*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  __m256 acc = _mm256_setzero_ps();
  float acc_min = 0.0f;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    uint8_t sc[8], m[8];
    for (int j = 0; j < 8; ++j) quant::unpack_scale_min_k4(j, x[i].scales, &sc[j], &m[j]);
    int summ = 0;
    for (int j = 0; j < 8; ++j) summ += m[j] * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
    __m256i hbits = _mm256_setzero_si256();
    if constexpr (Five) hbits = loadu(x[i].qh);
    __m256i sumi = _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
      const __m256i b = loadu(x[i].qs + 32 * c);
      __m256i lo = _mm256_and_si256(b, low4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(b, 4), low4);
      if constexpr (Five) {
        const __m256i m0 = _mm256_set1_epi8(static_cast<char>(1 << (2 * c)));
        const __m256i m1 = _mm256_set1_epi8(static_cast<char>(1 << (2 * c + 1)));
        const __m256i bit4 = _mm256_set1_epi8(0x10);
        lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hbits, m0), m0), bit4));
        hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hbits, m1), m1), bit4));
      }
      const __m256i p0 = dot_u8s8(lo, loadu(y[i].qs + 64 * c));
      const __m256i p1 = dot_u8s8(hi, loadu(y[i].qs + 64 * c + 32));
      sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(p0, _mm256_set1_epi32(sc[2 * c])));
      sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(p1, _mm256_set1_epi32(sc[2 * c + 1])));
    }
    const float d = y[i].d * h2f(x[i].d);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    acc_min += y[i].d * h2f(x[i].dmin) * static_cast<float>(summ);
  }
  return hsum(acc) - acc_min;
}

float dot_q4_K(int64_t n, const void* x, const void* y) { return dot_q45_K<false>(n, x, y); }
float dot_q5_K(int64_t n, const void* x, const void* y) { return dot_q45_K<true>(n, x, y); }

// Q6_K: values q - 32 with q in 0..63 from 4 low bits in ql and 2 high bits in qh; 16 signed
// scales per super-block, one per 16 elements.
float dot_q6_K(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q6_K*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  const __m256i low4 = _mm256_set1_epi8(0x0f), bits45 = _mm256_set1_epi8(0x30), off = _mm256_set1_epi8(32);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQKK; ++i) {
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = x[i].ql + 64 * h;
      const __m256i qh = loadu(x[i].qh + 32 * h);
      const __m256i l0 = loadu(ql), l1 = loadu(ql + 32);
      __m256i q[4];
      q[0] = _mm256_or_si256(_mm256_and_si256(l0, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), bits45));
      q[1] = _mm256_or_si256(_mm256_and_si256(l1, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), bits45));
      q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4), _mm256_and_si256(qh, bits45));
      q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4),
                             _mm256_and_si256(_mm256_srli_epi16(qh, 2), bits45));
      for (int g = 0; g < 4; ++g) {
        const int s = 8 * h + 2 * g;  // the two 16-element sub-blocks of this 32-element group
        const __m256i p = dot_s8s8(_mm256_sub_epi8(q[g], off), loadu(y[i].qs + 128 * h + 32 * g));
        const __m256i scv = _mm256_set_m128i(_mm_set1_epi32(x[i].scales[s + 1]), _mm_set1_epi32(x[i].scales[s]));
        sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(p, scv));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * h2f(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc);
}

// ---- IQ4_NL / IQ4_XS: nibbles index the 16-value grid, looked up with vpshufb ----

inline __m256i iq4_values(const uint8_t* qs) {
  const __m256i grid = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(quant::kIQ4Values)));
  return _mm256_shuffle_epi8(grid, unpack_nibbles16(qs));
}

float dot_iq4_nl(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_iq4_nl*>(vx);
  const auto* y = static_cast<const block_q8_0*>(vy);
  const int64_t nb = n / kQK;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {  // grid values are >= -127, so the sign trick holds
    const __m256i p0 = dot_s8s8(iq4_values(x[i].qs), loadu(y[i].qs));
    const __m256i p1 = dot_s8s8(iq4_values(x[i + 1].qs), loadu(y[i + 1].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), _mm256_cvtepi32_ps(p0), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i + 1].d) * h2f(y[i + 1].d)), _mm256_cvtepi32_ps(p1), acc1);
  }
  for (; i < nb; ++i) {
    const __m256i p = dot_s8s8(iq4_values(x[i].qs), loadu(y[i].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), _mm256_cvtepi32_ps(p), acc0);
  }
  return hsum(_mm256_add_ps(acc0, acc1));
}

// IQ4_XS: 8 sub-blocks of 32, each dot times its 6-bit factor (ls - 32), exact in int32.
float dot_iq4_xs(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_iq4_xs*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQKK; ++i) {
    __m256i sumi = _mm256_setzero_si256();
    for (int j = 0; j < 8; ++j) {
      const int ls = quant::iq4_xs_ls(x[i], j) - 32;
      const __m256i p = dot_s8s8(iq4_values(x[i].qs + 16 * j), loadu(y[i].qs + 32 * j));
      sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(p, _mm256_set1_epi32(ls)));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * h2f(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc);
}

// ---- IQ1 / IQ2 / IQ3: lattice grids ----

#include "backends/cpu/simd/lattice_dots_x86.inc.h"

// ---- activation quantizers (bit-identical to the reference) ----

// 4 x 8 int32 (each in [-127, 127]) -> 32 int8 in element order.
inline __m256i pack_i32x32(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
  return _mm256_permutevar8x32_epi32(_mm256_packs_epi16(ab, cd), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// Clamp to [-127, 127] (NaN -> -127, as the reference's clamp does) before rounding; the bounds
// are integers, so clamping first changes nothing else.
inline __m256 clamp127(__m256 v) {
  return _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-127.0f)), _mm256_set1_ps(127.0f));
}

// std::round: to nearest, ties away from zero. v - trunc(v) is exact, so the tie test is too.
inline __m256i round_away(__m256 v) {
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 sign = _mm256_and_ps(v, _mm256_set1_ps(-0.0f));
  const __m256 frac = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(v, t));
  const __m256 step = _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ),
                                    _mm256_or_ps(_mm256_set1_ps(1.0f), sign));
  return _mm256_cvttps_epi32(_mm256_add_ps(t, step));
}

#if defined(AG_SIMD_512)
// The 512-bit twins of clamp127 and round_away, step for step.
inline __m512 clamp127(__m512 v) {
  return _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f));
}
inline __m512i round_away(__m512 v) {
  const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512 sign = _mm512_and_ps(v, _mm512_set1_ps(-0.0f));
  const __m512 frac = _mm512_andnot_ps(_mm512_set1_ps(-0.0f), _mm512_sub_ps(v, t));
  const __m512 step = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(frac, _mm512_set1_ps(0.5f), _CMP_GE_OQ),
                                          _mm512_or_ps(_mm512_set1_ps(1.0f), sign));
  return _mm512_cvttps_epi32(_mm512_add_ps(t, step));
}

// 16 blocks of quantize_q8_0 at once: the per-block scalar steps (the scale's division, its
// reciprocal, the F16 rounding) run as one vector each, where one block at a time they were most
// of the ~13 ns a block. Every step is the 256-bit loop's, so the bytes are the same.
inline void quantize_q8_0_x16(const float* src, block_q8_0* b) {
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  alignas(64) float amax[16];
  for (int j = 0; j < 16; ++j) {
    __m512 m = _mm512_max_ps(_mm512_and_ps(_mm512_loadu_ps(src + 32 * j), abs_mask), _mm512_setzero_ps());
    m = _mm512_max_ps(_mm512_and_ps(_mm512_loadu_ps(src + 32 * j + 16), abs_mask), m);  // NaN lanes keep m
    amax[j] = _mm512_reduce_max_ps(m);
  }
  const __m512 d = _mm512_div_ps(_mm512_load_ps(amax), _mm512_set1_ps(127.0f));
  alignas(64) float id[16];
  _mm512_store_ps(id, _mm512_maskz_div_ps(_mm512_cmp_ps_mask(d, _mm512_setzero_ps(), _CMP_NEQ_UQ), _mm512_set1_ps(1.0f), d));
  alignas(32) uint16_t dh[16];
  _mm256_store_si256(reinterpret_cast<__m256i*>(dh), _mm512_cvtps_ph(d, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  for (int j = 0; j < 16; ++j) {
    b[j].d = dh[j];
    const __m512 vid = _mm512_set1_ps(id[j]);
    for (int h = 0; h < 2; ++h) {
      const __m512i q = round_away(clamp127(_mm512_mul_ps(_mm512_loadu_ps(src + 32 * j + 16 * h), vid)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(b[j].qs + 16 * h), _mm512_cvtepi32_epi8(q));
    }
  }
}
#endif

void quantize_q8_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<block_q8_0*>(dst);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  int64_t i = 0;
#if defined(AG_SIMD_512)
  for (; i + 16 <= n / kQK; i += 16, src += 16 * kQK) quantize_q8_0_x16(src, b + i);
#endif
  for (; i < n / kQK; ++i, src += kQK) {
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int k = 0; k < 4; ++k) {
      v[k] = _mm256_loadu_ps(src + 8 * k);
      amax = _mm256_max_ps(_mm256_and_ps(v[k], abs_mask), amax);  // NaN lanes keep amax
    }
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float d = _mm_cvtss_f32(m4) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[i].d = quant::fp32_to_fp16(d);
    const __m256 vid = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; ++k) q[k] = round_away(clamp127(_mm256_mul_ps(v[k], vid)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(b[i].qs), pack_i32x32(q[0], q[1], q[2], q[3]));
  }
}

#if defined(AG_SIMD_512)
// One super-block of quantize_q8_K with 512-bit vectors, where a register is one bsums group of
// 16. Every step is the 256-bit loop's (the same max and min over the lanes, clamp, round to
// nearest even), so the bytes are the same. False where the super-block needs the loop's
// special cases (all zero, not finite, a +a / -a tie).
inline bool quantize_q8_K_512(const float* src, block_q8_K& b) {
  __m512 vmax = _mm512_set1_ps(-INFINITY), vmin = _mm512_set1_ps(INFINITY);
  for (int k = 0; k < kQKK; k += 16) {
    const __m512 v = _mm512_loadu_ps(src + k);
    vmax = _mm512_max_ps(v, vmax);  // NaN lanes keep the running value
    vmin = _mm512_min_ps(v, vmin);
  }
  const float hi = _mm512_reduce_max_ps(vmax), lo = _mm512_reduce_min_ps(vmin);
  const float amax = std::max(hi, -lo);
  if (!(amax > 0.0f) || !std::isfinite(amax) || hi == -lo) return false;
  const float max = hi > -lo ? hi : lo;
  const float iscale = -127.0f / max;
  const __m512 vs = _mm512_set1_ps(iscale);
  for (int g = 0; g < kQKK / 16; ++g) {
    const __m512 v = clamp127(_mm512_mul_ps(_mm512_loadu_ps(src + 16 * g), vs));
    const __m512i q = _mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(b.qs + 16 * g), _mm512_cvtepi32_epi8(q));
  }
  // bsums from the bytes: psadbw of the bytes + 128 gives each 8's sum + 1024 in a 64-bit lane;
  // adjacent lanes are one group of 16.
  const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512i e[4];
  for (int r = 0; r < 4; ++r) {
    e[r] = _mm512_sad_epu8(_mm512_xor_si512(_mm512_loadu_si512(b.qs + 64 * r), bias), _mm512_setzero_si512());
  }
  const __m512i even = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), odd = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
  for (int h = 0; h < 2; ++h) {  // groups 8h .. 8h + 7
    const __m512i sum = _mm512_add_epi64(_mm512_permutex2var_epi64(e[2 * h], even, e[2 * h + 1]),
                                         _mm512_permutex2var_epi64(e[2 * h], odd, e[2 * h + 1]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(b.bsums + 8 * h),
                     _mm_sub_epi16(_mm512_cvtepi64_epi16(sum), _mm_set1_epi16(2048)));
  }
  b.d = 1.0f / iscale;
  return true;
}
#endif

void quantize_q8_K(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<block_q8_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
#if defined(AG_SIMD_512)
    if (quantize_q8_K_512(src, b[i])) continue;
#endif
    __m256 vmax = _mm256_set1_ps(-INFINITY), vmin = _mm256_set1_ps(INFINITY);
    for (int k = 0; k < kQKK; k += 8) {
      const __m256 v = _mm256_loadu_ps(src + k);
      vmax = _mm256_max_ps(v, vmax);  // NaN lanes keep the running value
      vmin = _mm256_min_ps(v, vmin);
    }
    float mx[8], mn[8];
    _mm256_storeu_ps(mx, vmax);
    _mm256_storeu_ps(mn, vmin);
    float hi = mx[0], lo = mn[0];
    for (int k = 1; k < 8; ++k) {
      hi = std::max(hi, mx[k]);
      lo = std::min(lo, mn[k]);
    }
    const float amax = std::max(hi, -lo);
    if (!(amax > 0.0f) || !std::isfinite(amax)) {
      std::memset(&b[i], 0, sizeof(b[i]));
      continue;
    }
    // The reference keeps the first value of largest magnitude; only a +a / -a tie needs a scan.
    float max = hi > -lo ? hi : lo;
    if (hi == -lo) {
      for (int k = 0; k < kQKK; ++k) {
        if (std::fabs(src[k]) == amax) {
          max = src[k];
          break;
        }
      }
    }
    const float iscale = -127.0f / max;
    const __m256 vs = _mm256_set1_ps(iscale);
    for (int g = 0; g < kQKK / 32; ++g) {
      __m256i q[4];
      for (int k = 0; k < 4; ++k) {
        const __m256 v = clamp127(_mm256_mul_ps(_mm256_loadu_ps(src + 32 * g + 8 * k), vs));
        q[k] = _mm256_cvtps_epi32(_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
      }
      b[i].bsums[2 * g] = static_cast<int16_t>(hsum_i32(_mm256_add_epi32(q[0], q[1])));
      b[i].bsums[2 * g + 1] = static_cast<int16_t>(hsum_i32(_mm256_add_epi32(q[2], q[3])));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(b[i].qs + 32 * g), pack_i32x32(q[0], q[1], q[2], q[3]));
    }
    b[i].d = 1.0f / iscale;
  }
}

}  // namespace

// ---- activation functions ----

#include "backends/cpu/simd/exp_x86.inc.h"

void silu_mul(const float* g, const float* u, float* o, int64_t n) {
  int64_t i = 0;
#if defined(AG_SIMD_512)
  const __m512 one = _mm512_set1_ps(1.0f);
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(g + i);
    const __m512 s = _mm512_div_ps(v, _mm512_add_ps(one, exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), v))));
    _mm512_storeu_ps(o + i, _mm512_mul_ps(s, _mm512_loadu_ps(u + i)));
  }
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1u);
    const __m512 v = _mm512_maskz_loadu_ps(m, g + i);
    const __m512 s = _mm512_div_ps(v, _mm512_add_ps(one, exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), v))));
    _mm512_mask_storeu_ps(o + i, m, _mm512_mul_ps(s, _mm512_maskz_loadu_ps(m, u + i)));
  }
#else
  const __m256 one = _mm256_set1_ps(1.0f);
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(g + i);
    const __m256 s = _mm256_div_ps(v, _mm256_add_ps(one, exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), v))));
    _mm256_storeu_ps(o + i, _mm256_mul_ps(s, _mm256_loadu_ps(u + i)));
  }
  if (i < n) {  // the tail through the same vector exp: an element's result must not depend on
                // where it sits in the call (fused and unfused SwiGLU split rows differently)
    alignas(32) float gb[8] = {}, ub[8] = {};
    std::memcpy(gb, g + i, static_cast<size_t>(n - i) * sizeof(float));
    std::memcpy(ub, u + i, static_cast<size_t>(n - i) * sizeof(float));
    const __m256 v = _mm256_load_ps(gb);
    const __m256 s = _mm256_div_ps(v, _mm256_add_ps(one, exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), v))));
    _mm256_store_ps(gb, _mm256_mul_ps(s, _mm256_load_ps(ub)));
    std::memcpy(o + i, gb, static_cast<size_t>(n - i) * sizeof(float));
  }
#endif
}

#include "backends/cpu/simd/exp_sum.inc.h"

// Lane i % 16 of the sum gets element i (two 8-lane halves on AVX2), the order exp_sum.inc.h
// fixes; the tail goes through the same vector exp (finish_exp_sum).
float exp_shift_sum(float* x, int64_t n, float shift) {
  float lanes[kExpSumLanes];
  int64_t i = 0;
#if defined(AG_SIMD_512)
  const __m512 sh = _mm512_set1_ps(shift), lo = _mm512_set1_ps(kExpSumFloor);
  const auto exp_masked = [&](__m512 v) {
    v = _mm512_sub_ps(v, sh);
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, lo, _CMP_GE_OQ), exp_ps(v));
  };
  __m512 acc = _mm512_setzero_ps();
  for (; i + kExpSumLanes <= n; i += kExpSumLanes) {
    const __m512 e = exp_masked(_mm512_loadu_ps(x + i));
    _mm512_storeu_ps(x + i, e);
    acc = _mm512_add_ps(acc, e);
  }
  _mm512_storeu_ps(lanes, acc);
#else
  const __m256 sh = _mm256_set1_ps(shift), lo = _mm256_set1_ps(kExpSumFloor);
  const auto exp_masked = [&](__m256 v) {
    v = _mm256_sub_ps(v, sh);
    return _mm256_and_ps(_mm256_cmp_ps(v, lo, _CMP_GE_OQ), exp_ps(v));
  };
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  for (; i + kExpSumLanes <= n; i += kExpSumLanes) {
    const __m256 e0 = exp_masked(_mm256_loadu_ps(x + i)), e1 = exp_masked(_mm256_loadu_ps(x + i + 8));
    _mm256_storeu_ps(x + i, e0);
    _mm256_storeu_ps(x + i + 8, e1);
    acc0 = _mm256_add_ps(acc0, e0);
    acc1 = _mm256_add_ps(acc1, e1);
  }
  _mm256_storeu_ps(lanes, acc0);
  _mm256_storeu_ps(lanes + 8, acc1);
#endif
  return finish_exp_sum(x, i, n, lanes, [&](float* buf) {
#if defined(AG_SIMD_512)
    _mm512_storeu_ps(buf, exp_masked(_mm512_loadu_ps(buf)));
#else
    _mm256_storeu_ps(buf, exp_masked(_mm256_loadu_ps(buf)));
    _mm256_storeu_ps(buf + 8, exp_masked(_mm256_loadu_ps(buf + 8)));
#endif
  });
}

const IsaKernels& kernels() {
  static const IsaKernels k = [] {
    IsaKernels t;
    t.f32 = dot_f32;
    t.f16 = dot_f16;
    t.bf16 = dot_bf16;
    t.q8_0 = dot_q8_0;
    t.q4_0 = dot_q4_0;
    t.q5_0 = dot_q5_0;
    t.q4_1 = dot_q4_1;
    t.q5_1 = dot_q5_1;
    t.q2_K = dot_q2_K;
    t.q3_K = dot_q3_K;
    t.q4_K = dot_q4_K;
    t.q5_K = dot_q5_K;
    t.q6_K = dot_q6_K;
    t.iq4_nl = dot_iq4_nl;
    t.iq4_xs = dot_iq4_xs;
    t.iq2_xxs = dot_iq2_xxs;
    t.iq2_xs = dot_iq2_xs;
    t.iq2_s = dot_iq2_s;
    t.iq3_xxs = dot_iq3_xxs;
    t.iq3_s = dot_iq3_s;
    t.iq1_s = dot_iq1_s;
    t.iq1_m = dot_iq1_m;
    t.iq2_xxs_tokens = dot_lattice_tokens<LatIQ2XXS>;
    t.iq2_xs_tokens = dot_lattice_tokens<LatIQ2XS>;
    t.iq2_s_tokens = dot_lattice_tokens<LatIQ2S>;
    t.iq3_xxs_tokens = dot_lattice_tokens<LatIQ3XXS>;
    t.iq3_s_tokens = dot_lattice_tokens<LatIQ3S>;
    t.iq1_s_tokens = dot_lattice_tokens<LatIQ1S>;
    t.iq1_m_tokens = dot_lattice_tokens<LatIQ1M>;
    t.pack_lattice_group = pack_lattice_group;
    t.quantize_q8_0 = quantize_q8_0;
    t.quantize_q8_K = quantize_q8_K;
    t.silu_mul = silu_mul;
    t.exp_shift_sum = exp_shift_sum;
    return t;
  }();
  return k;
}

}  // namespace autoglm::cpu::simd::AG_SIMD_NS
