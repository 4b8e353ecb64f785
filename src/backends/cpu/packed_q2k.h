// Q2_K with 16 rows interleaved (DType::Q2_K_R16): packing, row dequantization and the scalar
// reference of its kernels. Reached through packed.h's generic entry points; this header is for
// packed.cpp and the SIMD kernels. Q2_K files hold Q2_K in most matrices, which the row kernel
// ran at 0.74x llama.cpp's prefill rate (llama3.2-1b).
//
// Layout: for each group of 16 rows, for each 256-column super-block, one packed super-block of
// 1344 bytes (84 per row, as Q2_K):
//   [0, 32)       16 f16 d (row 0..15)
//   [32, 64)      16 f16 dmin
//   [64, 192)     the rows' 4-bit sub-block scales: sc[16j + i] = that of sub-block j (0..15, 16
//                 columns each) of row i; byte k holds sc[k] in its low nibble and sc[k + 128] in
//                 its high one.
//   [192, 320)    the 4-bit mins, in pairs: mn[32p + 2i + h] = the min of sub-block 2p + h of
//                 row i (so widened to int16, 32-bit lane i holds row i's pair p: vpdpwssd);
//                 byte k holds mn[k] low and mn[k + 128] high.
//   [320, 1344)   the 2-bit values as Q3_K_R16's low bits (packed_q3k.h): for unit j (columns
//                 32j..32j+31), 2 chunks of 64 bytes; in chunk h, byte 4i + t holds those of row
//                 i's column 32j + 16h + 4f + t in bits 2f, 2f + 1 (f = 0..3).
// Per row and super-block the product is d * dy * sum_j sc_j * dot_j - dmin * dy * sum_j m_j *
// ysum_j with exact integer sums (ysum_j: Q8_K's bsums); mins first, as the Q4_K_R16 kernels.
#pragma once

#include <cstdint>

#include "backends/cpu/packed.h"

namespace autoglm::cpu {

inline constexpr size_t kQ2KR16Bytes = 1344;  // one packed super-block of 16 rows
inline constexpr size_t kQ2KR16DminOff = 32, kQ2KR16ScalesOff = 64, kQ2KR16MinsOff = 192, kQ2KR16QOff = 320;

// An owned Q2_K_R16 copy of a Q2_K matrix (rows % 16 == 0).
Tensor pack_q2_K_r16(const Tensor& w);
void dequantize_q2_K_r16_row(const Tensor& packed, int64_t r, float* out);
void gemm_q2_K_r16_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                             int64_t nt, float* y, int64_t ldy);

namespace simd {
void gemm_q2_K_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy);
void gemm_q2_K_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy);
// Only where cpu_has_avx_vnni() (packed_avx_vnni_gemm_for): gemm_q36k_r16_avxvnni.cpp.
void gemm_q2_K_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy);
}  // namespace simd

}  // namespace autoglm::cpu
