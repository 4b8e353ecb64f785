// How the AVX2 packed kernels (gemm_r16_avx2.cpp, gemm_q4k_r16_avx2.cpp) share the weight stream
// between the two 8-row halves they work a 16-row group as (16 ymm registers cannot hold both
// halves' accumulators beside the tokens' sums). One pass per half over the whole group leaves
// memory idle through the second pass, which reads from cache; on a CPU as slow at int8 as Zen 1
// decode then costs memory time plus half the arithmetic, not the larger of the two. So where
// memory is the bound the halves alternate every few blocks and both passes ask for lines ahead.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace autoglm::cpu::simd {

// Interleaving pays where memory is the bound (decode's one or two tokens); with more tokens the
// arithmetic is, and one pass per half over the whole group measured faster there.
template <int NT>
inline constexpr bool kInterleaveHalves = NT <= 2;

// Asks for the `bytes` at p (a block some distance ahead) from half h's pass: interleaved, each
// half asks for every other line, so the requests run through both passes; otherwise the first
// pass asks for all of them and the second finds them in cache. The hardware prefetcher alone
// keeps too few misses in flight.
// kHint: _MM_HINT_T0 (into L1) or _MM_HINT_T1 (into L2; the 5- and 6-bit layouts, whose
// weights take more work to unpack, read faster so).
template <bool kInterleave, int kHint = _MM_HINT_T0>
inline void prefetch_for_half(const uint8_t* p, size_t bytes, int h) {
  if (!kInterleave && h != 0) return;
  constexpr size_t kStep = kInterleave ? 2 : 1;
  for (size_t l = kInterleave ? static_cast<size_t>(h) : 0; l < (bytes + 63) / 64; l += kStep) {
    _mm_prefetch(reinterpret_cast<const char*>(p + 64 * l), static_cast<_mm_hint>(kHint));
  }
}

}  // namespace autoglm::cpu::simd
