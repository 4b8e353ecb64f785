// The traits table: which reference routines exist for each DType, and the activation type each
// weight type's dot expects.
#include <array>

#include "core/check.h"
#include "quant/quant.h"
#include "quant/rows.h"

namespace autoglm::quant {
namespace {

constexpr std::array<TypeTraits, 24> kTraits = {{
    {DType::F32, dequantize_row_f32, quantize_row_f32, vec_dot_f32_f32, DType::F32},
    {DType::F16, dequantize_row_f16, quantize_row_f16, vec_dot_f16_f32, DType::F32},
    {DType::BF16, dequantize_row_bf16, quantize_row_bf16, vec_dot_bf16_f32, DType::F32},
    {DType::Q4_0, dequantize_row_q4_0, quantize_row_q4_0, vec_dot_q4_0_q8_0, DType::Q8_0},
    {DType::Q4_1, dequantize_row_q4_1, quantize_row_q4_1, vec_dot_q4_1_q8_0, DType::Q8_0},
    {DType::Q5_0, dequantize_row_q5_0, quantize_row_q5_0, vec_dot_q5_0_q8_0, DType::Q8_0},
    {DType::Q5_1, dequantize_row_q5_1, quantize_row_q5_1, vec_dot_q5_1_q8_0, DType::Q8_0},
    {DType::Q8_0, dequantize_row_q8_0, quantize_row_q8_0, vec_dot_q8_0_q8_0, DType::Q8_0},
    {DType::Q8_1, dequantize_row_q8_1, quantize_row_q8_1, nullptr, DType::F32},
    {DType::Q2_K, dequantize_row_q2_K, quantize_row_q2_K, vec_dot_q2_K_q8_K, DType::Q8_K},
    {DType::Q3_K, dequantize_row_q3_K, quantize_row_q3_K, vec_dot_q3_K_q8_K, DType::Q8_K},
    {DType::Q4_K, dequantize_row_q4_K, quantize_row_q4_K, vec_dot_q4_K_q8_K, DType::Q8_K},
    {DType::Q5_K, dequantize_row_q5_K, quantize_row_q5_K, vec_dot_q5_K_q8_K, DType::Q8_K},
    {DType::Q6_K, dequantize_row_q6_K, quantize_row_q6_K, vec_dot_q6_K_q8_K, DType::Q8_K},
    {DType::Q8_K, dequantize_row_q8_K, quantize_row_q8_K, nullptr, DType::F32},
    {DType::IQ4_NL, dequantize_row_iq4_nl, quantize_row_iq4_nl, vec_dot_iq4_nl_q8_0, DType::Q8_0},
    {DType::IQ4_XS, dequantize_row_iq4_xs, quantize_row_iq4_xs, vec_dot_iq4_xs_q8_K, DType::Q8_K},
    {DType::IQ2_XXS, dequantize_row_iq2_xxs, nullptr, vec_dot_iq2_xxs_q8_K, DType::Q8_K},
    {DType::IQ2_XS, dequantize_row_iq2_xs, nullptr, vec_dot_iq2_xs_q8_K, DType::Q8_K},
    {DType::IQ2_S, dequantize_row_iq2_s, nullptr, vec_dot_iq2_s_q8_K, DType::Q8_K},
    {DType::IQ3_XXS, dequantize_row_iq3_xxs, nullptr, vec_dot_iq3_xxs_q8_K, DType::Q8_K},
    {DType::IQ3_S, dequantize_row_iq3_s, nullptr, vec_dot_iq3_s_q8_K, DType::Q8_K},
    {DType::IQ1_S, dequantize_row_iq1_s, nullptr, vec_dot_iq1_s_q8_K, DType::Q8_K},
    {DType::IQ1_M, dequantize_row_iq1_m, nullptr, vec_dot_iq1_m_q8_K, DType::Q8_K},
}};

const TypeTraits& checked_traits(DType t) {
  const TypeTraits* tr = type_traits(t);
  AG_CHECK_MSG(tr != nullptr, dtype_name(t));
  return *tr;
}

void check_row(DType t, int64_t n) {
  const int64_t bs = dtype_info(t).block_size;
  AG_CHECK_MSG(n >= 0 && n % bs == 0, "row length is not a multiple of the block size");
}

}  // namespace

const TypeTraits* type_traits(DType t) {
  for (const auto& tr : kTraits) {
    if (tr.type == t) return &tr;
  }
  return nullptr;
}

void dequantize_row(DType t, const void* src, float* dst, int64_t n) {
  check_row(t, n);
  checked_traits(t).to_float(src, dst, n);
}

void quantize_row(DType t, const float* src, void* dst, int64_t n) {
  const TypeTraits& tr = checked_traits(t);
  AG_CHECK_MSG(tr.from_float != nullptr, "no reference quantizer for this type");
  check_row(t, n);
  tr.from_float(src, dst, n);
}

float vec_dot(DType t, int64_t n, const void* x, const void* y) {
  const TypeTraits& tr = checked_traits(t);
  AG_CHECK_MSG(tr.vec_dot != nullptr, "no reference dot for this type");
  check_row(t, n);
  check_row(tr.vec_dot_type, n);
  return tr.vec_dot(n, x, y);
}

}  // namespace autoglm::quant
