// SIMD kernels for the interleaved Q8_0_R16 / Q4_0_R16 / Q5_0_R16 / Q4_1_R16 / Q5_1_R16 layouts (backends/cpu/packed.h),
// compiled with their ISA's flags; called only after the CPU check of dot.cpp said yes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backends/cpu/packed.h"

namespace autoglm::cpu::simd {

// The 32-column layouts the AVX-512 and AVX2 tiles share (packed.h): Q8_0, Q4_0, Q5_0, Q4_1, Q5_1.
enum class Layout { kQ8, kQ4, kQ5, kQ41, kQ51 };

// Bytes of one packed block (16 rows x 32 columns).
template <Layout L>
constexpr size_t kPackedBlockBytes = 16 * (L == Layout::kQ8    ? 34
                                           : L == Layout::kQ4  ? 18
                                           : L == Layout::kQ5  ? 22
                                           : L == Layout::kQ41 ? 20
                                                               : 24);
template <Layout L>
constexpr bool kHasMin = L == Layout::kQ41 || L == Layout::kQ51;
template <Layout L>
constexpr bool kHasFifthBits = L == Layout::kQ5 || L == Layout::kQ51;
// Where a block's quants start: after the 16 f16 scales (and the 16 mins).
template <Layout L>
constexpr size_t kQuantsOffset = kHasMin<L> ? 64 : 32;

void gemm_q8_0_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy);
void gemm_q4_0_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy);
void gemm_q5_0_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy);
void gemm_q4_1_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy);
void gemm_q5_1_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy);
void gemm_q8_0_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy);
void gemm_q4_0_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy);
void gemm_q5_0_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy);
void gemm_q4_1_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy);
void gemm_q5_1_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy);

}  // namespace autoglm::cpu::simd
