// Q6_K with 16 rows interleaved (DType::Q6_K_R16): packing, row dequantization and the scalar
// reference of its kernels. Reached through packed.h's generic entry points; this header is for
// packed.cpp and the SIMD kernel. Real Q4_K_M files hold Q6_K in the tied output table (llama3.2-1b:
// 128256 x 2048, a quarter of the file) and in half the layers' ffn_down and attn_v, where a row
// kernel made prefill ~7x slower than the packed Q4_K matrices beside them.
//
// Layout: for each group of 16 rows, for each 256-column super-block s, one packed super-block
// of 3360 bytes (210 per row, as Q6_K):
//   [0, 32)       16 f16 d (row 0..15)
//   [32, 288)     the rows' int8 sub-block scales: byte 16j + i = scale of sub-block j (0..15,
//                 16 columns each) of row i.
//   [288, 2336)   low 4 bits, as Q4_K_R16's q: for pair p (0..3, 64 columns), 8 chunks of 64
//                 bytes; in chunk c, byte 4i + t holds row i's column 64p + 4c + t in its low
//                 nibble and 64p + 32 + 4c + t in its high nibble.
//   [2336, 3360)  top 2 bits: for pair p, 4 chunks of 64 bytes; in chunk c, byte 4i + t holds
//                 those of row i's columns 64p + 16f + 4c + t in bits 2f, 2f + 1 (f = 0..3).
// Weights are u = q + 32 (0..63, unsigned, as stored by Q6_K). Per row and super-block the
// product is d * dy * sum_j sc_j * (dot_j(u, y) - 32 * ysum_j) with exact integer sums; the
// -32 * ysum_j terms come from Q8_K's bsums (PackedActivations::bias, 16 per super-block).
#pragma once

#include <cstdint>

#include "backends/cpu/packed.h"

namespace autoglm::cpu {

inline constexpr size_t kQ6KR16Bytes = 3360;  // one packed super-block of 16 rows
inline constexpr size_t kQ6KR16ScalesOff = 32, kQ6KR16LowOff = 288, kQ6KR16HighOff = 2336;

// An owned Q6_K_R16 copy of a Q6_K matrix (rows % 16 == 0).
Tensor pack_q6_K_r16(const Tensor& w);
void dequantize_q6_K_r16_row(const Tensor& packed, int64_t r, float* out);
void gemm_q6_K_r16_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                             int64_t nt, float* y, int64_t ldy);

namespace simd {
void gemm_q6_K_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy);
// The above past one 8-token tile: gemm_kquant_shared_units_avx512.cpp.
void gemm_q6_K_r16_shared_units_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                                       int64_t nt, float* y, int64_t ldy);
// Only where cpu_has_amx_int8() (packed_amx_gemm_for).
void gemm_q6_K_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                       float* y, int64_t ldy);
void gemm_q6_K_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy);
// Only where cpu_has_avx_vnni() (packed_avx_vnni_gemm_for): gemm_q36k_r16_avxvnni.cpp.
void gemm_q6_K_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy);
}  // namespace simd

}  // namespace autoglm::cpu
