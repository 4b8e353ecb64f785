// F16 and BF16 matrices with 16 rows interleaved (DType::F16_R16, BF16_R16): packing, row
// reading and the scalar reference of their kernels. Reached through packed.h's generic entry
// points; this header is for packed.cpp and the SIMD kernels.
//
// Why: the row layout dots one weight row with one token at a time, converting the row's halves
// to f32 again for every token and ending each dot with a horizontal sum; prefill ran at
// 0.5-0.8x llama.cpp on F16 files. Interleaved, one 256-bit load is the same column of 16 rows,
// converted once and multiplied into a tile of tokens' accumulators.
//
// Layout: for each group of 16 rows, for each column c, 32 bytes: the 16 rows' values of column
// c (row 0..15), as stored by the source (2 bytes per row and column, as F16 / BF16).
// Activations stay f32 (PackedActivations::xf), one row per token, the rows an odd number of
// cache lines apart: a tile reads the same column of up to 16 rows, which at a stride of 8 KiB
// (k = 2048) would all fall in one L1 set (T=16 ran at half the T=8 rate with k = 1024). Per row the product is a single chain of f32
// fmas over the columns in order, acc = fma(w_c, x_c, acc), which the kernels keep lane by lane,
// so they are bit-identical to the reference.
#pragma once

#include <cstdint>

#include "backends/cpu/packed.h"

namespace autoglm::cpu {

inline constexpr size_t kFloatR16ColumnBytes = 32;  // one column of 16 rows

// An owned F16_R16 / BF16_R16 copy of an F16 / BF16 matrix (rows % 16 == 0).
Tensor pack_float_r16(const Tensor& w);
void dequantize_float_r16_row(const Tensor& packed, int64_t r, float* out);
// act.xf = x's rows, ldx apart; act.nb = columns.
Status prepare_float_activations(const Tensor& x, PackedActivations& act, ThreadPool& pool);
void gemm_f16_r16_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                            float* y, int64_t ldy);
void gemm_bf16_r16_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                             float* y, int64_t ldy);

namespace simd {
void gemm_f16_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                         float* y, int64_t ldy);
void gemm_bf16_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy);
void gemm_f16_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                       float* y, int64_t ldy);
void gemm_bf16_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy);
}  // namespace simd

}  // namespace autoglm::cpu
