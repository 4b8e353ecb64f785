// Q4_K with 16 rows interleaved (DType::Q4_K_R16): packing, row dequantization, the Q8_K
// activations its kernels read and the scalar reference of those kernels. Reached through
// packed.h's generic entry points; this header is for packed.cpp and the SIMD kernel.
//
// Layout: for each group of 16 rows, for each 256-column super-block s, one packed super-block
// of 2368 bytes (148 per row, 4 more than Q4_K's 144: scales and mins are stored as bytes, not
// in 6-bit fields, so the kernel loads them instead of unpacking 12 bytes per row):
//   [0, 32)      16 f16 d (row 0..15)
//   [32, 64)     16 f16 dmin
//   [64, 192)    sc: byte 16j + i = 6-bit scale of sub-block j (0..7) of row i
//   [192, 320)   m:  for sub-block pair p (0..3), 32 bytes; byte 2i + h = min of sub-block 2p + h
//                of row i (so widened to int16, 32-bit lane i holds row i's pair: vpdpwssd)
//   [320, 2368)  q:  for pair p, 8 chunks of 64 bytes; in chunk c, byte 4i + t holds row i's
//                column 64p + 4c + t in its low nibble and 64p + 32 + 4c + t in its high
//                nibble (values 0..15, exactly Q4_K's qs regrouped 4 bytes at a time).
// Per row and super-block the product is d*dy*sum_j sc_j*dot_j - dmin*dy*sum_j m_j*ysum_j with
// exact integer sums: the unsigned nibbles meet Q8_K's signed activations without an offset.
#pragma once

#include <cstdint>

#include "backends/cpu/packed.h"

namespace autoglm::cpu {

inline constexpr size_t kQ4KR16Bytes = 2368;  // one packed super-block of 16 rows

// An owned Q4_K_R16 copy of a Q4_K matrix (rows % 16 == 0).
Tensor pack_q4_K_r16(const Tensor& w);
void dequantize_q4_K_r16_row(const Tensor& packed, int64_t r, float* out);
// act.q: n rows of act.nb block_q8_K (the row kernel's quantizer); act.d: their f32 scales;
// act.msum[(t * nb + s) * 4 + p]: int16 sums of sub-blocks 2p (low half) and 2p + 1 (high).
Status prepare_q8_K_activations(const Tensor& x, PackedActivations& act, ThreadPool& pool);
void gemm_q4_K_r16_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                             int64_t nt, float* y, int64_t ldy);

namespace simd {
void gemm_q4_K_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy);
void gemm_q4_K_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy);
}  // namespace simd

}  // namespace autoglm::cpu
