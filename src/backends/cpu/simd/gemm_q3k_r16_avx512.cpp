// AVX-512 VNNI kernel for Q3_K_R16 (backends/cpu/packed_q3k.h), shaped as the Q6_K_R16 one: per
// super-block and 32-column unit j, the 16 rows' 3-bit weights are built in 8 registers (4
// columns x 16 rows each) from their low 2 bits and high bit; for each token of a tile, two
// chains of 4 vpdpbusd (one per 16-column sub-block, started from -4 * the token's sub-block
// sum) give the rows' integer dots, multiplied by the rows' scales (s - 32) into an exact int32
// sum. Per super-block one fma, exactly as gemm_q3_K_r16_reference, so results are bit-identical
// to it. A tile of up to kTile tokens shares every weight register.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <algorithm>

#include "backends/cpu/packed_q3k.h"
#include "backends/cpu/simd/scales192_avx512.h"
#include "backends/cpu/simd/token_tiles.h"
#include "backends/cpu/simd/vnni_dot_avx512.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

constexpr int kTile = 8;  // tokens per register tile
// Prefetch as the Q6_K_R16 kernel: into L2, 1-2 tokens 2 super-blocks ahead, 3+ 4 ahead, an
// eighth of that super-block's lines per unit.
template <int NT>
constexpr size_t kAheadSuperBlocks = NT <= 2 ? 2 : 4;
constexpr int kSuperBlockLines = static_cast<int>((kQ3KR16Bytes + 63) / 64);
constexpr int kLinesPerUnit = (kSuperBlockLines + 7) / 8;

// Column group C (0..7) of a unit: its low 2 bits (bits 2 (C % 4) of chunk C / 4) OR'ed with its
// high bit (bit C of `high`) moved to bit 2. 16-bit shifts: bits crossing into the next byte
// land outside the masks.
template <int C>
inline __m512i weights(const uint8_t* low, __m512i high) {
  __m512i l = _mm512_loadu_si512(low + 64 * (C / 4));
  if constexpr (C % 4 != 0) l = _mm512_srli_epi16(l, 2 * (C % 4));
  __m512i h;
  if constexpr (C < 2) h = _mm512_slli_epi16(high, 2 - C);
  if constexpr (C == 2) h = high;
  if constexpr (C > 2) h = _mm512_srli_epi16(high, C - 2);
  h = _mm512_and_si512(h, _mm512_set1_epi8(4));
  // (l & 3) | h: A & C | B is ternary-logic 0xEC.
  return _mm512_ternarylogic_epi32(l, h, _mm512_set1_epi8(3), 0xEC);
}

template <int NT>
inline void tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                 int64_t ldy) {
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  const auto* a0 = reinterpret_cast<const quant::block_q8_K*>(act.q.data()) + t0 * act.nb;
  const size_t astride = static_cast<size_t>(act.nb);
  const __m512i k32 = _mm512_set1_epi32(32);
  for (int64_t s = 0; s < nb; ++s) {
    const uint8_t* sb = wgroup + static_cast<size_t>(s) * kQ3KR16Bytes;
    alignas(64) uint8_t u[256];
    unpack_scales192(sb + kQ3KR16ScalesOff, u);
    __m512i isum[NT];
    for (int t = 0; t < NT; ++t) isum[t] = _mm512_setzero_si512();
    for (int j = 0; j < 8; ++j) {
      for (int l = 0; l < kLinesPerUnit; ++l) {
        const int line = std::min(kLinesPerUnit * j + l, kSuperBlockLines - 1);
        _mm_prefetch(reinterpret_cast<const char*>(sb + kAheadSuperBlocks<NT> * kQ3KR16Bytes + 64 * line), _MM_HINT_T1);
      }
      const uint8_t* low = sb + kQ3KR16LowOff + 128 * j;
      const __m512i high = _mm512_loadu_si512(sb + kQ3KR16HighOff + 64 * j);
      const __m512i w[8] = {weights<0>(low, high), weights<1>(low, high), weights<2>(low, high), weights<3>(low, high),
                            weights<4>(low, high), weights<5>(low, high), weights<6>(low, high), weights<7>(low, high)};
      const __m512i sc0 = _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(u + 32 * j))), k32);
      const __m512i sc1 = _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(u + 32 * j + 16))), k32);
      for (int t = 0; t < NT; ++t) {
        const int8_t* qs = a0[static_cast<size_t>(t) * astride + static_cast<size_t>(s)].qs + 32 * j;
        const int32_t* bias = act.bias.data() + (static_cast<size_t>((t0 + t) * act.nb + s)) * 16 + 2 * j;
        isum[t] = _mm512_add_epi32(isum[t], vnni::scaled_sub_block_pair(bias, w, qs, sc0, sc1));
      }
    }
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb)));
    for (int t = 0; t < NT; ++t) {
      const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_mul_ps(dw, _mm512_set1_ps(act.d[si])), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * ldy, acc[t]);
}

}  // namespace

void gemm_q3_K_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy) {
  for_token_tiles<kTile>(nt, [&](auto n_tok, int64_t t) {
    tile<decltype(n_tok)::value>(nb, wgroup, act, t0 + t, y + t * ldy, ldy);
  });
}

}  // namespace autoglm::cpu::simd
