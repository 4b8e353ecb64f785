// F32, F16 and BF16 matrices with 16 rows interleaved (DType::F32_R16, F16_R16, BF16_R16,
// BF16_R16P): packing, row reading and the scalar reference of their kernels. Reached through packed.h's generic entry
// points; this header is for packed.cpp and the SIMD kernels.
//
// Why: the row layout dots one weight row with one token at a time, converting the row's halves
// to f32 again for every token and ending each dot with a horizontal sum; prefill ran at
// 0.5-0.8x llama.cpp on F16 files (F32 ones: 0.55x, and decode 0.64x). Interleaved, one 256-bit load is the same column of 16 rows,
// converted once and multiplied into a tile of tokens' accumulators.
//
// Layout: for each group of 16 rows, for each column c, 32 bytes (F32_R16: 64): the 16 rows'
// values of column c (row 0..15), as stored by the source (2 bytes per row and column, as F16 /
// BF16; 4 for F32).
// Activations stay f32 (PackedActivations::xf), one row per token, the rows an odd number of
// cache lines apart: a tile reads the same column of up to 16 rows, which at a stride of 8 KiB
// (k = 2048) would all fall in one L1 set (T=16 ran at half the T=8 rate with k = 1024). Per row the product is a single chain of f32
// fmas over the columns in order, acc = fma(w_c, x_c, acc), which the kernels keep lane by lane,
// so they are bit-identical to the reference.
//
// BF16_R16P, where the CPU has AVX512_BF16: the same 16 rows interleaved by column pairs, for
// vdpbf16ps, which multiplies a pair of bf16 weights by a pair of bf16 activations into each
// f32 lane: 32 multiply-adds per instruction where an f32 fma does 16. For each group, for each
// pair p, 64 bytes: row i's columns 2p, 2p + 1 at bytes 4i, 4i + 2. The activations are rounded
// to bf16 (to nearest even; PackedActivations::xb, rows ldx apart as above), as llama.cpp's
// BF16 path and bf16 inference in PyTorch do; the products themselves are exact in f32. Per
// row two f32 chains, pairs 0, 2, 4, ... and 1, 3, 5, ..., each pair adding its odd column's
// product, then its even one's, as vdpbf16ps does, with bf16 subnormals read as zero and f32
// subnormal sums flushed to zero; the result is the sum of the two chains. Two chains let one
// token (decode) run at twice the instruction's latency-bound rate, and every token count runs
// the same arithmetic, so a batch's composition does not change a token's result.
#pragma once

#include <cstdint>

#include "backends/cpu/packed.h"

namespace autoglm::cpu {

inline constexpr size_t kFloatR16ColumnBytes = 32;  // one column of 16 rows of 2-byte values
inline constexpr size_t kF32R16ColumnBytes = 64;    // ... of F32_R16's 4-byte values
inline constexpr size_t kBf16PairBytes = 64;        // BF16_R16P: one column pair of 16 rows

inline bool is_float_r16(DType t) {
  return t == DType::F32_R16 || t == DType::F16_R16 || t == DType::BF16_R16 || t == DType::BF16_R16P;
}

// An owned `packed` copy of an F32 / F16 / BF16 matrix (rows % 16 == 0; BF16_R16P: columns even).
Tensor pack_float_r16(const Tensor& w, DType packed);
void dequantize_float_r16_row(const Tensor& packed, int64_t r, float* out);
// act.xf = x's rows, ldx apart; act.nb = columns.
Status prepare_float_activations(const Tensor& x, PackedActivations& act, ThreadPool& pool);
// act.xb = x's rows rounded to bf16, ldx apart; act.nb = columns (even).
Status prepare_bf16_activations(const Tensor& x, PackedActivations& act, ThreadPool& pool);
void gemm_bf16_r16p_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                              float* y, int64_t ldy);
void gemm_f32_r16_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                            float* y, int64_t ldy);
void gemm_f16_r16_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                            float* y, int64_t ldy);
void gemm_bf16_r16_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                             float* y, int64_t ldy);

namespace simd {
void gemm_f32_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                         float* y, int64_t ldy);
void gemm_f32_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                       float* y, int64_t ldy);
void gemm_f16_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                         float* y, int64_t ldy);
void gemm_bf16_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy);
void gemm_f16_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                       float* y, int64_t ldy);
void gemm_bf16_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy);
// Two adjacent row groups (wgroup, and the next group right after it) into y0 / y1: PackedGemmPairFn.
void gemm_f32_r16_pair_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                              float* y0, float* y1, int64_t ldy);
void gemm_f16_r16_pair_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                              float* y0, float* y1, int64_t ldy);
void gemm_bf16_r16_pair_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                               float* y0, float* y1, int64_t ldy);
// Only where cpu_has_avx512_bf16().
void gemm_bf16_r16p_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy);
}  // namespace simd

}  // namespace autoglm::cpu
