// The tile the 256-bit kernels of the 32-column layouts (Q8_0_R16 / Q4_0_R16 / Q5_0_R16 / Q4_1_R16
// / Q5_1_R16 / IQ4_NL_R16) share: AVX2 (gemm_r16_avx2.cpp, vpmaddubsw) and AVX-VNNI
// (gemm_r16_avxvnni.cpp, vpdpbusd) differ only in how they form a block's integer dots.
// Include only from translation units compiled with the AVX2 kernel flags (*_avx2.cpp,
// *_avxvnni.cpp); the anonymous namespace gives each its own copy.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "backends/cpu/packed.h"
#include "backends/cpu/simd/half_passes.h"
#include "backends/cpu/simd/packed_simd.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

// One tile of NT tokens over a 16-row group, two halves of 8 rows (simd/half_passes.h; for
// decode's one or two tokens the halves alternate every 4 blocks: the second half's pass finds
// the chunk in L1, so each weight byte is still read from memory once). Per block and half,
// block_dots(q, h, a, b) returns dot(t): token t's exact integer dot of the half's 8 rows, the
// weights' offset included (q: the block's quants, a[t]: token t's Q8_0 activation row; the
// AVX2 form works all tokens out at once, the AVX-VNNI one keeps the weights and works each
// token's dot as it is asked for, so its fma follows at once); then per token the f32 scale
// product and one fma (Q4_1 / Q5_1 one more with the mins), as packed_gemm_reference, so results
// are bit-identical to it.
template <Layout L, int NT, bool kAlsoFar, class BlockDots>
inline void r16_half_tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                          int64_t ldy, BlockDots&& block_dots) {
  // Lines asked for 16 blocks ahead interleaved, as measured with the chunk of 4; the
  // one-pass-per-half order keeps the 8 it had.
  constexpr HalfPassShape kShape{kPackedBlockBytes<L>, 4, 16, 8, kHasFifthBits<L> ? _MM_HINT_T1 : _MM_HINT_T0};
  const quant::block_q8_0* a[NT];
  for (int t = 0; t < NT; ++t) a[t] = reinterpret_cast<const quant::block_q8_0*>(act.row(t0 + t));
  half_pass_tile<kShape, NT, kAlsoFar>(nb, wgroup, y, ldy, [&](const uint8_t* blk, int64_t b, int h, __m256 sum[NT]) {
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16 * h)));
    __m256 mw = _mm256_setzero_ps();
    if constexpr (kHasMin<L>) mw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 32 + 16 * h)));
    const auto dot = block_dots(blk + kQuantsOffset<L>, h, a, b);
    for (int t = 0; t < NT; ++t) {
      const size_t si = static_cast<size_t>((t0 + t) * act.nb + b);
      const __m256 sc = _mm256_mul_ps(dw, _mm256_set1_ps(act.d[si]));
      sum[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot(t)), sc, sum[t]);
      if constexpr (kHasMin<L>) sum[t] = _mm256_fmadd_ps(mw, _mm256_set1_ps(act.dsum[si]), sum[t]);
    }
  });
}

}  // namespace
}  // namespace autoglm::cpu::simd
