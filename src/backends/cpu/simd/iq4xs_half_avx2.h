// Half h (rows 8h..8h+7) of a packed IQ4_XS_R16 super-block as the 256-bit kernels read it (AVX2:
// gemm_iq4xs_r16_avx2.cpp, AVX-VNNI: gemm_iq4xs_r16_avxvnni.cpp): the tile both kernels run, which
// differ only in how they form a sub-block's scaled integer dots. Include only from translation
// units compiled with the AVX2 kernel flags (*_avx2.cpp, *_avxvnni.cpp); the anonymous namespace
// gives each its own copy.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "backends/cpu/packed.h"
#include "backends/cpu/packed_iq4xs.h"
#include "backends/cpu/simd/half_passes.h"
#include "backends/cpu/simd/scales192_avx2.h"

namespace autoglm::cpu::simd {
namespace {

// One tile of NT tokens over a 16-row group (simd/half_passes.h: two halves of 8 rows, for
// decode's one or two tokens alternating every super-block). Per super-block half and 32-column
// sub-block j: sub_block(s, j, q, f, isum) adds each token's exact int32 dot of the sub-block
// (its nibbles: 4 chunks of 64 bytes from q, this half's 32 bytes in each) times the rows'
// factors f (ls - 32, one per 32-bit lane) into isum[t]; then one fma, as
// gemm_iq4_xs_r16_reference, so results are bit-identical to it.
template <int NT, bool kAlsoFar, class SubBlock>
inline void iq4xs_half_tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                            int64_t ldy, SubBlock&& sub_block) {
  constexpr HalfPassShape kShape{kIQ4XSR16Bytes, 1, 2, 2, _MM_HINT_T0};
  half_pass_tile<kShape, NT, kAlsoFar>(nb, wgroup, y, ldy, [&](const uint8_t* sb, int64_t s, int h, __m256 acc[NT]) {
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sb + 16 * h)));
    alignas(32) uint8_t u[128];
    unpack_scales96(sb + kIQ4XSR16ScalesOff, sb + kIQ4XSR16TopOff, u);
    __m256i isum[NT];
    for (int t = 0; t < NT; ++t) isum[t] = _mm256_setzero_si256();
    for (int j = 0; j < 8; ++j) {
      const __m256i f = _mm256_sub_epi32(
          _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(u + 16 * j + 8 * h))), _mm256_set1_epi32(32));
      sub_block(s, j, sb + kIQ4XSR16QOff + 256 * j + 32 * h, f, isum);
    }
    for (int t = 0; t < NT; ++t) {
      const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(dw, _mm256_set1_ps(act.d[si])), acc[t]);
    }
  });
}

}  // namespace
}  // namespace autoglm::cpu::simd
