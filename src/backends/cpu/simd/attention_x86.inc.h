// x86 16-lane float vectors for attention_block.inc.h: one __m512 (AG_ATTN_512) or two __m256.
// Each of simd/attention_avx2.cpp / attention_avx512.cpp defines AG_ATTN_NS (and AG_ATTN_512)
// and includes this file, compiled with its ISA's flags.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

#include "backends/cpu/attention_kernels.h"

namespace autoglm::cpu::simd::AG_ATTN_NS {
namespace {

// exp_ps: below -87.3 it returns ~2^-126 instead of 0, which the callers mask anyway.
#include "backends/cpu/simd/exp_x86.inc.h"

#if defined(AG_ATTN_512)

constexpr int kAttnV16Registers = 32;  // one zmm each

inline __mmask16 lanes(int32_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << std::max(n, 0)) - 1u);
}

struct V16 {
  __m512 v;
  static V16 zero() { return {_mm512_setzero_ps()}; }
  static V16 set1(float x) { return {_mm512_set1_ps(x)}; }
  static V16 load(const float* p) { return {_mm512_loadu_ps(p)}; }
  static V16 load(const uint16_t* p) { return {_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)))}; }
  static V16 load(const int8_t* p) {
    return {_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))))};
  }
  static V16 load_n(const float* p, int32_t n) { return {_mm512_maskz_loadu_ps(lanes(n), p)}; }
  void store(float* p) const { _mm512_storeu_ps(p, v); }
  void store_n(float* p, int32_t n) const { _mm512_mask_storeu_ps(p, lanes(n), v); }
  V16 first(int32_t n, float fill) const { return {_mm512_mask_blend_ps(lanes(n), _mm512_set1_ps(fill), v)}; }
  float hmax() const { return _mm512_reduce_max_ps(v); }
  float hsum() const { return _mm512_reduce_add_ps(v); }
  V16 exp() const { return {exp_ps(v)}; }
};
inline V16 add(V16 a, V16 b) { return {_mm512_add_ps(a.v, b.v)}; }
inline V16 sub(V16 a, V16 b) { return {_mm512_sub_ps(a.v, b.v)}; }
inline V16 mul(V16 a, V16 b) { return {_mm512_mul_ps(a.v, b.v)}; }
inline V16 fma(V16 a, V16 b, V16 c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }

inline void half_to_float(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i))));
  }
  for (; i < n; ++i) dst[i] = _cvtsh_ss(src[i]);
}
#else

constexpr int kAttnV16Registers = 8;  // two of the 16 ymm each

// All-ones in lanes [0, n) of an 8-lane half.
inline __m256i lanes8(int32_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

inline float hsum8(__m256 v) {
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

inline float hmax8(__m256 v) {
  __m128 q = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  q = _mm_max_ps(q, _mm_movehl_ps(q, q));
  q = _mm_max_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

struct V16 {
  __m256 lo, hi;
  static V16 zero() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }
  static V16 set1(float x) { return {_mm256_set1_ps(x), _mm256_set1_ps(x)}; }
  static V16 load(const float* p) { return {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
  static V16 load(const uint16_t* p) {
    return {_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))),
            _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 8)))};
  }
  static V16 load(const int8_t* p) {
    return {_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)))),
            _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 8))))};
  }
  static V16 load_n(const float* p, int32_t n) {
    if (n >= 16) return load(p);
    if (n >= 8) return {_mm256_loadu_ps(p), _mm256_maskload_ps(p + 8, lanes8(n - 8))};
    return {_mm256_maskload_ps(p, lanes8(n)), _mm256_setzero_ps()};
  }
  void store(float* p) const {
    _mm256_storeu_ps(p, lo);
    _mm256_storeu_ps(p + 8, hi);
  }
  void store_n(float* p, int32_t n) const {
    if (n >= 16) return store(p);
    if (n >= 8) {
      _mm256_storeu_ps(p, lo);
      _mm256_maskstore_ps(p + 8, lanes8(n - 8), hi);
    } else {
      _mm256_maskstore_ps(p, lanes8(n), lo);
    }
  }
  V16 first(int32_t n, float fill) const {
    const __m256 f = _mm256_set1_ps(fill);
    return {_mm256_blendv_ps(f, lo, _mm256_castsi256_ps(lanes8(n))),
            _mm256_blendv_ps(f, hi, _mm256_castsi256_ps(lanes8(n - 8)))};
  }
  float hmax() const { return hmax8(_mm256_max_ps(lo, hi)); }
  float hsum() const { return hsum8(_mm256_add_ps(lo, hi)); }
  V16 exp() const { return {exp_ps(lo), exp_ps(hi)}; }
};
inline V16 add(V16 a, V16 b) { return {_mm256_add_ps(a.lo, b.lo), _mm256_add_ps(a.hi, b.hi)}; }
inline V16 sub(V16 a, V16 b) { return {_mm256_sub_ps(a.lo, b.lo), _mm256_sub_ps(a.hi, b.hi)}; }
inline V16 mul(V16 a, V16 b) { return {_mm256_mul_ps(a.lo, b.lo), _mm256_mul_ps(a.hi, b.hi)}; }
inline V16 fma(V16 a, V16 b, V16 c) { return {_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)}; }

inline void half_to_float(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  }
  for (; i < n; ++i) dst[i] = _cvtsh_ss(src[i]);
}
#endif

#include "backends/cpu/attention_block.inc.h"

}  // namespace
}  // namespace autoglm::cpu::simd::AG_ATTN_NS
