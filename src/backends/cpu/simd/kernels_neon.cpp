// Arm NEON row kernels (AArch64, where NEON is baseline; compiled only there, src/CMakeLists.txt).
// The integer dots use SDOT (vdotq_s32, kernels_neon_dotprod.cpp) only when the CPU reports the
// dotprod extension at run time (getauxval(AT_HWCAP) & HWCAP_ASIMDDP); otherwise widening
// multiplies (vmull_s8) with pairwise accumulation give the same exact integer sums on any
// ARMv8-A core.
//
// As on x86 the integer dot of each block equals the reference's; only the float accumulation
// across blocks differs from the reference's double accumulation. The Q8_0 quantizer writes the
// reference's bytes exactly.
#include <arm_neon.h>
#if defined(__linux__)
#include <sys/auxv.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "backends/cpu/simd/simd.h"
#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/iq_grids.h"

#if defined(__linux__) && !defined(HWCAP_ASIMDDP)
#define HWCAP_ASIMDDP (1 << 20)  // Linux uapi asm/hwcap.h, for older libc headers
#endif

namespace autoglm::cpu::simd {

bool cpu_has_neon_dotprod() {
#if defined(__linux__)
  return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#else
  return false;  // no run-time probe here yet: the plain NEON dots are right on every core
#endif
}

namespace neon {
namespace {

using quant::block_q4_0;
using quant::block_q8_0;
using quant::kQK;

inline float h2f(uint16_t h) { return quant::fp16_to_fp32(h); }

// ---- float rows ----

float dot_f32(int64_t n, const void* vx, const void* vy) {
  const float* a = static_cast<const float*>(vx);
  const float* b = static_cast<const float*>(vy);
  float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
    s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    s2 = vfmaq_f32(s2, vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
    s3 = vfmaq_f32(s3, vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
  }
  for (; i + 4 <= n; i += 4) s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
  float r = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
  for (; i < n; ++i) r += a[i] * b[i];
  return r;
}

// 8 F16 / BF16 values -> two float32x4 (elements 0..3, 4..7). FCVTL is baseline AArch64.
inline void load_f16x8(const uint16_t* p, float32x4_t& lo, float32x4_t& hi) {
  const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(p));
  lo = vcvt_f32_f16(vget_low_f16(h));
  hi = vcvt_high_f32_f16(h);
}
inline void load_bf16x8(const uint16_t* p, float32x4_t& lo, float32x4_t& hi) {
  const uint16x8_t h = vld1q_u16(p);
  lo = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16));
  hi = vreinterpretq_f32_u32(vshll_high_n_u16(h, 16));
}

template <bool Half>
float dot_16bit(int64_t n, const void* vx, const void* vy) {
  const auto* a = static_cast<const uint16_t*>(vx);
  const float* b = static_cast<const float*>(vy);
  float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    float32x4_t w0, w1, w2, w3;
    if constexpr (Half) {
      load_f16x8(a + i, w0, w1);
      load_f16x8(a + i + 8, w2, w3);
    } else {
      load_bf16x8(a + i, w0, w1);
      load_bf16x8(a + i + 8, w2, w3);
    }
    s0 = vfmaq_f32(s0, w0, vld1q_f32(b + i));
    s1 = vfmaq_f32(s1, w1, vld1q_f32(b + i + 4));
    s2 = vfmaq_f32(s2, w2, vld1q_f32(b + i + 8));
    s3 = vfmaq_f32(s3, w3, vld1q_f32(b + i + 12));
  }
  float r = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
  for (; i < n; ++i) r += (Half ? quant::fp16_to_fp32(a[i]) : quant::bf16_to_fp32(a[i])) * b[i];
  return r;
}

float dot_f16(int64_t n, const void* x, const void* y) { return dot_16bit<true>(n, x, y); }
float dot_bf16(int64_t n, const void* x, const void* y) { return dot_16bit<false>(n, x, y); }

// ---- 32-element blocks with Q8_0 activations ----

