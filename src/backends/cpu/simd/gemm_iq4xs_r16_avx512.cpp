// AVX-512 VNNI kernel for IQ4_XS_R16 (backends/cpu/packed_iq4xs.h). Per super-block and 32-column
// sub-block j: the 16 rows' nibbles sit in 4 chunks, looked up as grid + 128 (one vpshufb per
// register, as IQ4_NL_R16's tile does); for each token of a tile, 8 vpdpbusd against broadcast
// 4-byte groups of the Q8_K activations, started from -128 * the sub-block's sum
// (PackedActivations::bias), give the 16 rows' exact dots, multiplied by the rows' factors
// (ls - 32) into an int32 sum. Per super-block one fma, as gemm_iq4_xs_r16_reference, so
// results are bit-identical to it. A tile of up to 8 tokens shares every weight register.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <algorithm>

#include "backends/cpu/packed_iq4xs.h"
#include "backends/cpu/simd/packed_simd.h"
#include "backends/cpu/simd/scales192_avx512.h"
#include "backends/cpu/simd/simd.h"
#include "backends/cpu/simd/token_tiles.h"
#include "backends/cpu/simd/vnni_dot_avx512.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

constexpr int kTile = 8;  // tokens per register tile
// Prefetch as the Q4_K_R16 tile (gemm_q4k_r16_avx512.cpp, where the choice is measured), an
// eighth of a super-block's lines per sub-block: 1-2 tokens into L1 2 super-blocks ahead, and
// where kAlsoFar (decode_prefetch_far_l2(), Intel) into L2 4 ahead as well; 3+ tokens into L2 4
// ahead only. On the Intel Xeon without AMX the L2 requests lifted one token's read of a 1 GiB
// matrix from 25-27 to 30-32 GB/s (bench_kernels --stream, three rounds; docs/BENCHMARKS.md); 1
// ahead into L1 instead of 2 read no more.
constexpr size_t kNearSuperBlocks = 2, kFarSuperBlocks = 4;
constexpr int kLines = static_cast<int>((kIQ4XSR16Bytes + 63) / 64);
constexpr int kLinesPerSubBlock = (kLines + 7) / 8;

template <int NT, bool kAlsoFar>
inline void tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                 int64_t ldy) {
  __m512 acc[NT];
  __m512i isum[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  const auto* a0 = reinterpret_cast<const quant::block_q8_K*>(act.q.data()) + t0 * act.nb;
  const size_t astride = static_cast<size_t>(act.nb);
  const __m512i mask = _mm512_set1_epi8(0x0F);
  const __m512i grid = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(kIQ4Grid.u)));
  const __m512i k32 = _mm512_set1_epi32(32);
  for (int64_t s = 0; s < nb; ++s) {
    const uint8_t* sb = wgroup + static_cast<size_t>(s) * kIQ4XSR16Bytes;
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb)));
    alignas(64) uint8_t u[128];
    unpack_scales96(sb + kIQ4XSR16ScalesOff, sb + kIQ4XSR16TopOff, u);
    for (int t = 0; t < NT; ++t) isum[t] = _mm512_setzero_si512();
    auto sub_block = [&](int j) __attribute__((always_inline)) {
      for (int l = 0; l < kLinesPerSubBlock; ++l) {
        const int line = std::min(kLinesPerSubBlock * j + l, kLines - 1);
        if constexpr (NT <= 2) {
          _mm_prefetch(reinterpret_cast<const char*>(sb + kNearSuperBlocks * kIQ4XSR16Bytes + 64 * line), _MM_HINT_T0);
        }
        if constexpr (NT > 2 || kAlsoFar) {
          _mm_prefetch(reinterpret_cast<const char*>(sb + kFarSuperBlocks * kIQ4XSR16Bytes + 64 * line), _MM_HINT_T1);
        }
      }
      const __m512i sc = _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(u + 16 * j))), k32);
      const uint8_t* q = sb + kIQ4XSR16QOff + 256 * j;
      __m512i w[8];
      for (int c = 0; c < 4; ++c) {
        const __m512i v = _mm512_loadu_si512(q + 64 * c);
        w[c] = _mm512_shuffle_epi8(grid, _mm512_and_si512(v, mask));                           // columns 4c..
        w[c + 4] = _mm512_shuffle_epi8(grid, _mm512_and_si512(_mm512_srli_epi16(v, 4), mask));  // 16 + 4c..
      }
      for (int t = 0; t < NT; ++t) {
        const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
        const int8_t* qs = a0[static_cast<size_t>(t) * astride + static_cast<size_t>(s)].qs + 32 * j;
        const __m512i dot = vnni::dot16x32(_mm512_set1_epi32(act.bias[si * 8 + static_cast<size_t>(j)]), w, qs);
        isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(dot, sc));
      }
    };
    if constexpr (NT <= 4) {
      // Unrolled as Q4_K's (see there): four tokens 141-144 -> 147-150 GMAC/s (bench_kernels,
      // weights in L2), one and two the same. Written out here: one helper for both kernels'
      // loops (tried) compiled this 8-token tile 3% slower (171 against 176 GMAC/s).
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) sub_block(j);
    } else {
#pragma GCC unroll 1
      for (int j = 0; j < 8; ++j) sub_block(j);
    }
    for (int t = 0; t < NT; ++t) {
      const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_mul_ps(dw, _mm512_set1_ps(act.d[si])), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * ldy, acc[t]);
}

}  // namespace

void gemm_iq4_xs_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                            float* y, int64_t ldy) {
  if (nt > kTile) {  // the weights built once per super-block for all the call's tiles
    gemm_iq4_xs_r16_shared_units_avx512(nb, wgroup, act, t0, nt, y, ldy);
    return;
  }
  static const bool far = decode_prefetch_far_l2();
  if (far && nt <= 2) {
    run_token_tile<2>(nt, 0, [&](auto n_tok, int64_t) {
      tile<decltype(n_tok)::value, true>(nb, wgroup, act, t0, y, ldy);
    });
    return;
  }
  for_token_tiles<kTile>(nt, [&](auto n_tok, int64_t t) {
    tile<decltype(n_tok)::value, false>(nb, wgroup, act, t0 + t, y + t * ldy, ldy);
  });
}

}  // namespace autoglm::cpu::simd
