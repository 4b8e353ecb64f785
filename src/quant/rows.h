// Per-format reference row routines (the entries of the traits table in quant.h). Signatures
// match ToFloatFn / FromFloatFn / VecDotFn; n must be a multiple of the format's block size.
// vec_dot_<w>_<a>: weight row of format w dotted with an activation row of format a.
#pragma once

#include <cstdint>

namespace autoglm::quant {

// Plain floats (quant_float.cpp).
void dequantize_row_f32(const void* src, float* dst, int64_t n);
void quantize_row_f32(const float* src, void* dst, int64_t n);
void dequantize_row_f16(const void* src, float* dst, int64_t n);
void quantize_row_f16(const float* src, void* dst, int64_t n);
void dequantize_row_bf16(const void* src, float* dst, int64_t n);
void quantize_row_bf16(const float* src, void* dst, int64_t n);
float vec_dot_f32_f32(int64_t n, const void* x, const void* y);
float vec_dot_f16_f32(int64_t n, const void* x, const void* y);
float vec_dot_bf16_f32(int64_t n, const void* x, const void* y);

// Legacy 32-element blocks (quant_legacy.cpp).
void dequantize_row_q4_0(const void* src, float* dst, int64_t n);
void quantize_row_q4_0(const float* src, void* dst, int64_t n);
void dequantize_row_q4_1(const void* src, float* dst, int64_t n);
void quantize_row_q4_1(const float* src, void* dst, int64_t n);
void dequantize_row_q5_0(const void* src, float* dst, int64_t n);
void quantize_row_q5_0(const float* src, void* dst, int64_t n);
void dequantize_row_q5_1(const void* src, float* dst, int64_t n);
void quantize_row_q5_1(const float* src, void* dst, int64_t n);
void dequantize_row_q8_0(const void* src, float* dst, int64_t n);
void quantize_row_q8_0(const float* src, void* dst, int64_t n);
void dequantize_row_q8_1(const void* src, float* dst, int64_t n);
void quantize_row_q8_1(const float* src, void* dst, int64_t n);
float vec_dot_q4_0_q8_0(int64_t n, const void* x, const void* y);
float vec_dot_q4_1_q8_0(int64_t n, const void* x, const void* y);
float vec_dot_q5_0_q8_0(int64_t n, const void* x, const void* y);
float vec_dot_q5_1_q8_0(int64_t n, const void* x, const void* y);
float vec_dot_q8_0_q8_0(int64_t n, const void* x, const void* y);

// K-quants, 256-element super-blocks (quant_kquants.cpp: formats; quant_kquantize.cpp: quantizers;
// quant_kdot.cpp: dots).
void dequantize_row_q2_K(const void* src, float* dst, int64_t n);
void quantize_row_q2_K(const float* src, void* dst, int64_t n);
void dequantize_row_q3_K(const void* src, float* dst, int64_t n);
void quantize_row_q3_K(const float* src, void* dst, int64_t n);
void dequantize_row_q4_K(const void* src, float* dst, int64_t n);
void quantize_row_q4_K(const float* src, void* dst, int64_t n);
void dequantize_row_q5_K(const void* src, float* dst, int64_t n);
void quantize_row_q5_K(const float* src, void* dst, int64_t n);
void dequantize_row_q6_K(const void* src, float* dst, int64_t n);
void quantize_row_q6_K(const float* src, void* dst, int64_t n);
void dequantize_row_q8_K(const void* src, float* dst, int64_t n);
void quantize_row_q8_K(const float* src, void* dst, int64_t n);
float vec_dot_q2_K_q8_K(int64_t n, const void* x, const void* y);
float vec_dot_q3_K_q8_K(int64_t n, const void* x, const void* y);
float vec_dot_q4_K_q8_K(int64_t n, const void* x, const void* y);
float vec_dot_q5_K_q8_K(int64_t n, const void* x, const void* y);
float vec_dot_q6_K_q8_K(int64_t n, const void* x, const void* y);

// IQ4_NL (32-element blocks, Q8_0 activations) and IQ4_XS (256-element super-blocks, Q8_K
// activations), quant_iq4.cpp.
void dequantize_row_iq4_nl(const void* src, float* dst, int64_t n);
void quantize_row_iq4_nl(const float* src, void* dst, int64_t n);
void dequantize_row_iq4_xs(const void* src, float* dst, int64_t n);
void quantize_row_iq4_xs(const float* src, void* dst, int64_t n);
float vec_dot_iq4_nl_q8_0(int64_t n, const void* x, const void* y);
float vec_dot_iq4_xs_q8_K(int64_t n, const void* x, const void* y);

// IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S: lattice formats with 256-element
// super-blocks and Q8_K activations, read only (no quantizer), quant_iq123.cpp.
void dequantize_row_iq2_xxs(const void* src, float* dst, int64_t n);
void dequantize_row_iq2_xs(const void* src, float* dst, int64_t n);
void dequantize_row_iq2_s(const void* src, float* dst, int64_t n);
void dequantize_row_iq3_xxs(const void* src, float* dst, int64_t n);
void dequantize_row_iq3_s(const void* src, float* dst, int64_t n);
void dequantize_row_iq1_s(const void* src, float* dst, int64_t n);
void dequantize_row_iq1_m(const void* src, float* dst, int64_t n);
float vec_dot_iq2_xxs_q8_K(int64_t n, const void* x, const void* y);
float vec_dot_iq2_xs_q8_K(int64_t n, const void* x, const void* y);
float vec_dot_iq2_s_q8_K(int64_t n, const void* x, const void* y);
float vec_dot_iq3_xxs_q8_K(int64_t n, const void* x, const void* y);
float vec_dot_iq3_s_q8_K(int64_t n, const void* x, const void* y);
float vec_dot_iq1_s_q8_K(int64_t n, const void* x, const void* y);
float vec_dot_iq1_m_q8_K(int64_t n, const void* x, const void* y);

}  // namespace autoglm::quant
