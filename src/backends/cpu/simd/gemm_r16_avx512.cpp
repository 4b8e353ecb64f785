// AVX-512 VNNI kernels for the 16-row interleaved layouts Q8_0_R16 / Q4_0_R16 / Q5_0_R16 /
// Q4_1_R16 / Q5_1_R16 (backends/cpu/packed.h).
// Per packed block: the 16 rows' 32 columns sit in 8 registers (4 columns x 16 rows each);
// for each token of a tile, 8 vpdpbusd against broadcast 4-byte activation groups give the 16
// rows' integer dots, started from -offset * sum(activation block) (PackedActivations::bias)
// so they come out exact; then one fma with the 16 row scales times the token's scale. A tile
// of up to 8 tokens shares the weight registers, so prefill and batched decode load each
// weight once per tile.
// The arithmetic is exactly packed_gemm_reference's (per block: int dot, f32 scale product,
// fma; Q4_1 / Q5_1 one more fma with the rows' mins times the token's d * sum), so results are
// bit-identical to it.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <algorithm>


#include "backends/cpu/simd/packed_simd.h"
#include "backends/cpu/simd/r16_weights_avx512.h"
#include "backends/cpu/simd/simd.h"
#include "backends/cpu/simd/token_tiles.h"
#include "backends/cpu/simd/vnni_dot_avx512.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

constexpr int kTile = 8;  // tokens per register tile
// Prefetch distance and level by tile size (see the loop): 1-2 tokens into L1 about 2.8 KB
// ahead (Q4_0 9 blocks, Q8_0 5), 3+ tokens into L2 16 blocks ahead.
constexpr size_t kDecodeAheadBytes = 2816;
template <Layout L, int NT>
constexpr size_t kAheadBlocks = NT <= 2 ? std::max<size_t>(1, kDecodeAheadBytes / kPackedBlockBytes<L>) : 16;
template <int NT>
constexpr int kPrefetchHint = NT <= 2 ? _MM_HINT_T0 : _MM_HINT_T1;
// 1-2 tokens where decode_prefetch_far_l2(): also into L2 about 9 KB ahead (Q4_0 32 blocks), for
// the 4-5-bit layouts (kAlsoFar; Q8_0 reads memory as fast without, and pays for it in cache).
constexpr size_t kDecodeFarBytes = 9216;
template <Layout L>
constexpr bool kFarHelps = L != Layout::kQ8;
// At 1-2 tokens Q4_0 / Q4_1 leave the high nibbles in place (vnni::dot16x32_high_in_place):
// bench_kernels one / two tokens, Q4_1 92-95 -> 100-101 GMAC/s, Q4_0 141 -> 147 at two. More
// tokens pay its shift each, the saving is once per block.
template <Layout L, int NT>
constexpr bool kHighInPlace = (L == Layout::kQ4 || L == Layout::kQ41) && NT <= 2;