// Four int32 lanes whose sum is the exact dot of 32 int8 pairs (x0|x1 against y0|y1). Products
// fit int16 (|x| <= 128, |y| <= 127), so the widening path cannot overflow either.
inline int32x4_t dot32_plain(int8x16_t x0, int8x16_t x1, int8x16_t y0, int8x16_t y1) {
  int32x4_t s = vdupq_n_s32(0);
  s = vpadalq_s16(s, vmull_s8(vget_low_s8(x0), vget_low_s8(y0)));
  s = vpadalq_s16(s, vmull_high_s8(x0, y0));
  s = vpadalq_s16(s, vmull_s8(vget_low_s8(x1), vget_low_s8(y1)));
  s = vpadalq_s16(s, vmull_high_s8(x1, y1));
  return s;
}

// The weight block's 32 int8 values as two 16-lane halves (elements 0..15, 16..31).
inline void load_q8_0(const block_q8_0& b, int8x16_t& v0, int8x16_t& v1) {
  v0 = vld1q_s8(b.qs);
  v1 = vld1q_s8(b.qs + 16);
}
// Q4_0: element j in the low nibble of qs[j], element j+16 in the high one; value q - 8.
inline void load_q4_0(const block_q4_0& b, int8x16_t& v0, int8x16_t& v1) {
  const uint8x16_t q = vld1q_u8(b.qs);
  const int8x16_t eight = vdupq_n_s8(8);
  v0 = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0f))), eight);
  v1 = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), eight);
}

// 5-bit values 0..31: Q4_0's nibbles (element j in the low nibble of qs[j], j + 16 in the high
// one) plus a fifth bit per element from qh (bit j: element j). Q5_0 and Q5_1 store them so.
inline void load_5bit(const uint8_t* qh_bytes, const uint8_t* qs, uint8x16_t& v0, uint8x16_t& v1) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  const uint8x16_t bits = vreinterpretq_u8_u32(vdupq_n_u32(qh));  // qh's 4 bytes, repeated
  const uint8x16_t lo_bytes = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
  const uint8x16_t hi_bytes = {2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};
  const uint8x16_t select = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t sixteen = vdupq_n_u8(16);
  const uint8x16_t h0 = vandq_u8(vtstq_u8(vqtbl1q_u8(bits, lo_bytes), select), sixteen);
  const uint8x16_t h1 = vandq_u8(vtstq_u8(vqtbl1q_u8(bits, hi_bytes), select), sixteen);
  const uint8x16_t q = vld1q_u8(qs);
  v0 = vorrq_u8(vandq_u8(q, vdupq_n_u8(0x0f)), h0);
  v1 = vorrq_u8(vshrq_n_u8(q, 4), h1);
}

// Q5_0: value q - 16.
inline void load_q5_0(const quant::block_q5_0& b, int8x16_t& v0, int8x16_t& v1) {
  uint8x16_t u0, u1;
  load_5bit(b.qh, b.qs, u0, u1);
  const int8x16_t sixteen = vdupq_n_s8(16);
  v0 = vsubq_s8(vreinterpretq_s8_u8(u0), sixteen);
  v1 = vsubq_s8(vreinterpretq_s8_u8(u1), sixteen);
}

// Sum over blocks of d_x * d_y * dot(x, y) for weight blocks Block (decoded by Load). The SDOT
// versions are in kernels_neon_dotprod.cpp, the only file compiled with +dotprod.
template <class Block, void (*Load)(const Block&, int8x16_t&, int8x16_t&)>
float dot_blocks(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const Block*>(vx);
  const auto* y = static_cast<const block_q8_0*>(vy);
  float32x4_t acc = vdupq_n_f32(0.0f);
  for (int64_t i = 0; i < n / kQK; ++i) {
    int8x16_t x0, x1;
    Load(x[i], x0, x1);
    const int32x4_t p = dot32_plain(x0, x1, vld1q_s8(y[i].qs), vld1q_s8(y[i].qs + 16));
    acc = vfmaq_n_f32(acc, vcvtq_f32_s32(p), h2f(x[i].d) * h2f(y[i].d));
  }
  return vaddvq_f32(acc);
}

float dot_q8_0(int64_t n, const void* x, const void* y) { return dot_blocks<block_q8_0, load_q8_0>(n, x, y); }
float dot_q4_0(int64_t n, const void* x, const void* y) { return dot_blocks<block_q4_0, load_q4_0>(n, x, y); }
float dot_q5_0(int64_t n, const void* x, const void* y) { return dot_blocks<quant::block_q5_0, load_q5_0>(n, x, y); }

