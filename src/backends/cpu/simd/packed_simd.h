// SIMD kernels for the interleaved Q8_0_R16 / Q4_0_R16 / Q5_0_R16 / Q4_1_R16 / Q5_1_R16 layouts (backends/cpu/packed.h),
// compiled with their ISA's flags; called only after the CPU check of dot.cpp said yes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backends/cpu/packed.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {

// The 32-column layouts the AVX-512 and AVX2 tiles share (packed.h): Q8_0, Q4_0, Q5_0, Q4_1, Q5_1,
// IQ4_NL (Q4_0's bytes; the nibbles index quant::kIQ4Values).
enum class Layout { kQ8, kQ4, kQ5, kQ41, kQ51, kIQ4NL };

// Bytes of one packed block (16 rows x 32 columns).
template <Layout L>
constexpr size_t kPackedBlockBytes = 16 * (L == Layout::kQ8    ? 34
                                           : L == Layout::kQ4 || L == Layout::kIQ4NL ? 18
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

// The IQ4 grid as vpshufb tables: signed (quant::kIQ4Values) and + 128 (1..241, IQ4_NL_R16's
// unsigned weights).
struct alignas(16) IQ4Grid {
  int8_t s[16];
  uint8_t u[16];
};
inline constexpr IQ4Grid kIQ4Grid = [] {
  IQ4Grid g{};
  for (int i = 0; i < 16; ++i) {
    g.s[i] = quant::kIQ4Values[i];
    g.u[i] = static_cast<uint8_t>(quant::kIQ4Values[i] + 128);
  }
  return g;
}();

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
void gemm_iq4_nl_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                            float* y, int64_t ldy);
// Only where cpu_has_amx_int8() (packed_amx_gemm_for).
void gemm_q4_0_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                      float* y, int64_t ldy);
void gemm_q5_0_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                      float* y, int64_t ldy);
void gemm_q4_1_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                      float* y, int64_t ldy);
void gemm_q5_1_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                      float* y, int64_t ldy);
void gemm_iq4_nl_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
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
void gemm_iq4_nl_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy);
// Only where cpu_has_avx_vnni() (packed_avx_vnni_gemm_for): gemm_r16_avxvnni.cpp.
void gemm_q8_0_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy);
void gemm_q4_0_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy);
void gemm_q5_0_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy);
void gemm_q4_1_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy);
void gemm_q5_1_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy);
void gemm_iq4_nl_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                             float* y, int64_t ldy);

}  // namespace autoglm::cpu::simd
