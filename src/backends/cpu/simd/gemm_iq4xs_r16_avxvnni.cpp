// The AVX-VNNI kernel for IQ4_XS_R16 (backends/cpu/packed_iq4xs.h): CPUs with 256-bit vpdpbusd but
// no AVX-512 (Alder Lake and later client cores). The shell is the AVX2 kernel's
// (simd/iq4xs_half_avx2.h); a sub-block's dots take the AVX-512 kernel's route
// (gemm_iq4xs_r16_avx512.cpp) on 8 rows: the nibbles looked up as grid + 128 (unsigned, one
// vpshufb per register), two chains of 4 vpdpbusd against broadcast 4-byte groups of the Q8_K
// activations, one started from -128 times the sub-block's activation sum
// (PackedActivations::bias), give the rows' exact dots, multiplied by the rows' factors (ls - 32)
// with vpmulld (a dot can pass int16: 32 * 127 * 127). Where the AVX2 kernel ran per token and
// sub-block 8 vpsignb, 8 vpmaddubsw, 8 vpmaddwd and 8 adds, this runs 8 vpdpbusd, a vpmulld and
// 2 adds. Results are bit-identical to gemm_iq4_xs_r16_reference.
// Compiled with the AVX2 flags plus -mavxvnni; runs only where cpu_has_avx_vnni().
#include <immintrin.h>

#include "backends/cpu/simd/iq4xs_half_avx2.h"
#include "backends/cpu/simd/packed_simd.h"
#include "backends/cpu/simd/simd.h"
#include "backends/cpu/simd/token_tiles.h"
#include "backends/cpu/simd/vnni_dot_avx2.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

constexpr int kTile = 4;  // tokens per register tile

template <int NT, bool kAlsoFar>
inline void tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                 int64_t ldy) {
  const auto* a0 = reinterpret_cast<const quant::block_q8_K*>(act.q.data()) + t0 * act.nb;
  const size_t astride = static_cast<size_t>(act.nb);
  iq4xs_half_tile<NT, kAlsoFar>(nb, wgroup, act, t0, y, ldy, [&](int64_t s, int j, const uint8_t* q, __m256i f,
                                                                 __m256i isum[NT]) __attribute__((always_inline)) {
    __m256i w[8];
    vnni256::half_weights<Layout::kIQ4NL>(q, 0, w);  // q: this half's bytes already
    for (int t = 0; t < NT; ++t) {
      const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
      const int8_t* qs = a0[static_cast<size_t>(t) * astride + static_cast<size_t>(s)].qs + 32 * j;
      __m256i d0, d1;
      vnni256::sub_block_pair_dots(_mm256_set1_epi32(act.bias[si * 8 + static_cast<size_t>(j)]), _mm256_setzero_si256(), w,
                                   qs, d0, d1);
      isum[t] = _mm256_add_epi32(isum[t], _mm256_mullo_epi32(_mm256_add_epi32(d0, d1), f));
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

void gemm_iq4_xs_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
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