// Q4_1 / Q5_1: unsigned values q (0..15 / 0..31) times d, plus the min m: d * dy * sum(q * y) +
// m * dy * sum(y), both sums exact (q fits int8, so the signed widening dot serves).
template <bool Five>
float dot_q_1(int64_t n, const void* vx, const void* vy) {
  using Block = std::conditional_t<Five, quant::block_q5_1, quant::block_q4_1>;
  const auto* x = static_cast<const Block*>(vx);
  const auto* y = static_cast<const block_q8_0*>(vy);
  float32x4_t acc = vdupq_n_f32(0.0f);
  float acc_m = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int8x16_t x0, x1;
    if constexpr (Five) {
      uint8x16_t u0, u1;
      load_5bit(x[i].qh, x[i].qs, u0, u1);
      x0 = vreinterpretq_s8_u8(u0);
      x1 = vreinterpretq_s8_u8(u1);
    } else {
      const uint8x16_t q = vld1q_u8(x[i].qs);
      x0 = vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0f)));
      x1 = vreinterpretq_s8_u8(vshrq_n_u8(q, 4));
    }
    const int8x16_t y0 = vld1q_s8(y[i].qs), y1 = vld1q_s8(y[i].qs + 16);
    const float dy = h2f(y[i].d);
    acc = vfmaq_n_f32(acc, vcvtq_f32_s32(dot32_plain(x0, x1, y0, y1)), h2f(x[i].d) * dy);
    const int32_t ysum = vaddlvq_s16(vaddq_s16(vpaddlq_s8(y0), vpaddlq_s8(y1)));
    acc_m += h2f(x[i].m) * dy * static_cast<float>(ysum);
  }
  return vaddvq_f32(acc) + acc_m;
}

float dot_q4_1(int64_t n, const void* x, const void* y) { return dot_q_1<false>(n, x, y); }
float dot_q5_1(int64_t n, const void* x, const void* y) { return dot_q_1<true>(n, x, y); }

// ---- K-quants with Q8_K activations ----

// Q4_K / Q5_K: sum_j sc[j] * dot(q_j, y_j) over the 8 sub-blocks of 32 (values 0..15 or 0..31,
// so the signed widening products stay exact), minus the min term from the activation bsums.
template <bool Five>
float dot_q45_K(int64_t n, const void* vx, const void* vy) {
  using Block = std::conditional_t<Five, quant::block_q5_K, quant::block_q4_K>;
  const auto* x = static_cast<const Block*>(vx);
  const auto* y = static_cast<const quant::block_q8_K*>(vy);
  const uint8x16_t low4 = vdupq_n_u8(0x0f), bit4 = vdupq_n_u8(0x10);
  float acc = 0.0f, acc_min = 0.0f;
  for (int64_t i = 0; i < n / quant::kQKK; ++i) {
    uint8_t sc[8], m[8];
    for (int j = 0; j < 8; ++j) quant::unpack_scale_min_k4(j, x[i].scales, &sc[j], &m[j]);
    int summ = 0;
    for (int j = 0; j < 8; ++j) summ += m[j] * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
    uint8x16_t h0 = vdupq_n_u8(0), h1 = h0;
    if constexpr (Five) {
      h0 = vld1q_u8(x[i].qh);
      h1 = vld1q_u8(x[i].qh + 16);
    }
    int32_t sumi = 0;
    for (int c = 0; c < 4; ++c) {
      const uint8x16_t b0 = vld1q_u8(x[i].qs + 32 * c), b1 = vld1q_u8(x[i].qs + 32 * c + 16);
      uint8x16_t lo0 = vandq_u8(b0, low4), lo1 = vandq_u8(b1, low4);
      uint8x16_t hi0 = vshrq_n_u8(b0, 4), hi1 = vshrq_n_u8(b1, 4);
      if constexpr (Five) {
        // Bit 2c of qh[l] is bit 4 of element 64c + l, bit 2c+1 that of element 64c + 32 + l.
        const uint8x16_t m0 = vdupq_n_u8(static_cast<uint8_t>(1u << (2 * c)));
        const uint8x16_t m1 = vdupq_n_u8(static_cast<uint8_t>(1u << (2 * c + 1)));
        lo0 = vorrq_u8(lo0, vandq_u8(vtstq_u8(h0, m0), bit4));
        lo1 = vorrq_u8(lo1, vandq_u8(vtstq_u8(h1, m0), bit4));
        hi0 = vorrq_u8(hi0, vandq_u8(vtstq_u8(h0, m1), bit4));
        hi1 = vorrq_u8(hi1, vandq_u8(vtstq_u8(h1, m1), bit4));
      }
      const int8_t* q8 = y[i].qs + 64 * c;
      const int32x4_t p0 = dot32_plain(vreinterpretq_s8_u8(lo0), vreinterpretq_s8_u8(lo1), vld1q_s8(q8),
                                       vld1q_s8(q8 + 16));
      const int32x4_t p1 = dot32_plain(vreinterpretq_s8_u8(hi0), vreinterpretq_s8_u8(hi1), vld1q_s8(q8 + 32),
                                       vld1q_s8(q8 + 48));
      sumi += sc[2 * c] * vaddvq_s32(p0) + sc[2 * c + 1] * vaddvq_s32(p1);
    }
    acc += y[i].d * h2f(x[i].d) * static_cast<float>(sumi);
    acc_min += y[i].d * h2f(x[i].dmin) * static_cast<float>(summ);
  }
  return acc - acc_min;
}

