// f32 dot product with run-time ISA dispatch: the portable loop keeps 8 partial sums so the
// compiler can vectorise it; simd/dot_avx2.cpp is used where the CPU has AVX2+FMA.
#include "backends/cpu/kernels.h"
#include "backends/cpu/simd/simd.h"

namespace autoglm::cpu {
namespace {

float dot_f32_portable(const float* a, const float* b, int64_t n) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) s[j] += a[i + j] * b[i + j];
  }
  float tail = 0.0f;
  for (; i < n; ++i) tail += a[i] * b[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) + tail;
}

using DotFn = float (*)(const float*, const float*, int64_t);

DotFn pick_dot() {
#if defined(AUTOGLM_HAVE_AVX2_KERNELS)
  if (simd::cpu_has_avx2_fma()) return simd::dot_f32_avx2;
#endif
  return dot_f32_portable;
}

const DotFn g_dot = pick_dot();

}  // namespace

float dot_f32(const float* a, const float* b, int64_t n) { return g_dot(a, b, n); }

}  // namespace autoglm::cpu
