// AVX-512 VNNI kernels for Q4_K_R16 and Q5_K_R16 (backends/cpu/packed_q4k.h). Per super-block and sub-block j:
// the 16 rows' 32 nibbles sit in 8 registers (4 columns x 16 rows each); for each token of a
// tile, 8 vpdpbusd against broadcast 4-byte groups of the Q8_K activations give the 16 rows'
// integer dots, multiplied by the rows' 6-bit scales into an exact int32 sum (Q4_K: each
// 16-column half's dot fits int16, so one vpdpwssd per half does it; Q5_K: vpmulld). The mins term is
// 4 vpdpwssd of the rows' int16 min pairs against the token's sub-block sums. Per super-block
// two fmas: mins first, then scales, exactly as gemm_q4_K_r16_reference, so results are
// bit-identical to it. A tile of up to 8 tokens shares every weight register. Q5_K_R16 ORs each
// register's fifth bits in as 16 (Q5_0_R16's way: bit c of each byte belongs to register c).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <algorithm>


#include "backends/cpu/packed_q4k.h"
#include "backends/cpu/simd/q4k_head_avx512.h"
#include "backends/cpu/simd/simd.h"
#include "backends/cpu/simd/token_tiles.h"
#include "backends/cpu/simd/vnni_dot_avx512.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

constexpr int kTile = 8;  // tokens per register tile
// Prefetch (see the loop): 1-2 tokens into L1 1 super-block ahead, and where kAlsoFar
// (decode_prefetch_far_l2()) into L2 4 ahead as well; 3+ tokens into L2 4 ahead only.
constexpr size_t kNearSuperBlocks = 1, kFarSuperBlocks = 4;
// At 1-2 tokens Q4_K leaves the odd sub-blocks' nibbles in the bytes' high halves
// (vnni::scaled_sub_block_pair16_high_in_place): one token 96 -> 105 GMAC/s (bench_kernels).
template <bool kFive, int NT>
constexpr bool kHighInPlace = !kFive && NT <= 2;
template <bool kFive>
constexpr size_t kSuperBlockBytes = kFive ? kQ5KR16Bytes : kQ4KR16Bytes;
template <bool kFive>
constexpr int kSuperBlockLines = static_cast<int>((kSuperBlockBytes<kFive> + 63) / 64);
template <bool kFive>
constexpr int kLinesPerSubBlock = (kSuperBlockLines<kFive> + 7) / 8;
// Tiles whose 8 sub-blocks are unrolled (see the sub-block loop) and so need their prefetches held
// in place (keep_prefetches_in_place, see the lambda).
template <int NT>
constexpr bool kUnrolledSubBlocks = NT <= 4;

