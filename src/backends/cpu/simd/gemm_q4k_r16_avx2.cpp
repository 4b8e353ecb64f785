// AVX2 kernels for Q4_K_R16 and Q5_K_R16 (backends/cpu/packed_q4k.h), for CPUs without AVX-512.
// One 256-bit register holds 4 columns of 8 rows, so a row group is worked as two halves of 8
// rows (simd/half_passes.h); for decode's one or two tokens the halves alternate every
// super-block.
// Per sub-block j: 8 vpmaddubsw of the weights against broadcast 4-byte groups of the Q8_K
// activations (|a| <= 127) add up in int16, and one vpmaddwd against the rows' 6-bit scales,
// each held twice per 32-bit lane, both widens and scales them: sc * (pair0 + pair1), exact in
// int32. Q4_K's nibbles (0..15) give pairs of at most 3810, so all 8 fit in int16 (<= 30480);
// Q5_K's 5-bit weights (0..31, fifth bit c of the unit's byte OR'ed in as bit 4) give pairs of
// at most 7874, so a vpmaddwd after every 4 (<= 31496). The mins term is 4 vpmaddwd of the rows'
// min pairs against the token's pairs of sub-block sums. Per super-block two fmas, mins first,
// as gemm_q4_K_r16_reference does, so results are bit-identical to it.
#include <immintrin.h>

#include "backends/cpu/packed_q4k.h"
#include "backends/cpu/simd/half_passes.h"
#include "backends/cpu/simd/q4k_half_avx2.h"
#include "backends/cpu/simd/simd.h"
#include "backends/cpu/simd/token_tiles.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

constexpr int kTile = 4;  // tokens per register tile

template <bool kFive, int NT, bool kAlsoFar>
inline void tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                 int64_t ldy) {
  const auto* a0 = reinterpret_cast<const quant::block_q8_K*>(act.q.data()) + t0 * act.nb;
  const size_t astride = static_cast<size_t>(act.nb);
  const __m256i mask = _mm256_set1_epi8(0x0F);
  q4k_half_tile<kFive, NT, kAlsoFar>(nb, wgroup, act, t0, y, ldy, [&](const uint8_t* sb, int64_t s, int h, const Q4KHalf& half,
                                                     __m256i isum[NT]) {
    for (int j = 0; j < 8; ++j) {
      const __m256i sc32 = half.scales(j);
      const __m256i sc = _mm256_or_si256(sc32, _mm256_slli_epi32(sc32, 16));  // (sc, sc) per row
      const uint8_t* q = sb + kQ4KR16QOff + 512 * (j / 2) + 32 * h;
      __m256i hb = _mm256_setzero_si256();
      if constexpr (kFive) hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb + kQ5KR16HighOff + 64 * j + 32 * h));
      __m256i s16[NT];
      for (int t = 0; t < NT; ++t) s16[t] = _mm256_setzero_si256();
      for (int c = 0; c < 8; ++c) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * c));
        __m256i w = _mm256_and_si256(j % 2 ? _mm256_srli_epi16(v, 4) : v, mask);
        if constexpr (kFive) w = _mm256_or_si256(w, fifth_bit(hb, c));
        for (int t = 0; t < NT; ++t) {
          const int8_t* qs = a0[static_cast<size_t>(t) * astride + static_cast<size_t>(s)].qs + 32 * j + 4 * c;
          s16[t] = _mm256_add_epi16(s16[t], _mm256_maddubs_epi16(w, bcast4(qs)));
        }
        if (kFive && c == 3) {  // 4 pairs of 5-bit products: widen before int16 overflows
          for (int t = 0; t < NT; ++t) {
            isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(s16[t], sc));
            s16[t] = _mm256_setzero_si256();
          }
        }
      }
      for (int t = 0; t < NT; ++t) isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(s16[t], sc));
    }
  });
}

// The far-prefetch decode tiles out of line, as gemm_r16_avxvnni.cpp's decode_far (see there).
template <bool kFive>
__attribute__((noinline)) void decode_far(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                                          int64_t nt, float* y, int64_t ldy) {
  run_token_tile<2>(nt, 0, [&](auto n_tok, int64_t) {
    tile<kFive, decltype(n_tok)::value, true>(nb, wgroup, act, t0, y, ldy);
  });
}

template <bool kFive>
void gemm(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt, float* y,
          int64_t ldy) {
  // A decode step's call (1-2 tokens) where the far prefetch is chosen takes its own tiles
  // (decode_far).
  static const bool far = decode_prefetch_far_l2();
  if (far && nt <= 2) {
    decode_far<kFive>(nb, wgroup, act, t0, nt, y, ldy);
    return;
  }
  for_token_tiles<kTile>(nt, [&](auto n_tok, int64_t t) {
    tile<kFive, decltype(n_tok)::value, false>(nb, wgroup, act, t0 + t, y + t * ldy, ldy);
  });
}

}  // namespace

void gemm_q4_K_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy) {
  gemm<false>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q5_K_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy) {
  gemm<true>(nb, wgroup, act, t0, nt, y, ldy);
}

}  // namespace autoglm::cpu::simd
