// AVX-512 VNNI kernel for Q6_K_R16 (backends/cpu/packed_q6k.h). Per super-block and 32-column
// unit j: the 16 rows' 6-bit weights are built in 8 registers (4 columns x 16 rows each) from
// their low nibbles and top 2 bits; for each token of a tile, two chains of 4 vpdpbusd (one per
// 16-column sub-block, started from -32 * the token's sub-block sum) give the rows' integer
// dots, multiplied by the rows' int8 scales into an exact int32 sum. Per super-block one fma,
// exactly as gemm_q6_K_r16_reference, so results are bit-identical to it. A tile of up to
// kTile tokens shares every weight register.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <algorithm>

#include "backends/cpu/packed_q6k.h"
#include "backends/cpu/simd/token_tiles.h"
#include "backends/cpu/simd/vnni_dot_avx512.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

constexpr int kTile = 8;  // tokens per register tile
// Prefetch into L2, 1-2 tokens 2 super-blocks ahead, 3+ 4 ahead, an eighth of that
// super-block's lines per unit. Unlike the Q4_K_R16 kernel's, L1 requests (the T0 hint) read
// worse here: bench_kernels --stream, one token, 1 GiB, slow host state (probe 35-37 GB/s):
// T0 1 / 2 / 4 ahead 75 / 77 / 77% of the probe; T1 2 / 4 / 8 ahead 93-94 / 87 / 90%.
template <int NT>
constexpr size_t kAheadSuperBlocks = NT <= 2 ? 2 : 4;
constexpr int kSuperBlockLines = static_cast<int>((kQ6KR16Bytes + 63) / 64);
constexpr int kLinesPerUnit = (kSuperBlockLines + 7) / 8;

// Column group c (0..7) of unit j: low nibbles (high ones for odd j) OR'ed with the top 2 bits
// of field f = 2 (j % 2) + c / 4, moved to bits 4-5.
template <int C, bool kHigh>
inline __m512i weights(const uint8_t* low, const uint8_t* top) {
  const __m512i v = _mm512_loadu_si512(low + 64 * C);
  const __m512i t = _mm512_loadu_si512(top + 64 * (C % 4));
  constexpr int f = 2 * (kHigh ? 1 : 0) + C / 4;
  __m512i tb;
  if constexpr (f == 0) tb = _mm512_slli_epi16(t, 4);
  if constexpr (f == 1) tb = _mm512_slli_epi16(t, 2);
  if constexpr (f == 2) tb = t;
  if constexpr (f == 3) tb = _mm512_srli_epi16(t, 2);
  tb = _mm512_and_si512(tb, _mm512_set1_epi8(0x30));
  // (nibbles & 0x0F) | top bits: A & C | B is ternary-logic 0xEC.
  return _mm512_ternarylogic_epi32(kHigh ? _mm512_srli_epi16(v, 4) : v, tb, _mm512_set1_epi8(0x0F), 0xEC);
}

template <bool kHigh>
inline void load_unit(const uint8_t* low, const uint8_t* top, __m512i w[8]) {
  w[0] = weights<0, kHigh>(low, top);
  w[1] = weights<1, kHigh>(low, top);
  w[2] = weights<2, kHigh>(low, top);
  w[3] = weights<3, kHigh>(low, top);
  w[4] = weights<4, kHigh>(low, top);
  w[5] = weights<5, kHigh>(low, top);
  w[6] = weights<6, kHigh>(low, top);
  w[7] = weights<7, kHigh>(low, top);
}

template <int NT>
inline void tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                 int64_t ldy) {
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  const auto* a0 = reinterpret_cast<const quant::block_q8_K*>(act.q.data()) + t0 * act.nb;
  const size_t astride = static_cast<size_t>(act.nb);
  for (int64_t s = 0; s < nb; ++s) {
    const uint8_t* sb = wgroup + static_cast<size_t>(s) * kQ6KR16Bytes;
    __m512i isum[NT];
    for (int t = 0; t < NT; ++t) isum[t] = _mm512_setzero_si512();
    for (int j = 0; j < 8; ++j) {
      for (int l = 0; l < kLinesPerUnit; ++l) {
        const int line = std::min(kLinesPerUnit * j + l, kSuperBlockLines - 1);
        _mm_prefetch(reinterpret_cast<const char*>(sb + kAheadSuperBlocks<NT> * kQ6KR16Bytes + 64 * line),
                     _MM_HINT_T1);
      }
      const uint8_t* low = sb + kQ6KR16LowOff + 512 * (j / 2);
      const uint8_t* top = sb + kQ6KR16HighOff + 256 * (j / 2);
      __m512i w[8];
      if (j % 2) {
        load_unit<true>(low, top, w);
      } else {
        load_unit<false>(low, top, w);
      }
      const __m512i sc0 = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sb + kQ6KR16ScalesOff + 32 * j)));
      const __m512i sc1 = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sb + kQ6KR16ScalesOff + 32 * j + 16)));
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

void gemm_q6_K_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy) {
  for_token_tiles<kTile>(nt, [&](auto n_tok, int64_t t) {
    tile<decltype(n_tok)::value>(nb, wgroup, act, t0 + t, y + t * ldy, ldy);
  });
}

}  // namespace autoglm::cpu::simd