float dot_q4_K(int64_t n, const void* x, const void* y) { return dot_q45_K<false>(n, x, y); }
float dot_q5_K(int64_t n, const void* x, const void* y) { return dot_q45_K<true>(n, x, y); }

// Q2_K / Q3_K: 16 sub-blocks of 16, the 2-bit values of element 128h + 32g + l in bits 2g of
// qs[32h + l] (Q3_K: plus 4 where bit 4h + g of hmask[l] is set, then the value is u - 4). Each
// sub-block's dot of u (<= 7) with the activations is exact in the widening products; the
// offset (Q3_K: -4 * sum_j sc_j * ysum_j) and Q2_K's min term come from Q8_K's bsums.
template <bool Three>
float dot_q23_K(int64_t n, const void* vx, const void* vy) {
  using Block = std::conditional_t<Three, quant::block_q3_K, quant::block_q2_K>;
  const auto* x = static_cast<const Block*>(vx);
  const auto* y = static_cast<const quant::block_q8_K*>(vy);
  const uint8x16_t three = vdupq_n_u8(3), one = vdupq_n_u8(1), m4 = vdupq_n_u8(0x0f);
  float acc = 0.0f;
  for (int64_t i = 0; i < n / quant::kQKK; ++i) {
    int16x8_t sc_lo, sc_hi, of_lo, of_hi;  // scales of sub-blocks 0..7 / 8..15, and the offset's factors
    if constexpr (Three) {
      const uint8x8_t b = vld1_u8(x[i].scales);
      const uint8x16_t lo = vcombine_u8(vand_u8(b, vget_low_u8(m4)), vshr_n_u8(b, 4));
      uint32_t top;
      std::memcpy(&top, x[i].scales + 8, 4);
      const int32x4_t shifts = {0, -2, -4, -6};
      const uint8x16_t hi = vandq_u8(vreinterpretq_u8_u32(vshlq_u32(vdupq_n_u32(top), shifts)), three);
      const int8x16_t s8 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(lo, vshlq_n_u8(hi, 4))), vdupq_n_s8(32));
      sc_lo = of_lo = vmovl_s8(vget_low_s8(s8));
      sc_hi = of_hi = vmovl_high_s8(s8);
    } else {
      const uint8x16_t b = vld1q_u8(x[i].scales);
      const uint8x16_t s = vandq_u8(b, m4), m = vshrq_n_u8(b, 4);
      sc_lo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(s)));
      sc_hi = vreinterpretq_s16_u16(vmovl_high_u8(s));
      of_lo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(m)));
      of_hi = vreinterpretq_s16_u16(vmovl_high_u8(m));
    }
    int32x4_t o = vmull_s16(vget_low_s16(of_lo), vld1_s16(y[i].bsums));
    o = vmlal_high_s16(o, of_lo, vld1q_s16(y[i].bsums));
    o = vmlal_s16(o, vget_low_s16(of_hi), vld1_s16(y[i].bsums + 8));
    o = vmlal_high_s16(o, of_hi, vld1q_s16(y[i].bsums + 8));
    const int32_t off = vaddvq_s32(o);
    int16_t sc[16];
    vst1q_s16(sc, sc_lo);
    vst1q_s16(sc + 8, sc_hi);
    uint8x16_t hm0 = vdupq_n_u8(0), hm1 = vdupq_n_u8(0);
    if constexpr (Three) {
      hm0 = vld1q_u8(x[i].hmask);
      hm1 = vld1q_u8(x[i].hmask + 16);
    }
    int32_t isum = 0;
    for (int h = 0; h < 2; ++h) {
      const uint8x16_t q0 = vld1q_u8(x[i].qs + 32 * h), q1 = vld1q_u8(x[i].qs + 32 * h + 16);
      for (int g = 0; g < 4; ++g) {
        const int k = 4 * h + g;  // elements 32k..: sub-blocks 2k (q0's) and 2k + 1 (q1's)
        const int8x16_t sh = vdupq_n_s8(static_cast<int8_t>(-2 * g)), hs = vdupq_n_s8(static_cast<int8_t>(-k));
        uint8x16_t u0 = vandq_u8(vshlq_u8(q0, sh), three), u1 = vandq_u8(vshlq_u8(q1, sh), three);
        if constexpr (Three) {
          u0 = vorrq_u8(u0, vshlq_n_u8(vandq_u8(vshlq_u8(hm0, hs), one), 2));
          u1 = vorrq_u8(u1, vshlq_n_u8(vandq_u8(vshlq_u8(hm1, hs), one), 2));
        }
        const int8x16_t a0 = vld1q_s8(y[i].qs + 32 * k), a1 = vld1q_s8(y[i].qs + 32 * k + 16);
        const int8x16_t s0 = vreinterpretq_s8_u8(u0), s1 = vreinterpretq_s8_u8(u1);
        int32x4_t d0 = vpaddlq_s16(vmull_s8(vget_low_s8(s0), vget_low_s8(a0)));
        d0 = vpadalq_s16(d0, vmull_high_s8(s0, a0));
        int32x4_t d1 = vpaddlq_s16(vmull_s8(vget_low_s8(s1), vget_low_s8(a1)));
        d1 = vpadalq_s16(d1, vmull_high_s8(s1, a1));
        isum += sc[2 * k] * vaddvq_s32(d0) + sc[2 * k + 1] * vaddvq_s32(d1);
      }
    }
    const float dy = y[i].d;
    if constexpr (Three) {
      acc += h2f(x[i].d) * dy * static_cast<float>(isum - 4 * off);
    } else {
      acc += h2f(x[i].d) * dy * static_cast<float>(isum) - h2f(x[i].dmin) * dy * static_cast<float>(off);
    }
  }
  return acc;
}

