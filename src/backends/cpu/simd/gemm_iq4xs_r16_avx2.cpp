// AVX2 kernel for IQ4_XS_R16 (backends/cpu/packed_iq4xs.h), for CPUs without AVX-512. One 256-bit
// register holds 4 columns of 8 rows, so a row group is worked as two halves of 8 rows
// (simd/half_passes.h); for decode's one or two tokens the halves alternate every super-block.
// The nibbles are looked up signed (vpshufb, -127..113): the grid + 128 would saturate
// vpmaddubsw. So each column group goes in as |w| with its sign moved onto the activations
// (pairs of at most 2 * 127 * 127 = 32258), and one vpmaddwd against the rows' factor (ls - 32),
// held twice per 32-bit lane, widens and scales each: exact in int32, and no offset is needed.
// Per super-block one fma, as gemm_iq4_xs_r16_reference, so results are bit-identical to it.
#include <immintrin.h>

#include "backends/cpu/simd/iq4xs_half_avx2.h"
#include "backends/cpu/simd/packed_simd.h"
#include "backends/cpu/simd/simd.h"
#include "backends/cpu/simd/token_tiles.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

constexpr int kTile = 4;  // tokens per register tile

template <int NT, bool kAlsoFar>
inline void tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                 int64_t ldy) {
  const auto* a0 = reinterpret_cast<const quant::block_q8_K*>(act.q.data()) + t0 * act.nb;
  const size_t astride = static_cast<size_t>(act.nb);
  const __m256i mask = _mm256_set1_epi8(0x0F);
  const __m256i grid = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(kIQ4Grid.s)));
  iq4xs_half_tile<NT, kAlsoFar>(nb, wgroup, act, t0, y, ldy, [&](int64_t s, int j, const uint8_t* q, __m256i f,
                                                                 __m256i isum[NT]) __attribute__((always_inline)) {
    const __m256i sc = _mm256_or_si256(_mm256_and_si256(f, _mm256_set1_epi32(0xFFFF)), _mm256_slli_epi32(f, 16));
    for (int c = 0; c < 8; ++c) {  // chunk c % 4's low nibbles (c < 4) or high ones
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * (c % 4)));
      const __m256i w = _mm256_shuffle_epi8(grid, _mm256_and_si256(c < 4 ? v : _mm256_srli_epi16(v, 4), mask));
      const __m256i wabs = _mm256_sign_epi8(w, w);
      for (int t = 0; t < NT; ++t) {
        const int8_t* qs = a0[static_cast<size_t>(t) * astride + static_cast<size_t>(s)].qs + 32 * j + 4 * c;
        const __m256i p = _mm256_maddubs_epi16(wabs, _mm256_sign_epi8(bcast4(qs), w));
        isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(p, sc));
      }
    }
  });
}

// The far-prefetch decode tiles out of line, as gemm_r16_avxvnni.cpp's decode_far (see there).
__attribute__((noinline)) void decode_far(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                                          int64_t nt, float* y, int64_t ldy) {
  run_token_tile<2>(nt, 0, [&](auto n_tok, int64_t) {
    tile<decltype(n_tok)::value, true>(nb, wgroup, act, t0, y, ldy);
  });
}

}  // namespace

void gemm_iq4_xs_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy) {
  // A decode step's call (1-2 tokens) where the far prefetch is chosen takes its own tiles.
  static const bool far = decode_prefetch_far_l2();
  if (far && nt <= 2) {
    decode_far(nb, wgroup, act, t0, nt, y, ldy);
    return;
  }
  for_token_tiles<kTile>(nt, [&](auto n_tok, int64_t t) {
    tile<decltype(n_tok)::value, false>(nb, wgroup, act, t0 + t, y + t * ldy, ldy);
  });
}

}  // namespace autoglm::cpu::simd
