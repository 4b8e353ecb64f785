// AVX2 kernels for F32_R16 / F16_R16 / BF16_R16 (backends/cpu/packed_float.h), for CPUs without
// AVX-512.
// One 256-bit register holds one column of 8 rows, so a row group is worked as two halves of 8
// rows (simd/half_passes.h), 8 columns per block; for decode's one or two tokens the halves
// alternate every 64 columns. From 3 tokens both halves go at once (wide_tile). Per column: one 128-bit load converted to f32 (vcvtph2ps, or
// BF16's 16-bit shift; F32: a 256-bit load), then one fma per token. Each lane keeps the reference's single chain of
// fmas over the columns in order, so results are bit-identical to it.
#include <immintrin.h>

#include <algorithm>

#include "backends/cpu/packed_float.h"
#include "backends/cpu/simd/half_passes.h"
#include "backends/cpu/simd/simd.h"
#include "backends/cpu/simd/token_tiles.h"
#include "core/check.h"

namespace autoglm::cpu::simd {
namespace {

constexpr int64_t kBlockCols = 8;  // columns per block of the half-pass shell

enum class Src { kF32, kF16, kBF16 };
template <Src S>
constexpr size_t kColumnBytes = S == Src::kF32 ? kF32R16ColumnBytes : kFloatR16ColumnBytes;

// Rows 8h..8h+7 of the column at p.
template <Src S>
inline __m256 load_half_column(const uint8_t* p, int h) {
  if constexpr (S == Src::kF32) return _mm256_loadu_ps(reinterpret_cast<const float*>(p) + 8 * h);
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * h));
  if constexpr (S == Src::kF16) return _mm256_cvtph_ps(raw);
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(raw), 16));
}

template <Src S, int NT, bool kAlsoFar>
inline void tile(int64_t k, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y, int64_t ldy) {
  constexpr HalfPassShape kShape{kBlockCols * kColumnBytes<S>, 8, 8, 8, _MM_HINT_T0};
  const float* x = act.xf.data() + t0 * act.ldx;
  const int64_t ld = act.ldx;
  half_pass_tile<kShape, NT, kAlsoFar>(k / kBlockCols, wgroup, y, ldy, [&](const uint8_t* blk, int64_t b, int h, __m256 sum[NT]) {
    for (int c = 0; c < kBlockCols; ++c) {
      const __m256 w = load_half_column<S>(blk + kColumnBytes<S> * c, h);
      for (int t = 0; t < NT; ++t) sum[t] = _mm256_fmadd_ps(w, _mm256_set1_ps(x[t * ld + b * kBlockCols + c]), sum[t]);
    }
  });
}

// Both halves at once, from 3 tokens (prefill, batched decode): per column 2 weight loads and NT
// broadcasts feed 2 NT fmas, where a half's pass needs 1 and NT for NT (a load per fma), and the
// weights stream in one pass instead of two. 2 x 6 accumulators, 2 weights and a broadcast fill
// 15 of the 16 registers. The same chains, so the same bits. AUTOGLM_CPU_ISA=avx2 bench_kernels,
// GMAC/s at T = 4 / 16 / 64 (f16): 25 / 45 / 45 -> 48 / 51 / 52; --stream --tokens 4: 45 -> 70-75%
// of the read probe.
constexpr int kWideTile = 6;
constexpr int64_t kWideFrom = 3;  // tokens from which the call takes wide tiles

template <Src S, int NT>
inline void wide_tile(int64_t k, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                      int64_t ldy) {
  const float* x = act.xf.data() + t0 * act.ldx;
  const int64_t ld = act.ldx;
  __m256 lo[NT], hi[NT];
  for (int t = 0; t < NT; ++t) lo[t] = hi[t] = _mm256_setzero_ps();
  for (int64_t c = 0; c < k; ++c) {
    const uint8_t* col = wgroup + static_cast<size_t>(c) * kColumnBytes<S>;
    // A line a column (F32) or every second one (halves), 1 KiB ahead into L1, as the AVX-512 kernel.
    if (S == Src::kF32 || c % 2 == 0) _mm_prefetch(reinterpret_cast<const char*>(col + 1024), _MM_HINT_T0);
    const __m256 w0 = load_half_column<S>(col, 0), w1 = load_half_column<S>(col, 1);
    for (int t = 0; t < NT; ++t) {
      const __m256 xc = _mm256_set1_ps(x[t * ld + c]);
      lo[t] = _mm256_fmadd_ps(w0, xc, lo[t]);
      hi[t] = _mm256_fmadd_ps(w1, xc, hi[t]);
    }
  }
  for (int t = 0; t < NT; ++t) {
    _mm256_storeu_ps(y + t * ldy, lo[t]);
    _mm256_storeu_ps(y + t * ldy + 8, hi[t]);
  }
}

// The far-prefetch decode tiles out of line, as gemm_r16_avxvnni.cpp's decode_far (see there).
template <Src S>
__attribute__((noinline)) void decode_far(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                                          int64_t nt, float* y, int64_t ldy) {
  run_token_tile<kWideFrom - 1>(nt, 0, [&](auto n_tok, int64_t) {
    tile<S, decltype(n_tok)::value, true>(nb, wgroup, act, t0, y, ldy);
  });
}

template <Src S>
void gemm(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt, float* y,
          int64_t ldy) {
  // should_pack keeps matrices whose rows are not a multiple of 32 columns in the row layout.
  AG_CHECK(nb % kBlockCols == 0);
  if (nt >= kWideFrom) {
    const auto run = [&](auto n_tok, int64_t t) {
      wide_tile<S, decltype(n_tok)::value>(nb, wgroup, act, t0 + t, y + t * ldy, ldy);
    };
    for (int64_t t = 0; t < nt;) {
      // Tiles of 6, but 4 + 4 and 4 + 3 where 6 + 2 and 6 + 1 would leave a thin one (bench_kernels
      // AUTOGLM_CPU_ISA=avx2, T=8: 42 GMAC/s as 6 + 2, 48 as 4 + 4).
      const int64_t rest = nt - t, n = rest == 7 || rest == 8 ? 4 : std::min<int64_t>(rest, kWideTile);
      run_token_tile<kWideTile>(n, t, run);
      t += n;
    }
    return;
  }
  // One or two tokens (decode): one tile, the halves' passes alternating, with the far L2
  // requests where decode_prefetch_far_l2() (half_passes.h).
  static const bool far = decode_prefetch_far_l2();
  if (far) {
    decode_far<S>(nb, wgroup, act, t0, nt, y, ldy);
    return;
  }
  run_token_tile<kWideFrom - 1>(nt, 0, [&](auto n_tok, int64_t) {
    tile<S, decltype(n_tok)::value, false>(nb, wgroup, act, t0, y, ldy);
  });
}

}  // namespace

void gemm_f32_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                       float* y, int64_t ldy) {
  gemm<Src::kF32>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_f16_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                       float* y, int64_t ldy) {
  gemm<Src::kF16>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_bf16_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy) {
  gemm<Src::kBF16>(nb, wgroup, act, t0, nt, y, ldy);
}

}  // namespace autoglm::cpu::simd