template <bool kFive, int NT, bool kAlsoFar>
inline void tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                 int64_t ldy) {
  __m512 acc[NT];
  __m512i isum[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  const auto* a0 = reinterpret_cast<const quant::block_q8_K*>(act.q.data()) + t0 * act.nb;
  const size_t astride = static_cast<size_t>(act.nb);
  const __m512i mask = _mm512_set1_epi8(0x0F);
  for (int64_t s = 0; s < nb; ++s) {
    const uint8_t* sb = wgroup + static_cast<size_t>(s) * kSuperBlockBytes<kFive>;
    const Q4KHead head(sb);
    for (int t = 0; t < NT; ++t) {
      const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
      const __m512i im = head.mins_dot(act.msum.data() + si * 4);
      const __m512 dmy = _mm512_mul_ps(head.dm, _mm512_set1_ps(act.d[si]));
      acc[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(im), dmy, acc[t]);
      isum[t] = _mm512_setzero_si512();
    }
    auto sub_block = [&](int j) __attribute__((always_inline)) {
      // Decode streams the weights once: keep loads in flight super-blocks ahead, an
      // eighth of that super-block's lines per sub-block. All of its lines at once (as before)
      // queued on the core's few L1 miss buffers and stalled the arithmetic behind them:
      // bench_kernels --stream 72-74% -> 96-101% of the read probe, llama3.2-1b Q4_K tg +13%
      // (with the weights in L2 instead, one token runs ~7% slower: decode is not there).
      // Level and distance, every variant in each round of --stream (rotated order, medians of
      // 40 rounds, 1 GiB matrix): at 1-2 tokens L1 2 ahead beat L2 2/4/8 ahead by 6-9% at the
      // host's usual ~35 GB/s. At 4 tokens L2 4 ahead tied L1 2 ahead there (34.3 / 34.2 GB/s)
      // and led it 44 / 34 GB/s in the host's 55-65 GB/s spells; no prefetch read 28. On the
      // Intel host (docs/BENCHMARKS.md) 1 ahead (2.3 KB, as the 32-column kernels' ~2.8 KB)
      // read 87-90% of the probe against 81-85% at 2 and 81% at 3: llama3.2-1b Q4_K tg128
      // 35.2-37.7 -> 39.7-41.7 t/s, alternating. On the Intel Xeon without AMX, once the loop
      // was unrolled, L1 1 ahead plus L2 4 ahead read the most from memory (bench_kernels
      // --stream, three rounds: L1 only 27.7-28.2 GB/s, L2 only 29.3-30.6, both 29.9-31.6);
      // with the weights in cache one token then runs 18% slower (102 -> 84 GMAC/s): hence
      // only where decode_prefetch_far_l2().
      for (int l = 0; l < kLinesPerSubBlock<kFive>; ++l) {
        const int line = std::min(kLinesPerSubBlock<kFive> * j + l, kSuperBlockLines<kFive> - 1);
        if constexpr (NT <= 2) {
          _mm_prefetch(reinterpret_cast<const char*>(sb + kNearSuperBlocks * kSuperBlockBytes<kFive> + 64 * line),
                       _MM_HINT_T0);
        }
        if constexpr (NT > 2 || kAlsoFar) {
          _mm_prefetch(reinterpret_cast<const char*>(sb + kFarSuperBlocks * kSuperBlockBytes<kFive> + 64 * line),
                       _MM_HINT_T1);
        }
      }
      // Unrolled (kUnrolledSubBlocks), GCC hoisted all 8 sub-blocks' prefetches to the
      // super-block's top, 80-96 in a row, which undid the spreading above. Held in place, one
      // token in L2 ran Q5_K 45 -> 58 GMAC/s and Q4_K 84 -> 93, two 75 -> 94 and 128 -> 144
      // (bench_kernels, best of 6 alternating rounds); llama3.2-1b tg64 Q5_K_M +7-15%, Q4_K +7%
      // (docs/BENCHMARKS.md).
      if constexpr (kUnrolledSubBlocks<NT>) keep_prefetches_in_place();
      const __m512i sc = head.scales(j);
      const uint8_t* q = sb + kQ4KR16QOff + 512 * (j / 2);
      __m512i w[8];
      const bool high_in_place = kHighInPlace<kFive, NT> && j % 2 == 1;
      for (int c = 0; c < 8; ++c) {
        const __m512i v = _mm512_loadu_si512(q + 64 * c);
        if (high_in_place) {
          w[c] = _mm512_andnot_si512(mask, v);
        } else {
          w[c] = _mm512_and_si512(j % 2 ? _mm512_srli_epi16(v, 4) : v, mask);
        }
      }
      if constexpr (kFive) {
        const __m512i h = _mm512_loadu_si512(sb + kQ5KR16HighOff + 64 * j);
        vnni::or_fifth_bits(w, h);
      }
      for (int t = 0; t < NT; ++t) {
        const int8_t* qs = a0[static_cast<size_t>(t) * astride + static_cast<size_t>(s)].qs + 32 * j;
        if constexpr (kFive) {
          isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(vnni::dot16x32(_mm512_setzero_si512(), w, qs), sc));
        } else if (high_in_place) {
          isum[t] = vnni::scaled_sub_block_pair16_high_in_place(isum[t], w, qs, sc, sc);
        } else {
          isum[t] = vnni::scaled_sub_block_pair16(isum[t], nullptr, w, qs, sc, sc);  // sc's high halves are 0
        }
      }
    };
    if constexpr (kUnrolledSubBlocks<NT>) {
      // Unrolled: each sub-block's offsets and prefetch lines become constants. As a loop, its
      // address arithmetic, clamps and nibble-side branch outnumbered the vector work at one
      // to four tokens (bench_kernels T = 1 / 2 / 4: 69 / 111 / 155 -> 95 / 140 / 188
      // GMAC/s). Not at eight: llama3.2-1b Q4_K tg64 x16 ran 8% slower so (259 -> 238 t/s).
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) sub_block(j);
    } else {
#pragma GCC unroll 1
      for (int j = 0; j < 8; ++j) sub_block(j);
    }
    for (int t = 0; t < NT; ++t) {
      const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
      const __m512 dwy = _mm512_mul_ps(head.dw, _mm512_set1_ps(act.d[si]));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), dwy, acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * ldy, acc[t]);
}

template <bool kFive>
void gemm(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt, float* y,
          int64_t ldy) {
  // A decode step's call (1-2 tokens) where the far prefetch is chosen takes its own tiles,
  // everything else the one set, written out as in gemm_r16_avx512.cpp (see there why).
  static const bool far = decode_prefetch_far_l2();
  if (far && nt <= 2) {
    run_token_tile<2>(nt, 0, [&](auto n_tok, int64_t) {
      tile<kFive, decltype(n_tok)::value, true>(nb, wgroup, act, t0, y, ldy);
    });
    return;
  }
  for_token_tiles<kTile>(nt, [&](auto n_tok, int64_t t) {
    tile<kFive, decltype(n_tok)::value, false>(nb, wgroup, act, t0 + t, y + t * ldy, ldy);
  });
}

}  // namespace

void gemm_q4_K_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy) {
  if (nt > kTile) {  // the weights built once per super-block for all the call's tiles
    gemm_q4_K_r16_shared_units_avx512(nb, wgroup, act, t0, nt, y, ldy);
    return;
  }
  gemm<false>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q5_K_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy) {
  if (nt > kTile) {  // the weights built once per super-block for all the call's tiles
    gemm_q5_K_r16_shared_units_avx512(nb, wgroup, act, t0, nt, y, ldy);
    return;
  }
  gemm<true>(nb, wgroup, act, t0, nt, y, ldy);
}

}  // namespace autoglm::cpu::simd
