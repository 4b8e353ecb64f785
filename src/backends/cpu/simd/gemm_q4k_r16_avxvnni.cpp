// The AVX-VNNI kernels for Q4_K_R16 and Q5_K_R16 (backends/cpu/packed_q4k.h): CPUs with 256-bit
// vpdpbusd but no AVX-512 (Alder Lake and later client cores). The shell and the super-block half's head
// (simd/q4k_half_avx2.h: scales, mins term) are the AVX2 kernel's (gemm_q4k_r16_avx2.cpp); the
// sub-block dots take the AVX-512 kernel's route (gemm_q4k_r16_avx512.cpp) on 8 rows: 8 vpdpbusd
// of the nibbles against broadcast 4-byte groups of the Q8_K activations, where vpmaddubsw and
// an int16 add per product ran before. Each 16-column half's dot fits int16 (16 * 15 * 128), so one vpdpwssd per half against
// the rows' scales (high halves 0) adds sc * dot exactly. Per super-block two fmas, mins first, as
// gemm_q4_K_r16_reference, so results are bit-identical to it.
// Q5_K_R16's 16-column dots can pass int16 (16 * 31 * 127), and a vpmulld route (the AVX-512
// kernel's) measured slower than the AVX2 kernel's vpmaddubsw at 2-4 tokens (docs/BENCHMARKS.md);
// so its dots go in 8-column quarters (8 * 31 * 127 fits int16), two vpdpbusd each, with one
// vpdpwssd per quarter, as the Q6_K_R16 AVX-VNNI kernel's: 61-63 -> 73-75 GMAC/s at 4-64 tokens.
// Compiled with the AVX2 flags plus -mavxvnni; runs only where cpu_has_avx_vnni().
#include <immintrin.h>

#include "backends/cpu/packed_q4k.h"
#include "backends/cpu/simd/half_passes.h"
#include "backends/cpu/simd/q4k_half_avx2.h"
#include "backends/cpu/simd/simd.h"
#include "backends/cpu/simd/token_tiles.h"
#include "backends/cpu/simd/vnni_dot_avx2.h"
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
      // The 8 rows' scales, one per 32-bit lane (high halves 0: vpdpwssd's second product is 0).
      const __m256i sc = half.scales(j);
      const uint8_t* q = sb + kQ4KR16QOff + 512 * (j / 2) + 32 * h;
      __m256i hb = _mm256_setzero_si256();
      if constexpr (kFive) hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb + kQ5KR16HighOff + 64 * j + 32 * h));
      __m256i w[8];
      for (int c = 0; c < 8; ++c) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * c));
        w[c] = _mm256_and_si256(j % 2 ? _mm256_srli_epi16(v, 4) : v, mask);
        if constexpr (kFive) w[c] = _mm256_or_si256(w[c], fifth_bit(hb, c));
      }
      for (int t = 0; t < NT; ++t) {
        const int8_t* qs = a0[static_cast<size_t>(t) * astride + static_cast<size_t>(s)].qs + 32 * j;
        __m256i e;
        if constexpr (kFive) {
          const __m256i zero = _mm256_setzero_si256();
          const __m256i init[4] = {zero, zero, zero, zero};
          __m256i d[4];
          vnni256::quarter_dots(init, w, qs, d);
          e = _mm256_dpwssd_avx_epi32(_mm256_dpwssd_avx_epi32(_mm256_setzero_si256(), d[0], sc), d[1], sc);
          e = _mm256_dpwssd_avx_epi32(_mm256_dpwssd_avx_epi32(e, d[2], sc), d[3], sc);
        } else {
          __m256i d0, d1;
          vnni256::sub_block_pair_dots(_mm256_setzero_si256(), _mm256_setzero_si256(), w, qs, d0, d1);
          e = _mm256_dpwssd_avx_epi32(_mm256_dpwssd_avx_epi32(_mm256_setzero_si256(), d0, sc), d1, sc);
        }
        // From 0 and added after: the sum over sub-blocks runs through 1-cycle adds, not
        // through vpdpwssd's latency (a 2-token tile was bound by that chain).
        isum[t] = _mm256_add_epi32(isum[t], e);
      }
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
  // A decode step's call (1-2 tokens) where the far prefetch is chosen takes its own tiles.
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

void gemm_q4_K_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy) {
  gemm<false>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q5_K_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy) {
  gemm<true>(nb, wgroup, act, t0, nt, y, ldy);
}

}  // namespace autoglm::cpu::simd
