// AMX kernel for Q6_K_R16 (backends/cpu/packed_q6k.h): 16 tokens at a time, one TDPBSSD per
// 16-column sub-block (16 x 16 x 16 multiply-adds; amx_tiles.h's k16 configuration).
//
// Per super-block s and unit j (32 columns): the rows' weights (q6k_weights_avx512.h) less 32 are
// signed bytes, stored as two B tiles (sub-blocks 2j and 2j + 1); the 16 tokens' Q8_K bytes are
// the A tiles, read in place. C_k[t][i] is then the exact dot_k(u, y) - 32 * ysum_k of the
// reference. Its scale product is formed in f32: |sc * C| <= 128 * 16 * 128 * 32 = 2^23, exact,
// and so is the sum of a pair of them (<= 2^24); each pair sum goes back to int32 and the eight
// add exactly, so the super-block's sum is the reference's int32 and one fma per super-block
// (as gemm_q6_K_r16_avx512's) makes results bit-identical to gemm_q6_K_r16_reference. Fewer than
// 16 tokens (and a tail) go to the AVX-512 kernel.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "backends/cpu/packed_q6k.h"
#include "backends/cpu/simd/amx_tiles.h"
#include "backends/cpu/simd/q6k_weights_avx512.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

using amx::kTileTokens;

// Sub-block k (16 columns) of the super-block into C tile C.
#define AG_AMX_SUB_BLOCK(C, A, B, k) AG_AMX_DOTS(C, A, B, as + 16 * (k), a_stride, w[(k) / 2][4 * ((k) % 2)], dots[k][0])

void tile16(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y, int64_t ldy) {
  alignas(64) int8_t w[8][8][64];                // unit j, register c (sub-block 2j: c < 4)
  alignas(64) int32_t dots[16][kTileTokens][16];  // C_k
  alignas(64) float acc[kTileTokens][16] = {};
  const auto* a0 = reinterpret_cast<const quant::block_q8_K*>(act.q.data()) + t0 * act.nb;
  const size_t a_stride = static_cast<size_t>(act.nb) * sizeof(quant::block_q8_K);
  const __m512i offset = _mm512_set1_epi8(32);
  for (int64_t s = 0; s < nb; ++s) {
    const uint8_t* sb = wgroup + static_cast<size_t>(s) * kQ6KR16Bytes;
    for (int j = 0; j < 8; ++j) {
      __m512i r[8];
      q6k_unit(sb, j, r);
      for (int c = 0; c < 8; ++c) _mm512_store_si512(w[j][c], _mm512_sub_epi8(r[c], offset));
    }
    const int8_t* as = a0[s].qs;
    for (int k = 0; k < 16; k += 4) {
      AG_AMX_SUB_BLOCK(0, 4, 5, k);
      AG_AMX_SUB_BLOCK(1, 6, 7, k + 1);
      AG_AMX_SUB_BLOCK(2, 4, 5, k + 2);
      AG_AMX_SUB_BLOCK(3, 6, 7, k + 3);
    }
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb)));
    __m512 sc[16];
    for (int k = 0; k < 16; ++k) {
      sc[k] = _mm512_cvtepi32_ps(
          _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sb + kQ6KR16ScalesOff + 16 * k))));
    }
    for (int t = 0; t < kTileTokens; ++t) {
      // The next super-block into L2, spread over the tokens.
      amx::prefetch_share(sb + kQ6KR16Bytes, kQ6KR16Bytes, t, kTileTokens);
      const __m512i isum = amx::pair_sums<16>(dots, sc, t);
      const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
      const __m512 dwy = _mm512_mul_ps(dw, _mm512_set1_ps(act.d[si]));
      _mm512_store_ps(acc[t], _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), dwy, _mm512_load_ps(acc[t])));
    }
  }
  for (int t = 0; t < kTileTokens; ++t) _mm512_storeu_ps(y + t * ldy, _mm512_load_ps(acc[t]));
}

#undef AG_AMX_SUB_BLOCK

}  // namespace

void gemm_q6_K_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                       float* y, int64_t ldy) {
  amx::for_tiles(
      amx::SubBlock::k16, nt, [&](int64_t t) { tile16(nb, wgroup, act, t0 + t, y + t * ldy, ldy); },
      [&](int64_t t, int64_t n) { gemm_q6_K_r16_avx512(nb, wgroup, act, t0 + t, n, y + t * ldy, ldy); });
}

}  // namespace autoglm::cpu::simd
