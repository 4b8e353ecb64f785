// Portable attention kernels (a 16-float array per key chunk, std::exp) and the per-ISA table.
#include "backends/cpu/attention_kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

#include "quant/half.h"

namespace autoglm::cpu {
namespace portable {
namespace {

struct V16 {
  float v[16];
  static V16 zero() { return set1(0.0f); }
  static V16 set1(float x) {
    V16 r;
    std::fill(r.v, r.v + 16, x);
    return r;
  }
  static V16 load(const float* p) { return load_n(p, 16); }
  static V16 load(const uint16_t* p) {
    V16 r;
    quant::fp16_to_fp32_row(p, r.v, 16);
    return r;
  }
  static V16 load(const int8_t* p) {
    V16 r;
    for (int i = 0; i < 16; ++i) r.v[i] = static_cast<float>(p[i]);
    return r;
  }
  static V16 load_n(const float* p, int32_t n) {
    V16 r = zero();
    std::copy(p, p + std::clamp(n, 0, 16), r.v);
    return r;
  }
  void store(float* p) const { store_n(p, 16); }
  void store_n(float* p, int32_t n) const { std::copy(v, v + std::clamp(n, 0, 16), p); }
  V16 first(int32_t n, float fill) const {
    V16 r = *this;
    for (int32_t i = std::max(n, 0); i < 16; ++i) r.v[i] = fill;
    return r;
  }
  float hmax() const { return *std::max_element(v, v + 16); }
  float hsum() const {
    float s = 0.0f;
    for (float x : v) s += x;
    return s;
  }
  V16 exp() const {
    V16 r;
    for (int i = 0; i < 16; ++i) r.v[i] = std::exp(v[i]);
    return r;
  }
};
template <class F>
V16 lanewise(V16 a, V16 b, F f) {
  for (int i = 0; i < 16; ++i) a.v[i] = f(a.v[i], b.v[i]);
  return a;
}
inline V16 add(V16 a, V16 b) { return lanewise(a, b, [](float x, float y) { return x + y; }); }
inline V16 sub(V16 a, V16 b) { return lanewise(a, b, [](float x, float y) { return x - y; }); }
inline V16 mul(V16 a, V16 b) { return lanewise(a, b, [](float x, float y) { return x * y; }); }
// Fused, as the SIMD kernels' fma: a plain a * b + c may or may not be contracted depending on
// the target and on inlining (GCC contracts by default where the ISA has fma, e.g. AArch64),
// and the same block must give the same bits however it reaches the kernel.
inline V16 fma(V16 a, V16 b, V16 c) {
  for (int i = 0; i < 16; ++i) c.v[i] = std::fma(a.v[i], b.v[i], c.v[i]);
  return c;
}

inline void half_to_float(const uint16_t* src, float* dst, int64_t n) { quant::fp16_to_fp32_row(src, dst, n); }

constexpr int kAttnV16Registers = 4;  // arrays in memory: grouping queries would not help

#include "backends/cpu/attention_block.inc.h"

}  // namespace
}  // namespace portable

const AttnKernels& attn_kernels(Isa isa) {
  switch (isa) {
#if defined(AUTOGLM_HAVE_AVX2_KERNELS)
    case Isa::kAvx2: return simd::avx2_attn_kernels();
#endif
#if defined(AUTOGLM_HAVE_AVX512_KERNELS)
    case Isa::kAvx512: return simd::avx512_attn_kernels();
#endif
#if defined(AUTOGLM_HAVE_NEON_KERNELS)
    case Isa::kNeon: return simd::neon_attn_kernels();
#endif
    default: return portable::kernels();
  }
}

const AttnKernels& attn_kernels() {
  static const AttnKernels& k = attn_kernels(active_isa());
  return k;
}

}  // namespace autoglm::cpu
