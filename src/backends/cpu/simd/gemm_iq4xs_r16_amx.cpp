// AMX kernel for IQ4_XS_R16 (backends/cpu/packed_iq4xs.h): 16 tokens at a time, one TDPBSSD per
// 32-column sub-block (amx_tiles.h's k32 configuration).
//
// Per super-block s and sub-block j: the nibbles looked up in the signed IQ4 grid are the B tile
// (register c: columns 4c..4c+3 of the 16 rows, as the VNNI kernel builds them), the 16 tokens'
// Q8_K bytes the A tile, read in place; C_j[t][i] is the exact integer dot. Its product with
// the rows' factor ls - 32 is formed in f32 - |C * f| <= 32 * 128 * 127 * 32 < 2^24, exact - and
// goes back to int32 for the sum (two products may not stay exact), so the super-block's sum is
// the reference's int32 and one fma per super-block (as gemm_iq4_xs_r16_avx512's) makes results
// bit-identical to gemm_iq4_xs_r16_reference. Fewer than 16 tokens (and a tail) go to the
// AVX-512 kernel.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "backends/cpu/packed_iq4xs.h"
#include "backends/cpu/simd/amx_tiles.h"
#include "backends/cpu/simd/packed_simd.h"
#include "backends/cpu/simd/scales192_avx512.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

using amx::kTileTokens;

void tile16(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y, int64_t ldy) {
  alignas(64) int8_t w[8][8][64];                // sub-block j, tile row c: columns 4c..4c+3
  alignas(64) int32_t dots[8][kTileTokens][16];  // C_j
  alignas(64) float acc[kTileTokens][16] = {};
  const auto* a0 = reinterpret_cast<const quant::block_q8_K*>(act.q.data()) + t0 * act.nb;
  const size_t a_stride = static_cast<size_t>(act.nb) * sizeof(quant::block_q8_K);
  const __m512i mask = _mm512_set1_epi8(0x0F);
  const __m512i grid = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(kIQ4Grid.s)));
  for (int64_t s = 0; s < nb; ++s) {
    const uint8_t* sb = wgroup + static_cast<size_t>(s) * kIQ4XSR16Bytes;
    for (int j = 0; j < 8; ++j) {
      const uint8_t* q = sb + kIQ4XSR16QOff + 256 * j;
      for (int c = 0; c < 4; ++c) {
        const __m512i v = _mm512_loadu_si512(q + 64 * c);
        _mm512_store_si512(w[j][c], _mm512_shuffle_epi8(grid, _mm512_and_si512(v, mask)));
        _mm512_store_si512(w[j][c + 4], _mm512_shuffle_epi8(grid, _mm512_and_si512(_mm512_srli_epi16(v, 4), mask)));
      }
    }
    amx::super_block_dots32(a0[s].qs, a_stride, w, dots);
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb)));
    alignas(64) uint8_t u[128];
    unpack_scales96(sb + kIQ4XSR16ScalesOff, sb + kIQ4XSR16TopOff, u);
    __m512 f[8];
    for (int j = 0; j < 8; ++j) {
      const __m512i ls = _mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(u + 16 * j)));
      f[j] = _mm512_cvtepi32_ps(_mm512_sub_epi32(ls, _mm512_set1_epi32(32)));
    }
    for (int t = 0; t < kTileTokens; ++t) {
      amx::prefetch_share(sb + kIQ4XSR16Bytes, kIQ4XSR16Bytes, t, kTileTokens);  // the next super-block
      __m512i isum = _mm512_setzero_si512();
      for (int j = 0; j < 8; ++j) {
        const __m512 p = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_load_si512(dots[j][t])), f[j]);
        isum = _mm512_add_epi32(isum, _mm512_cvtps_epi32(p));
      }
      const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
      const __m512 dwy = _mm512_mul_ps(dw, _mm512_set1_ps(act.d[si]));
      _mm512_store_ps(acc[t], _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), dwy, _mm512_load_ps(acc[t])));
    }
  }
  for (int t = 0; t < kTileTokens; ++t) _mm512_storeu_ps(y + t * ldy, _mm512_load_ps(acc[t]));
}

}  // namespace

void gemm_iq4_xs_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                         float* y, int64_t ldy) {
  amx::for_tiles(
      amx::SubBlock::k32, nt, [&](int64_t t) { tile16(nb, wgroup, act, t0 + t, y + t * ldy, ldy); },
      [&](int64_t t, int64_t n) { gemm_iq4_xs_r16_avx512(nb, wgroup, act, t0 + t, n, y + t * ldy, ldy); });
}

}  // namespace autoglm::cpu::simd
