// AVX-512 kernels for F32_R16 / F16_R16 / BF16_R16 (backends/cpu/packed_float.h). Per column: one
// load of the 16 rows' values, converted to f32 once (vcvtph2ps, or BF16's 16-bit shift), then
// one fma per token of the tile against the token's value broadcast from memory. Each lane keeps
// the reference's single chain of fmas over the columns in order, so results are bit-identical
// to it; the tile's tokens are the independent chains that fill the FMA pipes (a lone token,
// decode, is bound by fma latency at 16 multiply-adds per 4 cycles, far above the read rate).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "backends/cpu/packed_float.h"
#include "backends/cpu/simd/token_tiles.h"

namespace autoglm::cpu::simd {
namespace {

constexpr int kTile = 16;  // tokens per register tile: 16 accumulators, the weights' conversion shared
// Decode streams the weights once: lines asked for 1 KiB ahead into L1 for up to 4 tokens (a
// batched step's few: bench_kernels --stream --tokens 4 --only f32_r16,bf16_r16p, 3 rounds of 7,
// f32 18.8-21.2 -> 25.1-27.2 GB/s against the L2 request 2 KiB ahead); for more the tile's
// arithmetic hides latency and a farther L2 request is enough (as gemm_r16_avx512.cpp).
template <int NT>
constexpr size_t kAheadBytes = NT <= 4 ? 1024 : 2048;
template <int NT>
constexpr int kPrefetchHint = NT <= 4 ? _MM_HINT_T0 : _MM_HINT_T1;

enum class Src { kF32, kF16, kBF16 };
template <Src S>
constexpr size_t kColumnBytes = S == Src::kF32 ? kF32R16ColumnBytes : kFloatR16ColumnBytes;

template <Src S>
inline __m512 load_column(const uint8_t* p) {
  if constexpr (S == Src::kF32) return _mm512_loadu_ps(p);
  const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  if constexpr (S == Src::kF16) return _mm512_cvtph_ps(raw);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
}

// G row groups side by side (1, or 2 for the pair kernels: adjacent in memory, group g's
// outputs at y[g]). With two, each token's broadcast activation feeds both groups' fmas, so a
// column needs 2 weight loads and NT broadcasts for 2 NT fmas where one group needs 1 and NT for
// NT; with few tokens (decode) the second group's chains hide the fma latency. Either way each
// lane's chain is the reference's.
template <int G>
constexpr int kTileOf = G == 1 ? kTile : 12;  // a pair: 24 accumulators, 4 weight registers, 2 broadcasts

template <Src S, int G, int NT>
inline void tile(int64_t k, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* const* y,
                 int64_t ldy) {
  const size_t group_bytes = static_cast<size_t>(k) * kColumnBytes<S>;
  const float* x = act.xf.data() + t0 * act.ldx;
  const int64_t ld = act.ldx;
  __m512 acc[G][NT];
  for (int g = 0; g < G; ++g) {
    for (int t = 0; t < NT; ++t) acc[g][t] = _mm512_setzero_ps();
  }
  int64_t c = 0;
  for (; c + 2 <= k; c += 2) {  // one 64-byte line per two columns (F32: per column)
    __m512 w0[G], w1[G];
    for (int g = 0; g < G; ++g) {
      const uint8_t* col = wgroup + g * group_bytes + static_cast<size_t>(c) * kColumnBytes<S>;
      for (size_t l = 0; l < 2 * kColumnBytes<S>; l += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(col + l + kAheadBytes<NT>), static_cast<_mm_hint>(kPrefetchHint<NT>));
      }
      w0[g] = load_column<S>(col);
      w1[g] = load_column<S>(col + kColumnBytes<S>);
    }
    for (int t = 0; t < NT; ++t) {
      const __m512 x0 = _mm512_set1_ps(x[t * ld + c]), x1 = _mm512_set1_ps(x[t * ld + c + 1]);
      for (int g = 0; g < G; ++g) acc[g][t] = _mm512_fmadd_ps(w0[g], x0, acc[g][t]);
      for (int g = 0; g < G; ++g) acc[g][t] = _mm512_fmadd_ps(w1[g], x1, acc[g][t]);
    }
  }
  for (; c < k; ++c) {
    __m512 w[G];
    for (int g = 0; g < G; ++g) w[g] = load_column<S>(wgroup + g * group_bytes + static_cast<size_t>(c) * kColumnBytes<S>);
    for (int t = 0; t < NT; ++t) {
      const __m512 xc = _mm512_set1_ps(x[t * ld + c]);
      for (int g = 0; g < G; ++g) acc[g][t] = _mm512_fmadd_ps(w[g], xc, acc[g][t]);
    }
  }
  for (int t = 0; t < NT; ++t) {
    for (int g = 0; g < G; ++g) _mm512_storeu_ps(y[g] + t * ldy, acc[g][t]);
  }
}

template <Src S, int G>
void gemm(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt, float* const* y,
          int64_t ldy) {
  for_token_tiles<kTileOf<G>>(nt, [&](auto n_tok, int64_t t) {
    float* yt[G];
    for (int g = 0; g < G; ++g) yt[g] = y[g] + t * ldy;
    tile<S, G, decltype(n_tok)::value>(nb, wgroup, act, t0 + t, yt, ldy);
  });
}

template <Src S>
void gemm_one(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt, float* y,
              int64_t ldy) {
  gemm<S, 1>(nb, wgroup, act, t0, nt, &y, ldy);
}

template <Src S>
void gemm_pair(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt, float* y0,
               float* y1, int64_t ldy) {
  float* const y[2] = {y0, y1};
  gemm<S, 2>(nb, wgroup, act, t0, nt, y, ldy);
}

}  // namespace

void gemm_f32_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                         float* y, int64_t ldy) {
  gemm_one<Src::kF32>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_f16_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                         float* y, int64_t ldy) {
  gemm_one<Src::kF16>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_bf16_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy) {
  gemm_one<Src::kBF16>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_f32_r16_pair_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                              float* y0, float* y1, int64_t ldy) {
  gemm_pair<Src::kF32>(nb, wgroup, act, t0, nt, y0, y1, ldy);
}

void gemm_f16_r16_pair_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                              float* y0, float* y1, int64_t ldy) {
  gemm_pair<Src::kF16>(nb, wgroup, act, t0, nt, y0, y1, ldy);
}

void gemm_bf16_r16_pair_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                               float* y0, float* y1, int64_t ldy) {
  gemm_pair<Src::kBF16>(nb, wgroup, act, t0, nt, y0, y1, ldy);
}

}  // namespace autoglm::cpu::simd
