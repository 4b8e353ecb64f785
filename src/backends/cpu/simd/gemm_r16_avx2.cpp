// AVX2 kernels for the 16-row interleaved layouts Q8_0_R16 / Q4_0_R16 / Q5_0_R16, Q4_1_R16 /
// Q5_1_R16 (as Q4_0 / Q5_0, plus the mins' fma) and IQ4_NL_R16 (backends/cpu/packed.h),
// for CPUs without AVX-512 (Zen 1-3, Haswell..Alder Lake). One 256-bit register holds 4 columns
// of 8 rows, so each packed block is worked as two halves of 8 rows.
//
// Without VNNI the u8 x s8 dot is vpmaddubsw (pairs into saturating int16) then vpmaddwd with
// ones (int32). The bounds decide the shape:
//   Q4_0: weights 0..15 times |a| <= 127 give pairs of at most 3810, so the 8 column groups of a
//     block add up in int16 (16 products, <= 30480) and one vpmaddwd per block and half widens
//     them: 9 multiply uops per 256 multiply-adds, where a row-at-a-time dot needs 16.
//   Q5_0: weights 0..31 give pairs of at most 7874, so only 4 products fit in int16: vpmaddwd
//     after every two column-group pairs. Register j's fifth bits are bit j of the half's 32
//     bytes of them, shifted to bit 4 and OR'ed in.
//   Q8_0: unsigned weights (q + 128, up to 255) would saturate, so the signed weight w = u ^ 0x80
//     goes in as |w| (<= 128) and its sign moves onto the activation (vpsignb): pairs of at most
//     2 * 128 * 127 = 32512, widened per column group. The start is then 0, not the bias.
//   IQ4_NL: the grid + 128 would saturate as Q8_0's would, so the nibbles are looked up signed
//     (vpshufb, -127..113) and go through Q8_0's path.
// A tile of up to kTile tokens shares each unpacked weight register: the loop runs column
// group outer, token inner, with the tokens' integer sums in registers.
// The arithmetic is packed_gemm_reference's (per block: exact int dot, f32 scale product, fma),
// so results are bit-identical to it.
#include <immintrin.h>

#include "backends/cpu/simd/half_passes.h"
#include "backends/cpu/simd/packed_simd.h"
#include "backends/cpu/simd/r16_half_tile_avx2.h"
#include "backends/cpu/simd/simd.h"
#include "backends/cpu/simd/token_tiles.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

constexpr int kTile = 4;  // tokens per register tile

// The integer dots of 8 rows (one half of a packed block) with NT tokens' 32 activation bytes.
// hb: Q5_0 only, this half's 32 bytes of fifth bits.
template <Layout L, int NT>
inline void half_dots(const uint8_t* q, const uint8_t* hb, const quant::block_q8_0* const a[NT], int64_t b,
                      __m256i out[NT]) {
  const __m256i ones = _mm256_set1_epi16(1);
  if constexpr (L != Layout::kQ8 && L != Layout::kIQ4NL) {
    const __m256i mask = _mm256_set1_epi8(0x0F);
    // Column-group pairs (lo and hi of one chunk) summed in int16 before widening: all four
    // for Q4_0 (<= 8 * 3810), two for Q5_0 (<= 4 * 7874).
    constexpr int kPairsPerWiden = kHasFifthBits<L> ? 2 : 4;
    __m256i s16[NT];
    for (int t = 0; t < NT; ++t) {
      s16[t] = _mm256_setzero_si256();
      out[t] = _mm256_setzero_si256();
    }
    __m256i h = _mm256_setzero_si256();
    if constexpr (kHasFifthBits<L>) h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(hb));
    for (int c = 0; c < 4; ++c) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * c));
      __m256i lo = _mm256_and_si256(v, mask);                           // columns 4c..4c+3
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);  // columns 16+4c..
      if constexpr (kHasFifthBits<L>) {  // registers c and c + 4
        lo = _mm256_or_si256(lo, fifth_bit(h, c));
        hi = _mm256_or_si256(hi, fifth_bit(h, c + 4));
      }
      for (int t = 0; t < NT; ++t) {
        s16[t] = _mm256_add_epi16(s16[t], _mm256_maddubs_epi16(lo, bcast4(a[t][b].qs + 4 * c)));
        s16[t] = _mm256_add_epi16(s16[t], _mm256_maddubs_epi16(hi, bcast4(a[t][b].qs + 16 + 4 * c)));
      }
      if ((c + 1) % kPairsPerWiden == 0) {
        for (int t = 0; t < NT; ++t) {
          out[t] = _mm256_add_epi32(out[t], _mm256_madd_epi16(s16[t], ones));
          s16[t] = _mm256_setzero_si256();
        }
      }
    }
  } else {
    const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
    const __m256i grid = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(kIQ4Grid.s)));
    for (int t = 0; t < NT; ++t) out[t] = _mm256_setzero_si256();
    for (int j = 0; j < 8; ++j) {
      __m256i w;
      if constexpr (L == Layout::kQ8) {
        w = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * j)), flip);
      } else {  // chunk j % 4's low nibbles (j < 4) or high ones, looked up signed
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * (j % 4)));
        w = _mm256_shuffle_epi8(grid, _mm256_and_si256(j < 4 ? v : _mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F)));
      }
      const __m256i wabs = _mm256_sign_epi8(w, w);  // -128 stays 0x80, read as unsigned 128
      for (int t = 0; t < NT; ++t) {
        const __m256i p = _mm256_maddubs_epi16(wabs, _mm256_sign_epi8(bcast4(a[t][b].qs + 4 * j), w));
        out[t] = _mm256_add_epi32(out[t], _mm256_madd_epi16(p, ones));
      }
    }
  }
}

