// F32 / F16 / BF16 rows. Dots accumulate in double: the reference is the accurate answer that
// faster kernels are compared against, not a model of their rounding.
#include <cstring>

#include "quant/half.h"
#include "quant/rows.h"

namespace autoglm::quant {

void dequantize_row_f32(const void* src, float* dst, int64_t n) {
  if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void quantize_row_f32(const float* src, void* dst, int64_t n) {
  if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void dequantize_row_f16(const void* src, float* dst, int64_t n) {
  fp16_to_fp32_row(static_cast<const uint16_t*>(src), dst, n);
}

void quantize_row_f16(const float* src, void* dst, int64_t n) {
  fp32_to_fp16_row(src, static_cast<uint16_t*>(dst), n);
}

void dequantize_row_bf16(const void* src, float* dst, int64_t n) {
  bf16_to_fp32_row(static_cast<const uint16_t*>(src), dst, n);
}

void quantize_row_bf16(const float* src, void* dst, int64_t n) {
  fp32_to_bf16_row(src, static_cast<uint16_t*>(dst), n);
}

float vec_dot_f32_f32(int64_t n, const void* x, const void* y) {
  const auto* a = static_cast<const float*>(x);
  const auto* b = static_cast<const float*>(y);
  double acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(acc);
}

float vec_dot_f16_f32(int64_t n, const void* x, const void* y) {
  const auto* a = static_cast<const uint16_t*>(x);
  const auto* b = static_cast<const float*>(y);
  double acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(fp16_to_fp32(a[i])) * b[i];
  return static_cast<float>(acc);
}

float vec_dot_bf16_f32(int64_t n, const void* x, const void* y) {
  const auto* a = static_cast<const uint16_t*>(x);
  const auto* b = static_cast<const float*>(y);
  double acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(bf16_to_fp32(a[i])) * b[i];
  return static_cast<float>(acc);
}

}  // namespace autoglm::quant