float dot_q2_K(int64_t n, const void* x, const void* y) { return dot_q23_K<false>(n, x, y); }
float dot_q3_K(int64_t n, const void* x, const void* y) { return dot_q23_K<true>(n, x, y); }

// Q6_K: 16 sub-blocks of 16. In half h (elements 128h..), element 128h + 32f + l (f = 0..3,
// l < 32) has its low 4 bits in ql[64h + 32 (f % 2) + l] (the high nibble for f >= 2) and its top
// 2 bits in bits 2f of qh[32h + l]; the value is u - 32 (u 0..63). Each sub-block's dot of u
// with the activations is exact in the widening products (<= 63 * 127); the scaled dots add up
// in int32 lanes, and the offset -32 * sum_s sc_s * ysum_s comes from Q8_K's bsums.
float dot_q6_K(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const quant::block_q6_K*>(vx);
  const auto* y = static_cast<const quant::block_q8_K*>(vy);
  const uint8x16_t m4 = vdupq_n_u8(0x0f), m3 = vdupq_n_u8(0x30);
  float acc = 0.0f;
  for (int64_t i = 0; i < n / quant::kQKK; ++i) {
    const int8x16_t sc8 = vld1q_s8(x[i].scales);
    const int16x8_t sc_lo = vmovl_s8(vget_low_s8(sc8)), sc_hi = vmovl_high_s8(sc8);
    int32x4_t o = vmull_s16(vget_low_s16(sc_lo), vld1_s16(y[i].bsums));
    o = vmlal_high_s16(o, sc_lo, vld1q_s16(y[i].bsums));
    o = vmlal_s16(o, vget_low_s16(sc_hi), vld1_s16(y[i].bsums + 8));
    o = vmlal_high_s16(o, sc_hi, vld1q_s16(y[i].bsums + 8));
    int32x4_t isum = vdupq_n_s32(0);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = x[i].ql + 64 * h;
      const uint8_t* qh = x[i].qh + 32 * h;
      for (int r = 0; r < 2; ++r) {  // l = 16r..16r+15
        const uint8x16_t l0 = vld1q_u8(ql + 16 * r), l1 = vld1q_u8(ql + 32 + 16 * r);
        const uint8x16_t hb = vld1q_u8(qh + 16 * r);
        const uint8x16_t u[4] = {
            vorrq_u8(vandq_u8(l0, m4), vandq_u8(vshlq_n_u8(hb, 4), m3)),
            vorrq_u8(vandq_u8(l1, m4), vandq_u8(vshlq_n_u8(hb, 2), m3)),
            vorrq_u8(vshrq_n_u8(l0, 4), vandq_u8(hb, m3)),
            vorrq_u8(vshrq_n_u8(l1, 4), vandq_u8(vshrq_n_u8(hb, 2), m3)),
        };
        for (int f = 0; f < 4; ++f) {
          const int e = 128 * h + 32 * f + 16 * r;  // first element: sub-block e / 16
          const int8x16_t w = vreinterpretq_s8_u8(u[f]), a = vld1q_s8(y[i].qs + e);
          int32x4_t d = vpaddlq_s16(vmull_s8(vget_low_s8(w), vget_low_s8(a)));
          d = vpadalq_s16(d, vmull_high_s8(w, a));
          isum = vmlaq_n_s32(isum, d, x[i].scales[e / 16]);
        }
      }
    }
    acc += h2f(x[i].d) * y[i].d * static_cast<float>(vaddvq_s32(isum) - 32 * vaddvq_s32(o));
  }
  return acc;
}

