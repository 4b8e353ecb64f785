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
// outside anonymous namespaces (simd/half_passes.h: a broadcast, the fifth-bit move, prefetches)
// hold nothing -mavxvnni compiles differently.
#include <immintrin.h>

#include "backends/cpu/simd/packed_simd.h"
#include "backends/cpu/simd/r16_half_tile_avx2.h"
#include "backends/cpu/simd/simd.h"
#include "backends/cpu/simd/token_tiles.h"
#include "backends/cpu/simd/vnni_dot_avx2.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

constexpr int kTile = 4;  // tokens per register tile: 8 weight registers + 4 sums + temporaries

template <Layout L, int NT, bool kAlsoFar>
inline void tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                 int64_t ldy) {
  r16_half_tile<L, NT, kAlsoFar>(nb, wgroup, act, t0, y, ldy,
                       [&](const uint8_t* q, int h, const quant::block_q8_0* const a[NT], int64_t b) {
                         struct { __m256i v[8]; } w;  // (a struct: the lambda below copies it)
                         vnni256::half_weights<L>(q, h, w.v);
                         return [&, w, a, b](int t) {
                           const size_t si = static_cast<size_t>((t0 + t) * act.nb + b);
                           return vnni256::dot8x32(_mm256_set1_epi32(act.bias[si]), w.v, a[t][b].qs);
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
