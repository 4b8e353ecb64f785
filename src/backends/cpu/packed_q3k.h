// Q3_K with 16 rows interleaved (DType::Q3_K_R16): packing, row dequantization and the scalar
// reference of its kernel. Reached through packed.h's generic entry points; this header is for
// packed.cpp and the SIMD kernel. Q3_K_M files hold Q3_K in most matrices, which a row kernel
// ran at a third of llama.cpp's prefill speed.
//
// Layout: for each group of 16 rows, for each 256-column super-block, one packed super-block of
// 1760 bytes (110 per row, as Q3_K):
//   [0, 32)       16 f16 d (row 0..15)
//   [32, 224)     the rows' 6-bit sub-block scales as stored (s, value s - 32), u[16j + i] = that
//                 of sub-block j (0..15, 16 columns each) of row i, kept in 192 bytes as Q4_K_R16
//                 keeps its scales and mins (pack_scales192).
//   [224, 1248)   low 2 bits: for unit j (columns 32j..32j+31), 2 chunks of 64 bytes; in chunk
//                 h, byte 4i + t holds those of row i's column 32j + 16h + 4f + t in bits 2f, 2f+1
//                 (f = 0..3): the registers of column groups 4h + f.
//   [1248, 1760)  high bit: for unit j, 64 bytes; byte 4i + t holds in bit c that of row i's
//                 column 32j + 4c + t.
// Weights are u = q + 4 (0..7, Q3_K's low bits plus 4 where its hmask bit is set). Per row and
// super-block the product is d * dy * sum_j (s_j - 32) * (dot_j(u, y) - 4 * ysum_j) with exact
// integer sums; the -4 * ysum_j terms come from Q8_K's bsums (PackedActivations::bias).
#pragma once

#include <cstdint>

#include "backends/cpu/packed.h"

namespace autoglm::cpu {

inline constexpr size_t kQ3KR16Bytes = 1760;  // one packed super-block of 16 rows
inline constexpr size_t kQ3KR16ScalesOff = 32, kQ3KR16LowOff = 224, kQ3KR16HighOff = 1248;

// An owned Q3_K_R16 copy of a Q3_K matrix (rows % 16 == 0).
Tensor pack_q3_K_r16(const Tensor& w);
void dequantize_q3_K_r16_row(const Tensor& packed, int64_t r, float* out);
void gemm_q3_K_r16_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                             int64_t nt, float* y, int64_t ldy);

namespace simd {
void gemm_q3_K_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy);
void gemm_q3_K_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy);
// Only where cpu_has_avx_vnni() (packed_avx_vnni_gemm_for): gemm_q36k_r16_avxvnni.cpp.
void gemm_q3_K_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy);
}  // namespace simd

}  // namespace autoglm::cpu
