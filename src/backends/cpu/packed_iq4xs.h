// IQ4_XS with 16 rows interleaved (DType::IQ4_XS_R16): packing, row dequantization and the
// scalar reference of its kernels. Reached through packed.h's generic entry points; this header
// is for packed.cpp and the SIMD kernels. llama.cpp's IQ4_XS files hold it in every matrix whose
// rows are a multiple of 256 (IQ4_NL in the others).
//
// Layout: for each group of 16 rows, for each 256-column super-block, one packed super-block of
// 2176 bytes (136 per row, as IQ4_XS):
//   [0, 32)      16 f16 d (row 0..15)
//   [32, 128)    the rows' 6-bit factors ls (value ls - 32), u[16j + i] = that of sub-block j
//                (0..7, 32 columns each) of row i: 128 values kept as half of Q4_K_R16's
//                scales (packed_q4k.h: pack_scales96): [32, 96) low nibbles, [96, 128) top bits.
//   [128, 2176)  nibbles: for sub-block j, 4 chunks of 64 bytes; in chunk c, byte 4i + t holds
//                row i's column 32j + 4c + t in its low nibble and 32j + 16 + 4c + t in its
//                high one (IQ4_XS's qs[16j..] regrouped 4 bytes at a time, as Q4_0_R16's).
// Weights are the nibbles' grid values (quant::kIQ4Values); per row and super-block the
// product is d * dy * sum_j (ls_j - 32) * dot_j with exact integer dots. The VNNI kernel reads
// them as grid + 128 (unsigned) and starts each sub-block's dot from -128 times its activation
// sum (PackedActivations::bias, 8 per super-block).
#pragma once

#include <cstdint>

#include "backends/cpu/packed.h"

namespace autoglm::cpu {

inline constexpr size_t kIQ4XSR16Bytes = 2176;  // one packed super-block of 16 rows
inline constexpr size_t kIQ4XSR16ScalesOff = 32, kIQ4XSR16TopOff = 96, kIQ4XSR16QOff = 128;

// An owned IQ4_XS_R16 copy of an IQ4_XS matrix (rows % 16 == 0).
Tensor pack_iq4_xs_r16(const Tensor& w);
void dequantize_iq4_xs_r16_row(const Tensor& packed, int64_t r, float* out);
void gemm_iq4_xs_r16_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                               int64_t nt, float* y, int64_t ldy);

namespace simd {
void gemm_iq4_xs_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                            float* y, int64_t ldy);
// The above past one 8-token tile: gemm_kquant_shared_units_avx512.cpp.
void gemm_iq4_xs_r16_shared_units_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act,
                                         int64_t t0, int64_t nt, float* y, int64_t ldy);
// Only where cpu_has_amx_int8() (packed_amx_gemm_for).
void gemm_iq4_xs_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                         float* y, int64_t ldy);
void gemm_iq4_xs_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy);
// Only where cpu_has_avx_vnni() (packed_avx_vnni_gemm_for): gemm_iq4xs_r16_avxvnni.cpp.
void gemm_iq4_xs_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                             float* y, int64_t ldy);
}  // namespace simd

}  // namespace autoglm::cpu