// ---- IQ4_NL / IQ4_XS: nibbles index the 16-value grid, looked up with TBL ----

inline void load_iq4(const uint8_t* qs, int8x16_t& v0, int8x16_t& v1) {
  const int8x16_t grid = vld1q_s8(quant::kIQ4Values);
  const uint8x16_t q = vld1q_u8(qs);
  v0 = vqtbl1q_s8(grid, vandq_u8(q, vdupq_n_u8(0x0f)));
  v1 = vqtbl1q_s8(grid, vshrq_n_u8(q, 4));
}

inline void load_iq4_nl(const quant::block_iq4_nl& b, int8x16_t& v0, int8x16_t& v1) { load_iq4(b.qs, v0, v1); }

float dot_iq4_nl(int64_t n, const void* x, const void* y) {
  return dot_blocks<quant::block_iq4_nl, load_iq4_nl>(n, x, y);
}

// IQ4_XS: 8 sub-blocks of 32, each dot times its 6-bit factor (ls - 32), exact in int32.
float dot_iq4_xs(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const quant::block_iq4_xs*>(vx);
  const auto* y = static_cast<const quant::block_q8_K*>(vy);
  float acc = 0.0f;
  for (int64_t i = 0; i < n / quant::kQKK; ++i) {
    int32x4_t sumi = vdupq_n_s32(0);
    for (int j = 0; j < 8; ++j) {
      const int ls = quant::iq4_xs_ls(x[i], j) - 32;
      int8x16_t v0, v1;
      load_iq4(x[i].qs + 16 * j, v0, v1);
      const int8_t* a = y[i].qs + 32 * j;
      sumi = vmlaq_n_s32(sumi, dot32_plain(v0, v1, vld1q_s8(a), vld1q_s8(a + 16)), ls);
    }
    acc += h2f(x[i].d) * y[i].d * static_cast<float>(vaddvq_s32(sumi));
  }
  return acc;
}

// ---- IQ1 / IQ2 / IQ3: lattice grids ----

#include "backends/cpu/simd/lattice_dots_neon.inc.h"

// ---- Q8_0 activation quantizer (bit-identical to quant::quantize_row_q8_0) ----

