// AVX-VNNI kernels for the 32-column layouts Q8_0_R16 / Q4_0_R16 / Q5_0_R16 / Q4_1_R16 / Q5_1_R16 /
// IQ4_NL_R16 (backends/cpu/packed.h): CPUs with 256-bit vectors and the VEX-encoded vpdpbusd
// but no AVX-512 (Intel Alder Lake and later client cores, the E-cores' Gracemont included).
// The AVX2 kernels (gemm_r16_avx2.cpp) build each u8 x s8 dot from vpmaddubsw, whose int16 pairs
// saturate: Q8_0 and IQ4_NL then need vpsignb per token and a vpmaddwd per 4 columns (4 uops
// per 32 multiply-adds), Q4_0 an int16 add per product and a widening per block. vpdpbusd sums
// into int32 in one uop, so every layout takes the AVX-512 kernels' route instead: the unsigned
// weights (q + offset, as the packing stores them) against the token's signed bytes, started from
// -offset * sum (PackedActivations::bias), 8 vpdpbusd per 8 rows x 32 columns.
// The tile is the AVX2 kernels' (simd/r16_half_tile_avx2.h: two 8-row halves, 4-token tiles, the
// same prefetch, packed_gemm_reference's per-block arithmetic), so results are bit-identical to it
// and to the other ISAs' kernels.
// Compiled with the AVX2 flags plus -mavxvnni (src/CMakeLists.txt); runs only where
// cpu_has_avx_vnni() (packed_avx_vnni_gemm_for). The inline helpers it shares with the AVX2 units
// outside anonymous namespaces (simd/half_passes.h: a broadcast, prefetches) hold nothing
// -mavxvnni compiles differently.
#include <immintrin.h>

#include "backends/cpu/simd/packed_simd.h"
#include "backends/cpu/simd/r16_half_tile_avx2.h"
#include "backends/cpu/simd/simd.h"
#include "backends/cpu/simd/token_tiles.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

constexpr int kTile = 4;  // tokens per register tile: 8 weight registers + 4 sums + temporaries

// Half h's 8 weight registers of a packed block, unsigned: register j holds columns 4j..4j+3 of
// the half's 8 rows (4 bytes each). q: the block's quants; the 64-byte chunk c holds columns
// 4c..4c+3 of rows 0-7, then of rows 8-15 (Q4 / Q5 / IQ4_NL: low nibbles; high nibbles are
// columns 16 + 4c..), and the fifth bits follow 4 chunks on (bit j of a byte: register j's).
template <Layout L>
inline void half_weights(const uint8_t* q, int h, __m256i w[8]) {
  const uint8_t* half = q + 32 * h;
  if constexpr (L == Layout::kQ8) {
    for (int j = 0; j < 8; ++j) w[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(half + 64 * j));
  } else {
    const __m256i mask = _mm256_set1_epi8(0x0F);
    for (int c = 0; c < 4; ++c) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(half + 64 * c));
      w[c] = _mm256_and_si256(v, mask);
      w[c + 4] = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);
    }
    if constexpr (kHasFifthBits<L>) {  // bit j to bit 4 (16-bit shifts: crossings land outside 0x10)
      const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(half + 4 * 64));
      const __m256i bit4 = _mm256_set1_epi8(0x10);
      w[0] = _mm256_or_si256(w[0], _mm256_and_si256(_mm256_slli_epi16(hb, 4), bit4));
      w[1] = _mm256_or_si256(w[1], _mm256_and_si256(_mm256_slli_epi16(hb, 3), bit4));
      w[2] = _mm256_or_si256(w[2], _mm256_and_si256(_mm256_slli_epi16(hb, 2), bit4));
      w[3] = _mm256_or_si256(w[3], _mm256_and_si256(_mm256_slli_epi16(hb, 1), bit4));
      w[4] = _mm256_or_si256(w[4], _mm256_and_si256(hb, bit4));
      w[5] = _mm256_or_si256(w[5], _mm256_and_si256(_mm256_srli_epi16(hb, 1), bit4));
      w[6] = _mm256_or_si256(w[6], _mm256_and_si256(_mm256_srli_epi16(hb, 2), bit4));
      w[7] = _mm256_or_si256(w[7], _mm256_and_si256(_mm256_srli_epi16(hb, 3), bit4));
    }
    if constexpr (L == Layout::kIQ4NL) {  // nibble -> grid value + 128 (1..241)
      const __m256i grid = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(kIQ4Grid.u)));
      for (int j = 0; j < 8; ++j) w[j] = _mm256_shuffle_epi8(grid, w[j]);
    }
  }
}

// The 8 rows' integer dots with a token's 32 activation bytes qs, started from init: two chains
// of 4 vpdpbusd so one token (decode) is not bound by their latency. Integer sums are exact.
inline __m256i half_dot(__m256i init, const __m256i w[8], const int8_t* qs) {
  __m256i s0 = _mm256_dpbusd_avx_epi32(init, w[0], bcast4(qs + 0));
  __m256i s1 = _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), w[1], bcast4(qs + 4));
  s0 = _mm256_dpbusd_avx_epi32(s0, w[2], bcast4(qs + 8));
  s1 = _mm256_dpbusd_avx_epi32(s1, w[3], bcast4(qs + 12));
  s0 = _mm256_dpbusd_avx_epi32(s0, w[4], bcast4(qs + 16));
  s1 = _mm256_dpbusd_avx_epi32(s1, w[5], bcast4(qs + 20));
  s0 = _mm256_dpbusd_avx_epi32(s0, w[6], bcast4(qs + 24));
  s1 = _mm256_dpbusd_avx_epi32(s1, w[7], bcast4(qs + 28));
  return _mm256_add_epi32(s0, s1);
}

template <Layout L, int NT, bool kAlsoFar>
inline void tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                 int64_t ldy) {
  r16_half_tile<L, NT, kAlsoFar>(nb, wgroup, act, t0, y, ldy,
                       [&](const uint8_t* q, int h, const quant::block_q8_0* const a[NT], int64_t b) {
                         struct { __m256i v[8]; } w;  // (a struct: the lambda below copies it)
                         half_weights<L>(q, h, w.v);
                         return [&, w, a, b](int t) {
                           const size_t si = static_cast<size_t>((t0 + t) * act.nb + b);
                           return half_dot(_mm256_set1_epi32(act.bias[si]), w.v, a[t][b].qs);
                         };
                       });
}

// The far-prefetch decode tiles out of line: inlined beside the other tiles, GCC compiled the
// 4-64-token tiles 2-4% slower (bench_kernels AUTOGLM_CPU_ISA=avx2, Q8_0 / Q4_0 / Q4_1).
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

void gemm_q8_0_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy) {
  gemm<Layout::kQ8>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q4_0_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy) {
  gemm<Layout::kQ4>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q5_0_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy) {
  gemm<Layout::kQ5>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q4_1_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy) {
  gemm<Layout::kQ41>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q5_1_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy) {
  gemm<Layout::kQ51>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_iq4_nl_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                             float* y, int64_t ldy) {
  gemm<Layout::kIQ4NL>(nb, wgroup, act, t0, nt, y, ldy);
}

}  // namespace autoglm::cpu::simd
