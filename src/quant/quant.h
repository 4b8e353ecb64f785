// The reference (scalar) definition of every numeric format: quantize, dequantize and dot.
// Block structs with GGUF's exact byte layout are in quant/blocks.h. SIMD and GPU kernels
// elsewhere are tested against these functions; they are the ground truth, not the fast path.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

namespace autoglm::quant {

// Row functions: n is a multiple of the type's block size (callers check).
using ToFloatFn = void (*)(const void* src, float* dst, int64_t n);
using FromFloatFn = void (*)(const float* src, void* dst, int64_t n);
// Dot of a row `x` of the weight type with a row `y` of its vec_dot_type.
using VecDotFn = float (*)(int64_t n, const void* x, const void* y);

struct TypeTraits {
  DType type;
  ToFloatFn to_float = nullptr;      // dequantize (reference)
  FromFloatFn from_float = nullptr;  // quantize (reference); nullptr when not supported
  VecDotFn vec_dot = nullptr;        // nullptr when no dot is defined
  DType vec_dot_type = DType::F32;   // what activations are converted to for vec_dot:
                                     // F32 for F32/F16/BF16, Q8_0 for Q4_0/Q4_1/Q5_0/Q5_1/Q8_0,
                                     // Q8_K for Q4_K/Q5_K/Q6_K (as llama.cpp does)
};

// Traits of t, or nullptr if no reference routines exist for it (e.g. IQ formats).
const TypeTraits* type_traits(DType t);

// Convenience wrappers (abort on unsupported type: check type_traits first for untrusted input).
void dequantize_row(DType t, const void* src, float* dst, int64_t n);
void quantize_row(DType t, const float* src, void* dst, int64_t n);
float vec_dot(DType t, int64_t n, const void* x, const void* y);

}  // namespace autoglm::quant