template <Layout L, int NT, bool kAlsoFar>
inline void tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                 int64_t ldy) {
  r16_half_tile<L, NT, kAlsoFar>(nb, wgroup, act, t0, y, ldy,
                       [&](const uint8_t* q, int h, const quant::block_q8_0* const a[NT], int64_t b) {
                         struct { __m256i v[NT]; } dot;  // (a struct: the lambda below copies it)
                         half_dots<L, NT>(q + 32 * h, q + 4 * 64 + 32 * h, a, b, dot.v);
                         if constexpr (L == Layout::kQ4 || L == Layout::kQ5) {  // Q8_0 / IQ4_NL: signed, from 0
                           for (int t = 0; t < NT; ++t) {
                             const size_t si = static_cast<size_t>((t0 + t) * act.nb + b);
                             dot.v[t] = _mm256_add_epi32(dot.v[t], _mm256_set1_epi32(act.bias[si]));
                           }
                         }
                         return [dot](int t) { return dot.v[t]; };
                       });
}

// The far-prefetch decode tiles out of line, as gemm_r16_avxvnni.cpp's decode_far (see there).
template <Layout L>
__attribute__((noinline)) void decode_far(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                                          int64_t nt, float* y, int64_t ldy) {
  run_token_tile<2>(nt, 0, [&](auto n_tok, int64_t) {
    tile<L, decltype(n_tok)::value, true>(nb, wgroup, act, t0, y, ldy);
  });
}

template <Layout L>
void gemm(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt, float* y,
          int64_t ldy) {
  // A decode step's call (1-2 tokens) where the far prefetch is chosen takes its own tiles
  // (decode_far).
  static const bool far = decode_prefetch_far_l2();
  if (far && nt <= 2) {
    decode_far<L>(nb, wgroup, act, t0, nt, y, ldy);
    return;
  }
  for_token_tiles<kTile>(nt, [&](auto n_tok, int64_t t) {
    tile<L, decltype(n_tok)::value, false>(nb, wgroup, act, t0 + t, y + t * ldy, ldy);
  });
}

}  // namespace

void gemm_q8_0_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy) {
  gemm<Layout::kQ8>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q4_0_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy) {
  gemm<Layout::kQ4>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q5_0_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy) {
  gemm<Layout::kQ5>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q4_1_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy) {
  gemm<Layout::kQ41>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q5_1_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy) {
  gemm<Layout::kQ51>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_iq4_nl_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy) {
  gemm<Layout::kIQ4NL>(nb, wgroup, act, t0, nt, y, ldy);
}

}  // namespace autoglm::cpu::simd
