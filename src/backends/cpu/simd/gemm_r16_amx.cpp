// AMX kernels for the 32-column layouts Q4_0_R16 / Q5_0_R16 / Q4_1_R16 / Q5_1_R16 / IQ4_NL_R16
// (backends/cpu/packed.h): 16 tokens at a time, one TDPBSSD per packed block (16 x 16 x 32
// multiply-adds, as many as 128 vpdpbusd). Not Q8_0_R16: its VNNI tile unpacks nothing, and the
// AMX form (unpacked, or its bytes loaded as they lie through tdpbsud) ran no faster in
// bench_kernels and slower in llama3.2-1b Q8_0's pp512 (318 against 335 t/s, medians of 3); with
// prefill's token blocks (packed_matmul.cpp) pp512 386 against 379, x16 188 against 203.
//
// Per block b: the 16 rows' weights (r16_weights_avx512.h) less the layout's offset (8, 16, 128;
// 0 for Q4_1 / Q5_1) are signed bytes and, stored, a B tile whose row c is register c; the 16
// tokens' Q8_0 bytes are the A tile, read in place one activation row apart. C[t][i] is then the
// exact integer dot packed_gemm_reference forms as -offset * sum + sum(u * a), and the scale
// product and fma (and Q4_1 / Q5_1's fma of the mins) are gemm_r16_avx512's, so results are
// bit-identical to the reference. Blocks go through in fours (C tiles 0-3) so each tile store
// overlaps the next multiply; the 16 accumulators stay in registers. Fewer than 16 tokens (and
// a tail) go to the AVX-512 kernel.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <algorithm>

#include "backends/cpu/simd/amx_tiles.h"
#include "backends/cpu/simd/packed_simd.h"
#include "backends/cpu/simd/r16_weights_avx512.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

using amx::kTileTokens;

// What the layout adds to its weights to make them unsigned (packed.h).
template <Layout L>
constexpr int kOffset = L == Layout::kIQ4NL ? 128 : L == Layout::kQ4 ? 8 : L == Layout::kQ5 ? 16 : 0;
constexpr int kBatch = 4;  // blocks per round of tile products: C tiles 0-3
// Prefetch about as far ahead as the Q4_K_R16 kernel: a 2304-byte super-block.
constexpr size_t kAheadBytes = 2304;

template <Layout L>
void tile16(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y, int64_t ldy) {
  constexpr size_t kBlockBytes = kPackedBlockBytes<L>;
  constexpr size_t kAhead = std::max<size_t>(1, kAheadBytes / (kBatch * kBlockBytes)) * kBatch * kBlockBytes;
  alignas(64) int8_t w[kBatch][8][64];               // block, tile row c: columns 4c..4c+3 of the 16 rows
  alignas(64) int32_t dots[kBatch][kTileTokens][16];  // C per block
  __m512 acc[kTileTokens];
  for (int t = 0; t < kTileTokens; ++t) acc[t] = _mm512_setzero_ps();
  const uint8_t* a0 = act.row(t0) + offsetof(quant::block_q8_0, qs);
  const size_t a_stride = static_cast<size_t>(act.nb) * sizeof(quant::block_q8_0);
  const __m512i offset = _mm512_set1_epi8(static_cast<char>(kOffset<L>));
  for (int64_t b0 = 0; b0 < nb; b0 += kBatch) {
    const int n = static_cast<int>(std::min<int64_t>(kBatch, nb - b0));
    const uint8_t* batch = wgroup + static_cast<size_t>(b0) * kBlockBytes;
    for (int i = 0; i < n; ++i) {
      __m512i r[8];
      load_weights<L>(batch + i * kBlockBytes + kQuantsOffset<L>, r);
      for (int c = 0; c < 8; ++c) _mm512_store_si512(w[i][c], _mm512_sub_epi8(r[c], offset));
    }
    const auto* a = reinterpret_cast<const int8_t*>(a0 + static_cast<size_t>(b0) * sizeof(quant::block_q8_0));
    constexpr size_t kNext = sizeof(quant::block_q8_0);
    AG_AMX_DOTS(0, 4, 5, a, a_stride, w[0][0], dots[0][0]);
    if (n > 1) AG_AMX_DOTS(1, 6, 7, a + kNext, a_stride, w[1][0], dots[1][0]);
    if (n > 2) AG_AMX_DOTS(2, 4, 5, a + 2 * kNext, a_stride, w[2][0], dots[2][0]);
    if (n > 3) AG_AMX_DOTS(3, 6, 7, a + 3 * kNext, a_stride, w[3][0], dots[3][0]);
    for (int i = 0; i < n; ++i) {
      const uint8_t* blk = batch + i * kBlockBytes;
      const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk)));
      __m512 mw = _mm512_setzero_ps();
      if constexpr (kHasMin<L>) mw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 32)));
      // The batch kAhead on into L2, a share per block (as gemm_q4k_r16_amx.cpp, where all at
      // once read slower than none).
      amx::prefetch_share(batch + kAhead, kBatch * kBlockBytes, i, kBatch);
      for (int t = 0; t < kTileTokens; ++t) {
        const size_t si = static_cast<size_t>((t0 + t) * act.nb + b0 + i);
        const __m512 sc = _mm512_mul_ps(dw, _mm512_set1_ps(act.d[si]));
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(dots[i][t])), sc, acc[t]);
        if constexpr (kHasMin<L>) acc[t] = _mm512_fmadd_ps(mw, _mm512_set1_ps(act.dsum[si]), acc[t]);
      }
    }
  }
  for (int t = 0; t < kTileTokens; ++t) _mm512_storeu_ps(y + t * ldy, acc[t]);
}

using Avx512Fn = void (*)(int64_t, const uint8_t*, const PackedActivations&, int64_t, int64_t, float*, int64_t);

template <Layout L>
void gemm(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt, float* y,
          int64_t ldy, Avx512Fn rest) {
  amx::for_tiles(
      amx::SubBlock::k32, nt, [&](int64_t t) { tile16<L>(nb, wgroup, act, t0 + t, y + t * ldy, ldy); },
      [&](int64_t t, int64_t n) { rest(nb, wgroup, act, t0 + t, n, y + t * ldy, ldy); });
}

}  // namespace

void gemm_q4_0_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                       float* y, int64_t ldy) {
  gemm<Layout::kQ4>(nb, wgroup, act, t0, nt, y, ldy, gemm_q4_0_r16_avx512);
}
void gemm_q5_0_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                       float* y, int64_t ldy) {
  gemm<Layout::kQ5>(nb, wgroup, act, t0, nt, y, ldy, gemm_q5_0_r16_avx512);
}
void gemm_q4_1_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                       float* y, int64_t ldy) {
  gemm<Layout::kQ41>(nb, wgroup, act, t0, nt, y, ldy, gemm_q4_1_r16_avx512);
}
void gemm_q5_1_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                       float* y, int64_t ldy) {
  gemm<Layout::kQ51>(nb, wgroup, act, t0, nt, y, ldy, gemm_q5_1_r16_avx512);
}
void gemm_iq4_nl_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                         float* y, int64_t ldy) {
  gemm<Layout::kIQ4NL>(nb, wgroup, act, t0, nt, y, ldy, gemm_iq4_nl_r16_avx512);
}

}  // namespace autoglm::cpu::simd
