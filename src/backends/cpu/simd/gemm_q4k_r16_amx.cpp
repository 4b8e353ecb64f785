// AMX kernels for Q4_K_R16 and Q5_K_R16 (backends/cpu/packed_q4k.h): 16 tokens at a time meet a
// row group's 16 rows in one tile multiply per 32-column sub-block. Where the CPU has AMX-INT8 (Intel
// Sapphire Rapids and later) one TDPBSSD does 16 x 16 x 32 multiply-adds, as many as 128
// vpdpbusd; the work left is the per-sub-block scales, which stay on the vector units.
//
// Per super-block s and sub-block j: the weights' nibbles, unpacked into a tile that has the
// layout's own 4-byte interleave (chunk c of the packed block is tile row c), meet the 16
// tokens' Q8_K bytes read in place (one tile row per token, the activation rows' stride apart):
// C_j[t][i] = the exact integer dot of token t with row i. Stored, each C_j is scaled by the
// rows' 6-bit scales in f32: |sc * dot| <= 63 * 32 * 127 * 15 < 2^22, so every product is exact,
// and so is the sum of four (< 2^24) - sub-blocks 0-3 and 4-7 sum apart, and their f32 sum rounds
// as the reference's int32 sum converted once. The mins term and the two fmas per super-block
// are gemm_q4_K_r16_avx512's, so results are bit-identical to gemm_q4_K_r16_reference. Q5_K_R16
// ORs each register's fifth bits in (as the VNNI kernel); its products reach 63 * 32 * 128 * 31 <
// 2^23, so only pairs stay exact in f32, and the pairs sum in int32 (as gemm_q6k_r16_amx.cpp).
// Fewer than 16 tokens (and a tail) go to the AVX-512 kernel.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "backends/cpu/packed_q4k.h"
#include "backends/cpu/simd/amx_tiles.h"
#include "backends/cpu/simd/q4k_head_avx512.h"
#include "backends/cpu/simd/vnni_dot_avx512.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

using amx::kTileTokens;
template <bool kFive>
constexpr size_t kSuperBlockBytes = kFive ? kQ5KR16Bytes : kQ4KR16Bytes;

template <bool kFive>
void tile16(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y, int64_t ldy) {
  alignas(64) int8_t w[8][8][64];       // sub-block j, tile row c: the 16 rows' columns 4c..4c+3
  alignas(64) int32_t dots[8][kTileTokens][16];  // C_j
  alignas(64) float acc[kTileTokens][16] = {};
  const auto* a0 = reinterpret_cast<const quant::block_q8_K*>(act.q.data()) + t0 * act.nb;
  const size_t a_stride = static_cast<size_t>(act.nb) * sizeof(quant::block_q8_K);
  const __m512i mask = _mm512_set1_epi8(0x0F);
  for (int64_t s = 0; s < nb; ++s) {
    const uint8_t* sb = wgroup + static_cast<size_t>(s) * kSuperBlockBytes<kFive>;
    const uint8_t* q = sb + kQ4KR16QOff;
    if constexpr (kFive) {  // a sub-block's 8 registers at once: or_fifth_bits spreads its bits over them
      for (int j = 0; j < 8; ++j) {
        __m512i r[8];
        for (int c = 0; c < 8; ++c) {
          const __m512i v = _mm512_loadu_si512(q + 512 * (j / 2) + 64 * c);
          r[c] = _mm512_and_si512(j % 2 ? _mm512_srli_epi16(v, 4) : v, mask);
        }
        vnni::or_fifth_bits(r, _mm512_loadu_si512(sb + kQ5KR16HighOff + 64 * j));
        for (int c = 0; c < 8; ++c) _mm512_store_si512(w[j][c], r[c]);
      }
    } else {
      for (int p = 0; p < 4; ++p) {
        for (int c = 0; c < 8; ++c) {
          const __m512i v = _mm512_loadu_si512(q + 512 * p + 64 * c);
          _mm512_store_si512(w[2 * p][c], _mm512_and_si512(v, mask));
          _mm512_store_si512(w[2 * p + 1][c], _mm512_and_si512(_mm512_srli_epi16(v, 4), mask));
        }
      }
    }
    amx::super_block_dots32(a0[s].qs, a_stride, w, dots);
    const Q4KHead head(sb);
    __m512 sc[8];
    for (int j = 0; j < 8; ++j) sc[j] = _mm512_cvtepi32_ps(head.scales(j));
    for (int t = 0; t < kTileTokens; ++t) {
      // The next super-block into L2, a sixteenth of its lines per token: spread so, they
      // overlap this one's arithmetic (llama3.2-1b Q4_K x16 255 -> 284 t/s, medians of 3
      // alternating rounds); all 36 at once read slower than none (241), as do 2 or 3 ahead or
      // the T0 hint (271-281).
      amx::prefetch_share(sb + kSuperBlockBytes<kFive>, kSuperBlockBytes<kFive>, t, kTileTokens);
      const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
      const __m512i im = head.mins_dot(act.msum.data() + si * 4);
      const __m512 dy = _mm512_set1_ps(act.d[si]);
      __m512 a = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(im), _mm512_mul_ps(head.dm, dy), _mm512_load_ps(acc[t]));
      __m512 sum;
      if constexpr (kFive) {  // pairs exact in f32, their sum in int32
        sum = _mm512_cvtepi32_ps(amx::pair_sums<8>(dots, sc, t));
      } else {  // halves of four exact in f32; their sum rounds as the int32 one converted
        __m512 lo = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_load_si512(dots[0][t])), sc[0]);
        __m512 hi = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_load_si512(dots[4][t])), sc[4]);
        for (int j = 1; j < 4; ++j) {
          lo = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(dots[j][t])), sc[j], lo);
          hi = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(dots[4 + j][t])), sc[4 + j], hi);
        }
        sum = _mm512_add_ps(lo, hi);
      }
      a = _mm512_fmadd_ps(sum, _mm512_mul_ps(head.dw, dy), a);
      _mm512_store_ps(acc[t], a);
    }
  }
  for (int t = 0; t < kTileTokens; ++t) _mm512_storeu_ps(y + t * ldy, _mm512_load_ps(acc[t]));
}

}  // namespace

void gemm_q4_K_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                       float* y, int64_t ldy) {
  amx::for_tiles(
      amx::SubBlock::k32, nt, [&](int64_t t) { tile16<false>(nb, wgroup, act, t0 + t, y + t * ldy, ldy); },
      [&](int64_t t, int64_t n) { gemm_q4_K_r16_avx512(nb, wgroup, act, t0 + t, n, y + t * ldy, ldy); });
}

void gemm_q5_K_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                       float* y, int64_t ldy) {
  amx::for_tiles(
      amx::SubBlock::k32, nt, [&](int64_t t) { tile16<true>(nb, wgroup, act, t0 + t, y + t * ldy, ldy); },
      [&](int64_t t, int64_t n) { gemm_q5_K_r16_avx512(nb, wgroup, act, t0 + t, n, y + t * ldy, ldy); });
}

}  // namespace autoglm::cpu::simd
