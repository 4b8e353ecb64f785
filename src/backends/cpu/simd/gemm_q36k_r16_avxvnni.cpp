// The AVX-VNNI kernels for Q6_K_R16, Q3_K_R16 and Q2_K_R16 (backends/cpu/packed_q6k.h,
// packed_q3k.h, packed_q2k.h): CPUs with 256-bit vpdpbusd but no AVX-512 (Alder Lake and later
// client cores). The shell and the layouts' unit readers are the AVX2 kernel's
// (simd/q36k_half_avx2.h); a unit's dots take the AVX-512 kernel's route (gemm_q36k_r16_avx512.cpp)
// on 8 rows: chains of vpdpbusd of the weights against broadcast 4-byte groups of the Q8_K
// activations, each started from -offset times its columns' activation sum
// (PackedActivations::bias: -4 * a 16-column sub-block's for Q3_K; bias8: -32 * an 8-column
// group's for Q6_K; Q2_K none), so the dots come out signed and exact; then one vpdpwssd per dot
// against the rows' scale (held in each lane's low 16 bits, the high 0) adds scale * dot. That
// needs each dot within int16: Q2_K 16 * 3 * 127, Q3_K 16 * 4 * 127, Q6_K 8 * 32 * 127 (hence its
// 8-column chains). Where the AVX2 kernel ran per token and unit 8 vpmaddubsw, 4-6 int16 adds and
// 3-5 vpmaddwd with their adds, this runs 8 vpdpbusd and 2 (Q6_K: 4) vpdpwssd. Per super-block one
// fma (Q2_K: its mins first), as the scalar references, so results are bit-identical to them.
// Compiled with the AVX2 flags plus -mavxvnni; runs only where cpu_has_avx_vnni().
#include <immintrin.h>

#include <type_traits>

#include "backends/cpu/simd/q36k_half_avx2.h"
#include "backends/cpu/simd/simd.h"
#include "backends/cpu/simd/token_tiles.h"
#include "backends/cpu/simd/vnni_dot_avx2.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

constexpr int kTile = 4;  // tokens per register tile

template <class K, int NT, bool kAlsoFar>
inline void tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                 int64_t ldy) {
  const auto* a0 = reinterpret_cast<const quant::block_q8_K*>(act.q.data()) + t0 * act.nb;
  const size_t astride = static_cast<size_t>(act.nb);
  const __m256i low16 = _mm256_set1_epi32(0xFFFF);
  q36k_half_tile<K, NT, kAlsoFar>(nb, wgroup, act, t0, y, ldy, [&](const uint8_t* sb, int64_t s, int j, int h, __m256i sa,
                                                                   __m256i sbb, __m256i isum[NT], __m256i*) __attribute__((always_inline)) {
    // The scales in the lanes' low halves (Q3_K's and Q6_K's are signed: their high halves are
    // the sign, which vpdpwssd would multiply by the dot's high half).
    const __m256i sc_a = _mm256_and_si256(sa, low16), sc_b = _mm256_and_si256(sbb, low16);
    __m256i w[8];
    K::weights(sb, j, h, w);
    for (int t = 0; t < NT; ++t) {
      const int8_t* qs = a0[static_cast<size_t>(t) * astride + static_cast<size_t>(s)].qs + 32 * j;
      const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
      __m256i e;
      if constexpr (std::is_same_v<K, Q6K>) {
        // Four 8-column chains (columns 8k..8k+7 of the unit: w[2k], w[2k + 1]).
        const int32_t* bias8 = act.bias8.data() + si * 32 + 4 * static_cast<size_t>(j);
        const __m256i init[4] = {_mm256_set1_epi32(bias8[0]), _mm256_set1_epi32(bias8[1]), _mm256_set1_epi32(bias8[2]),
                                 _mm256_set1_epi32(bias8[3])};
        __m256i d[4];
        vnni256::quarter_dots(init, w, qs, d);
        e = _mm256_dpwssd_avx_epi32(_mm256_dpwssd_avx_epi32(_mm256_setzero_si256(), d[0], sc_a), d[1], sc_a);
        e = _mm256_dpwssd_avx_epi32(_mm256_dpwssd_avx_epi32(e, d[2], sc_b), d[3], sc_b);
      } else {
        // Two 16-column chains, interleaved so one token is not bound by their latency.
        __m256i init0 = _mm256_setzero_si256(), init1 = _mm256_setzero_si256();
        if constexpr (K::kHasOffset) {
          const int32_t* bias = act.bias.data() + si * 16 + 2 * static_cast<size_t>(j);
          init0 = _mm256_set1_epi32(bias[0]);
          init1 = _mm256_set1_epi32(bias[1]);
        }
        __m256i d0, d1;
        vnni256::sub_block_pair_dots(init0, init1, w, qs, d0, d1);
        e = _mm256_dpwssd_avx_epi32(_mm256_dpwssd_avx_epi32(_mm256_setzero_si256(), d0, sc_a), d1, sc_b);
      }
      // From 0 and added after: the sum over units runs through 1-cycle adds, not through
      // vpdpwssd's latency.
      isum[t] = _mm256_add_epi32(isum[t], e);
    }
  });
}

// The far-prefetch decode tiles out of line, as gemm_r16_avxvnni.cpp's decode_far (see there).
template <class K>
__attribute__((noinline)) void decode_far(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                                          int64_t nt, float* y, int64_t ldy) {
  run_token_tile<2>(nt, 0, [&](auto n_tok, int64_t) {
    tile<K, decltype(n_tok)::value, true>(nb, wgroup, act, t0, y, ldy);
  });
}

template <class K>
void gemm(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt, float* y,
          int64_t ldy) {
  // A decode step's call (1-2 tokens) where the far prefetch is chosen and pays takes its own
  // tiles (decode_far).
  if constexpr (K::kAlsoFarHelps) {
    static const bool far = decode_prefetch_far_l2();
    if (far && nt <= 2) {
      decode_far<K>(nb, wgroup, act, t0, nt, y, ldy);
      return;
    }
  }
  for_token_tiles<kTile>(nt, [&](auto n_tok, int64_t t) {
    tile<K, decltype(n_tok)::value, false>(nb, wgroup, act, t0 + t, y + t * ldy, ldy);
  });
}

}  // namespace

void gemm_q6_K_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy) {
  gemm<Q6K>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q2_K_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy) {
  gemm<Q2K>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q3_K_r16_avxvnni(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy) {
  gemm<Q3K>(nb, wgroup, act, t0, nt, y, ldy);
}

}  // namespace autoglm::cpu::simd
