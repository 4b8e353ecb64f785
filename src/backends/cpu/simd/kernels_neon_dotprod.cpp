// The SDOT (ARMv8.2 dotprod) integer dots of the NEON kernels, compiled with
// -march=armv8.2-a+dotprod and called only after cpu_has_neon_dotprod() (kernels_neon.cpp).
// A file of its own because GCC 12 loses a function's target("+dotprod") attribute for all but
// the first such function in a translation unit. It calls no inline function of a shared header
// (only intrinsics and its own helpers), so the linker cannot pick a dotprod-compiled copy of one
// for code that runs on a core without SDOT.
#include <arm_neon.h>

#include <bit>

#include "backends/cpu/simd/simd.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

using quant::block_q4_0;
using quant::block_q8_0;
using quant::kQK;

// IEEE half -> float by FCVT: exact, like quant::fp16_to_fp32.
float h2f(uint16_t h) { return static_cast<float>(std::bit_cast<__fp16>(h)); }

// Four int32 lanes summing to the exact dot of 32 int8 pairs.
int32x4_t dot32(int8x16_t x0, int8x16_t x1, const int8_t* y) {
  return vdotq_s32(vdotq_s32(vdupq_n_s32(0), x0, vld1q_s8(y)), x1, vld1q_s8(y + 16));
}

}  // namespace

float neon_dotprod_q8_0(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q8_0*>(vx);
  const auto* y = static_cast<const block_q8_0*>(vy);
  float32x4_t acc = vdupq_n_f32(0.0f);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const int32x4_t p = dot32(vld1q_s8(x[i].qs), vld1q_s8(x[i].qs + 16), y[i].qs);
    acc = vfmaq_n_f32(acc, vcvtq_f32_s32(p), h2f(x[i].d) * h2f(y[i].d));
  }
  return vaddvq_f32(acc);
}

// Q4_0: element j in the low nibble of qs[j], element j+16 in the high one; value q - 8.
float neon_dotprod_q4_0(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q4_0*>(vx);
  const auto* y = static_cast<const block_q8_0*>(vy);
  const int8x16_t eight = vdupq_n_s8(8);
  float32x4_t acc = vdupq_n_f32(0.0f);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const uint8x16_t q = vld1q_u8(x[i].qs);
    const int8x16_t x0 = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0f))), eight);
    const int8x16_t x1 = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), eight);
    acc = vfmaq_n_f32(acc, vcvtq_f32_s32(dot32(x0, x1, y[i].qs)), h2f(x[i].d) * h2f(y[i].d));
  }
  return vaddvq_f32(acc);
}

}  // namespace autoglm::cpu::simd
