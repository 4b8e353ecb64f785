// NEON attention kernels (AArch64 baseline): V16 is four float32x4 for attention_block.inc.h;
// used when isa_available(Isa::kNeon).
#include <arm_neon.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "backends/cpu/attention_kernels.h"
#include "quant/half.h"

namespace autoglm::cpu::simd::attn_neon {
namespace {

// exp_ps: below -87.3 it returns ~2^-126 instead of 0, which the callers mask anyway.
#include "backends/cpu/simd/exp_neon.inc.h"

struct V16 {
  float32x4_t v[4];
  static V16 zero() { return set1(0.0f); }
  static V16 set1(float x) {
    const float32x4_t s = vdupq_n_f32(x);
    return {{s, s, s, s}};
  }
  static V16 load(const float* p) { return {{vld1q_f32(p), vld1q_f32(p + 4), vld1q_f32(p + 8), vld1q_f32(p + 12)}}; }
  static V16 load(const uint16_t* p) {
    const float16x8_t a = vld1q_f16(reinterpret_cast<const float16_t*>(p));
    const float16x8_t b = vld1q_f16(reinterpret_cast<const float16_t*>(p + 8));
    return {{vcvt_f32_f16(vget_low_f16(a)), vcvt_high_f32_f16(a), vcvt_f32_f16(vget_low_f16(b)), vcvt_high_f32_f16(b)}};
  }
  static V16 load(const int8_t* p) {
    const int8x16_t x = vld1q_s8(p);
    const int16x8_t lo = vmovl_s8(vget_low_s8(x)), hi = vmovl_high_s8(x);
    return {{vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), vcvtq_f32_s32(vmovl_high_s16(lo)),
             vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), vcvtq_f32_s32(vmovl_high_s16(hi))}};
  }
  // Partial rows go through a zeroed stack copy: no read past p + n.
  static V16 load_n(const float* p, int32_t n) {
    if (n >= 16) return load(p);
    float t[16] = {};
    if (n > 0) std::memcpy(t, p, static_cast<size_t>(n) * sizeof(float));
    return load(t);
  }
  void store(float* p) const {
    for (int k = 0; k < 4; ++k) vst1q_f32(p + 4 * k, v[k]);
  }
  void store_n(float* p, int32_t n) const {
    if (n >= 16) return store(p);
    float t[16];
    store(t);
    if (n > 0) std::memcpy(p, t, static_cast<size_t>(n) * sizeof(float));
  }
  V16 first(int32_t n, float fill) const {
    static constexpr int32_t kIdx[4] = {0, 1, 2, 3};
    const int32x4_t idx = vld1q_s32(kIdx);
    V16 r;
    for (int k = 0; k < 4; ++k) {
      const uint32x4_t keep = vcltq_s32(vaddq_s32(idx, vdupq_n_s32(4 * k)), vdupq_n_s32(n));
      r.v[k] = vbslq_f32(keep, v[k], vdupq_n_f32(fill));
    }
    return r;
  }
  float hmax() const { return vmaxvq_f32(vmaxq_f32(vmaxq_f32(v[0], v[1]), vmaxq_f32(v[2], v[3]))); }
  float hsum() const { return vaddvq_f32(vaddq_f32(vaddq_f32(v[0], v[1]), vaddq_f32(v[2], v[3]))); }
  V16 exp() const { return {{exp_ps(v[0]), exp_ps(v[1]), exp_ps(v[2]), exp_ps(v[3])}}; }
};
inline V16 add(V16 a, V16 b) {
  return {{vaddq_f32(a.v[0], b.v[0]), vaddq_f32(a.v[1], b.v[1]), vaddq_f32(a.v[2], b.v[2]), vaddq_f32(a.v[3], b.v[3])}};
}
inline V16 sub(V16 a, V16 b) {
  return {{vsubq_f32(a.v[0], b.v[0]), vsubq_f32(a.v[1], b.v[1]), vsubq_f32(a.v[2], b.v[2]), vsubq_f32(a.v[3], b.v[3])}};
}
inline V16 mul(V16 a, V16 b) {
  return {{vmulq_f32(a.v[0], b.v[0]), vmulq_f32(a.v[1], b.v[1]), vmulq_f32(a.v[2], b.v[2]), vmulq_f32(a.v[3], b.v[3])}};
}
inline V16 fma(V16 a, V16 b, V16 c) {
  return {{vfmaq_f32(c.v[0], a.v[0], b.v[0]), vfmaq_f32(c.v[1], a.v[1], b.v[1]), vfmaq_f32(c.v[2], a.v[2], b.v[2]),
           vfmaq_f32(c.v[3], a.v[3], b.v[3])}};
}

inline void half_to_float(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(src + i));
    vst1q_f32(dst + i, vcvt_f32_f16(vget_low_f16(h)));
    vst1q_f32(dst + i + 4, vcvt_high_f32_f16(h));
  }
  for (; i < n; ++i) dst[i] = quant::fp16_to_fp32(src[i]);
}

constexpr int kAttnV16Registers = 8;  // four of the 32 q registers each

#include "backends/cpu/attention_block.inc.h"

}  // namespace
}  // namespace autoglm::cpu::simd::attn_neon

namespace autoglm::cpu::simd {
const AttnKernels& neon_attn_kernels() { return attn_neon::kernels(); }
}  // namespace autoglm::cpu::simd