void quantize_q8_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<block_q8_0*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    float32x4_t v[8];
    // The reference's amax ignores NaN (amax < NaN is false): FMAXNM does the same.
    float32x4_t amax = vdupq_n_f32(0.0f);
    for (int k = 0; k < 8; ++k) {
      v[k] = vld1q_f32(src + 4 * k);
      amax = vmaxnmq_f32(amax, vabsq_f32(v[k]));
    }
    const float d = vmaxnmvq_f32(amax) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[i].d = quant::fp32_to_fp16(d);
    int16x8_t h[4];
    for (int k = 0; k < 4; ++k) {
      int32x4_t q[2];
      for (int j = 0; j < 2; ++j) {
        // Clamp to [-127, 127] first (FMAXNM maps NaN to -127, as the reference does), then
        // FCVTAS: round to nearest with ties away from zero, which is std::round.
        const float32x4_t s = vmulq_n_f32(v[2 * k + j], id);
        q[j] = vcvtaq_s32_f32(vminnmq_f32(vmaxnmq_f32(s, vdupq_n_f32(-127.0f)), vdupq_n_f32(127.0f)));
      }
      h[k] = vcombine_s16(vmovn_s32(q[0]), vmovn_s32(q[1]));
    }
    vst1q_s8(b[i].qs, vcombine_s8(vmovn_s16(h[0]), vmovn_s16(h[1])));
    vst1q_s8(b[i].qs + 16, vcombine_s8(vmovn_s16(h[2]), vmovn_s16(h[3])));
  }
}

// ---- activation functions ----

#include "backends/cpu/simd/exp_neon.inc.h"

void silu_mul(const float* g, const float* u, float* o, int64_t n) {
  const float32x4_t one = vdupq_n_f32(1.0f);
  const auto four = [&](const float* g4, const float* u4, float* o4) {
    const float32x4_t v = vld1q_f32(g4);
    const float32x4_t s = vdivq_f32(v, vaddq_f32(one, exp_ps(vnegq_f32(v))));
    vst1q_f32(o4, vmulq_f32(s, vld1q_f32(u4)));
  };
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) four(g + i, u + i, o + i);
  if (i < n) {  // the tail through the same vector exp: an element's result must not depend on
                // where it sits in the call (fused and unfused SwiGLU split rows differently)
    float gb[4] = {}, ub[4] = {};
    std::memcpy(gb, g + i, static_cast<size_t>(n - i) * sizeof(float));
    std::memcpy(ub, u + i, static_cast<size_t>(n - i) * sizeof(float));
    four(gb, ub, gb);
    std::memcpy(o + i, gb, static_cast<size_t>(n - i) * sizeof(float));
  }
}

#include "backends/cpu/simd/exp_sum.inc.h"

// Lane i % 16 of the sum gets element i (four 4-lane registers), the order exp_sum.inc.h fixes.
float exp_shift_sum(float* x, int64_t n, float shift) {
  const float32x4_t sh = vdupq_n_f32(shift), lo = vdupq_n_f32(kExpSumFloor);
  const auto exp_masked = [&](float32x4_t v) {
    v = vsubq_f32(v, sh);
    return vreinterpretq_f32_u32(vandq_u32(vcgeq_f32(v, lo), vreinterpretq_u32_f32(exp_ps(v))));
  };
  float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
  int64_t i = 0;
  for (; i + kExpSumLanes <= n; i += kExpSumLanes) {
    for (int r = 0; r < 4; ++r) {
      const float32x4_t e = exp_masked(vld1q_f32(x + i + 4 * r));
      vst1q_f32(x + i + 4 * r, e);
      acc[r] = vaddq_f32(acc[r], e);
    }
  }
  float lanes[kExpSumLanes];
  for (int r = 0; r < 4; ++r) vst1q_f32(lanes + 4 * r, acc[r]);
  return finish_exp_sum(x, i, n, lanes, [&](float* buf) {
    for (int r = 0; r < 4; ++r) vst1q_f32(buf + 4 * r, exp_masked(vld1q_f32(buf + 4 * r)));
  });
}

IsaKernels make_kernels(bool sdot) {
  IsaKernels t;
  t.f32 = dot_f32;
  t.f16 = dot_f16;
  t.bf16 = dot_bf16;
  t.q8_0 = sdot ? neon_dotprod_q8_0 : dot_q8_0;
  t.q4_0 = sdot ? neon_dotprod_q4_0 : dot_q4_0;
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
  t.quantize_q8_0 = quantize_q8_0;
  t.silu_mul = silu_mul;
  t.exp_shift_sum = exp_shift_sum;
  return t;
}

}  // namespace
}  // namespace neon

const IsaKernels& neon_kernels() {
  static const IsaKernels k = neon::make_kernels(cpu_has_neon_dotprod());
  return k;
}

}  // namespace autoglm::cpu::simd