template <Layout L, int NT, bool kAlsoFar>
inline void tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                 int64_t ldy) {
  constexpr size_t kBlockBytes = kPackedBlockBytes<L>;
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  const auto* arow0 = reinterpret_cast<const quant::block_q8_0*>(act.row(t0));
  const size_t astride = static_cast<size_t>(act.nb);  // blocks per activation row
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = wgroup + static_cast<size_t>(b) * kBlockBytes;
    // Decode streams the weights once: asking for blocks ahead keeps more loads in flight
    // than the hardware prefetcher alone (tg +20-30% measured on smollm2 Q8_0). How far ahead
    // and into which level was measured, 1 GiB matrices through matmul_packed, every variant in
    // each round (bench_kernels --stream, rotated order, medians of 30-80 rounds):
    // - one or two tokens: into L1 (T0). On the Zen 4 host, 8 blocks ahead against L2 (T1) 16
    //   ahead, Q8_0 / Q4_0 read 3-5% faster while the host's memory reads ~35 GB/s, and 20-35%
    //   (44 -> 55-60 GB/s) in its spells of 55-65 GB/s, where the T1 variant never got past ~45.
    //   On the Intel host (docs/BENCHMARKS.md) Q8_0's 8 blocks (4.3 KB) read 74-86% of the
    //   probe and 5-6 blocks 85-94%, 7 only ~70%; Q4_0 read the same 6-10 ahead: so the distance
    //   is in bytes, ~2.8 KB (llama3.2-1b Q8_0 tg128 20.1-20.9 -> 22.3-22.9 t/s at 5 ahead);
    // - three tokens and more: T1, 16 ahead. At four tokens T0 read 4-8% slower: the tile's
    //   arithmetic then hides the latency itself, and the extra L1 fills cost it.
    // - on the Intel Xeon without AMX, one or two tokens of the 4-5-bit layouts read memory
    //   faster with L2 requests ~9 KB ahead on top of the L1 ones (kAlsoFar): Q4_0 29.8-30.6
    //   -> 32.6-33.3 GB/s, Q5_0 27.1-27.6 -> 32.3-32.5, IQ4_NL 26.0-27.5 -> 32.3-33.0 (three
    //   rounds; the probe 30-33); llama3.2-1b Q4_0 tg64 40.6 -> 44.8 t/s. Q8_0 read the same.
    // Prefetching past the end of the matrix is harmless.
    for (size_t off = 0; off < kBlockBytes; off += 64) {
      _mm_prefetch(reinterpret_cast<const char*>(blk + kAheadBlocks<L, NT> * kBlockBytes + off),
                   static_cast<_mm_hint>(kPrefetchHint<NT>));
      if constexpr (kAlsoFar) _mm_prefetch(reinterpret_cast<const char*>(blk + kDecodeFarBytes + off), _MM_HINT_T1);
    }
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk)));
    __m512i w[8];
    if constexpr (kHighInPlace<L, NT>) {
      load_weights_high_in_place(blk + kQuantsOffset<L>, w);
    } else {
      load_weights<L>(blk + kQuantsOffset<L>, w);
    }
    __m512 mw = _mm512_setzero_ps();
    if constexpr (kHasMin<L>) mw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 32)));
    for (int t = 0; t < NT; ++t) {
      const size_t ai = static_cast<size_t>(t) * astride + static_cast<size_t>(b);
      const size_t si = static_cast<size_t>((t0 + t) * act.nb + b);
      const __m512i init = _mm512_set1_epi32(act.bias[si]);
      const __m512i dot = kHighInPlace<L, NT> ? vnni::dot16x32_high_in_place(init, w, arow0[ai].qs)
                                               : vnni::dot16x32(init, w, arow0[ai].qs);
      const __m512 sc = _mm512_mul_ps(dw, _mm512_set1_ps(act.d[si]));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), sc, acc[t]);
      if constexpr (kHasMin<L>) acc[t] = _mm512_fmadd_ps(mw, _mm512_set1_ps(act.dsum[si]), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * ldy, acc[t]);
}

template <Layout L>
void gemm(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt, float* y,
          int64_t ldy) {
  // A decode step's call (1-2 tokens) where the far prefetch is chosen takes its own tiles,
  // everything else the one set. Kept apart here: written as one lambda holding both forms, or
  // through a shared helper taking the form as a type, GCC compiled the 8-token Q4_0 tile 8%
  // slower (bench_kernels T = 8-64: 188-192 against 202-207 GMAC/s).
  static const bool far = kFarHelps<L> && decode_prefetch_far_l2();
  if (kFarHelps<L> && far && nt <= 2) {
    run_token_tile<2>(nt, 0, [&](auto n_tok, int64_t) {
      tile<L, decltype(n_tok)::value, kFarHelps<L>>(nb, wgroup, act, t0, y, ldy);
    });
    return;
  }
  for_token_tiles<kTile>(nt, [&](auto n_tok, int64_t t) {
    tile<L, decltype(n_tok)::value, false>(nb, wgroup, act, t0 + t, y + t * ldy, ldy);
  });
}

}  // namespace

void gemm_q8_0_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy) {
  gemm<Layout::kQ8>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q4_0_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy) {
  gemm<Layout::kQ4>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q5_0_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy) {
  gemm<Layout::kQ5>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q4_1_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy) {
  gemm<Layout::kQ41>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q5_1_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy) {
  gemm<Layout::kQ51>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_iq4_nl_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                            float* y, int64_t ldy) {
  gemm<Layout::kIQ4NL>(nb, wgroup, act, t0, nt, y, ldy);
}

}  // namespace autoglm::cpu::simd
