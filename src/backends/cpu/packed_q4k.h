// Q4_K and Q5_K with 16 rows interleaved (DType::Q4_K_R16, Q5_K_R16): packing, row
// dequantization, the Q8_K activations their kernels read and the scalar reference of those
// kernels. Reached through
// packed.h's generic entry points; this header is for packed.cpp and the SIMD kernel.
//
// Layout: for each group of 16 rows, for each 256-column super-block s, one packed super-block
// of 2304 bytes (144 per row, as Q4_K):
//   [0, 32)      16 f16 d (row 0..15)
//   [32, 64)     16 f16 dmin
//   [64, 256)    the rows' 6-bit scales and mins, 192 bytes, which unpack_q4_K_r16_scales
//                spreads into 256 bytes u (the kernels load those instead of unpacking 12
//                bytes per row the Q4_K way):
//                u[16j + i] = scale of sub-block j (0..7) of row i;
//                u[128 + 32p + 2i + h] = min of sub-block 2p + h of row i (so widened to
//                int16, 32-bit lane i holds row i's pair p: vpdpwssd).
//                Packed: for half v of u (v = 0 scales, 1 mins; V = u + 128v), bytes
//                [64 + 64v, 128 + 64v): byte k = V[k] & 15 | (V[k + 64] & 15) << 4 (k < 64), and
//                bytes [192 + 32v, 224 + 32v): byte k = the top 2 bits of V[k], V[k + 32],
//                V[k + 64], V[k + 96] in bits 0-1, 2-3, 4-5, 6-7 (k < 32).
//   [256, 2304)  q:  for pair p, 8 chunks of 64 bytes; in chunk c, byte 4i + t holds row i's
//                column 64p + 4c + t in its low nibble and 64p + 32 + 4c + t in its high
//                nibble (values 0..15, exactly Q4_K's qs regrouped 4 bytes at a time).
// Q5_K_R16: the same 2304 bytes (Q5_K's qs in place of Q4_K's), then [2304, 2816) the fifth
//   bits: for sub-block j (columns 32j..32j+31), 64 bytes; byte 4i + t holds in bit c the fifth
//   bit of row i's column 32j + 4c + t (the register layout of Q5_0_R16's). 176 bytes per row.
// Per row and super-block the product is d*dy*sum_j sc_j*dot_j - dmin*dy*sum_j m_j*ysum_j with
// exact integer sums: the unsigned 4- or 5-bit values meet Q8_K's signed activations without an
// offset.
#pragma once

#include <cstdint>

#include "backends/cpu/packed.h"

namespace autoglm::cpu {

inline constexpr size_t kQ4KR16Bytes = 2304;  // one packed super-block of 16 rows
inline constexpr size_t kQ4KR16ScalesOff = 64, kQ4KR16ScalesBytes = 192;
inline constexpr size_t kQ4KR16QOff = kQ4KR16ScalesOff + kQ4KR16ScalesBytes;  // 256
inline constexpr size_t kQ5KR16Bytes = 2816, kQ5KR16HighOff = kQ4KR16Bytes;  // Q5_K_R16

// 256 values of 6 bits in 192 bytes (the packing above, from `area` on); the scalar reference
// of the kernels' own vector unpacking (simd/scales192_avx512.h), and its inverse. Q3_K_R16
// keeps its scales so too.
void unpack_scales192(const uint8_t* area, uint8_t u[256]);
// Half of that scheme, 128 values: 64 bytes of nibbles at lo, 32 of top bits at hi (IQ4_XS_R16
// keeps its factors so).
void unpack_scales96(const uint8_t* lo, const uint8_t* hi, uint8_t u[128]);
void pack_scales96(const uint8_t u[128], uint8_t* lo, uint8_t* hi);
void pack_scales192(const uint8_t u[256], uint8_t* area);
// The 256 scale and min bytes u of packed super-block sb (layout above).
void unpack_q4_K_r16_scales(const uint8_t* sb, uint8_t u[256]);
void pack_q4_K_r16_scales(const uint8_t u[256], uint8_t* sb);

// An owned Q4_K_R16 / Q5_K_R16 copy of a Q4_K / Q5_K matrix (rows % 16 == 0).
Tensor pack_q45_K_r16(const Tensor& w);
void dequantize_q45_K_r16_row(const Tensor& packed, int64_t r, float* out);
// act.q: n rows of act.nb block_q8_K (the row kernel's quantizer); act.d: their f32 scales;
// for Q4_K_R16 / Q5_K_R16 act.msum[(t * nb + s) * 4 + p]: int16 sums of sub-blocks 2p (low half) and
// 2p + 1 (high); for Q6_K_R16 / Q3_K_R16 act.bias[(t * nb + s) * 16 + j]: -32 / -4 * the sum
// of sub-block j; for IQ4_XS_R16 act.bias[(t * nb + s) * 8 + j]: -128 * the sum of 32-column
// sub-block j.
Status prepare_q8_K_activations(const Tensor& x, PackedActivations& act, ThreadPool& pool, DType packed);
void gemm_q4_K_r16_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                             int64_t nt, float* y, int64_t ldy);
void gemm_q5_K_r16_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                             int64_t nt, float* y, int64_t ldy);

namespace simd {
void gemm_q4_K_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy);
void gemm_q5_K_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy);
// The two above past one 8-token tile: gemm_kquant_shared_units_avx512.cpp.
void gemm_q4_K_r16_shared_units_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                                       int64_t nt, float* y, int64_t ldy);
void gemm_q5_K_r16_shared_units_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                                       int64_t nt, float* y, int64_t ldy);
// Only where cpu_has_amx_int8() (packed_amx_gemm_for).
void gemm_q4_K_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                       float* y, int64_t ldy);
void gemm_q5_K_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                       float* y, int64_t ldy);
void gemm_q4_K_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy);
void gemm_q5_K_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy);
// Only where cpu_has_avx_vnni() (packed_avx_vnni_gemm_for): gemm_q4k_r16_avxvnni.cpp.
void gemm_q4_K_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy);
void gemm_q5_K_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy);
}  // namespace simd

}  // namespace autoglm::cpu
