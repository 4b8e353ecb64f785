// The shell every AVX2 packed kernel shares (gemm_r16_avx2.cpp, gemm_q4k_r16_avx2.cpp,
// gemm_q36k_r16_avx2.cpp): a 16-row group worked as two halves of 8 rows, since 16 ymm registers
// cannot hold both halves' accumulators beside the tokens' sums and the unpacked weights. One
// pass per half over the whole group leaves memory idle through the second pass, which reads
// from cache; on a CPU as slow at int8 as Zen 1 decode then costs memory time plus half the
// arithmetic, not the larger of the two. So where memory is the bound the halves alternate every
// few blocks and both passes ask for lines ahead.
// Include only from translation units compiled with the AVX2 kernel flags (*_avx2.cpp).
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

// How a layout's blocks stream through the two passes.
struct HalfPassShape {
  size_t block_bytes;        // one packed block (or super-block) of 16 rows
  int64_t chunk;             // blocks per pass of one half, interleaved
  size_t ahead_interleaved;  // blocks ahead the passes ask for, interleaved
  size_t ahead;              // ... and with one pass per half
  int hint;                  // prefetch_for_half's kHint
};

// Where decode_prefetch_far_l2() (Intel), one- and two-token tiles (kAlsoFar) also ask for the
// lines this far ahead into L2, besides the shape's own requests: on the Intel Xeon without AMX,
// with AUTOGLM_CPU_ISA=avx2, one token's read of a 1 GiB matrix rose for every layout but Q5_0 /
// Q5_1 (same), e.g. Q4_K 60-66% -> 83-84% of the read probe, F16 73-74% -> 92% (bench_kernels
// --stream; 12, 16 and 24 KB ahead read alike; docs/BENCHMARKS.md). Q3_K / Q6_K do not ask.
inline constexpr size_t kHalfPassFarBytes = 16384;

// One tile of NT tokens over the nb blocks of a 16-row group. block(blk, b, h, sum) adds the
// products of block b (at blk) for half h's 8 rows into sum[NT] (8 rows per register, one per
// token); the 16 rows' results go to y[t * ldy + 0..15]. kAlsoFar: the far requests above (only
// at NT <= 2).
template <HalfPassShape S, int NT, bool kAlsoFar, class Block>
inline void half_pass_tile(int64_t nb, const uint8_t* wgroup, float* y, int64_t ldy, Block&& block) {
  constexpr bool kInterleave = kInterleaveHalves<NT>;
  constexpr size_t kAhead = (kInterleave ? S.ahead_interleaved : S.ahead) * S.block_bytes;
  const int64_t chunk = kInterleave ? S.chunk : nb;
  __m256 acc[2][NT];
  for (int h = 0; h < 2; ++h) {
    for (int t = 0; t < NT; ++t) acc[h][t] = _mm256_setzero_ps();
  }
  for (int64_t b0 = 0; b0 < nb; b0 += chunk) {
    const int64_t b1 = b0 + chunk < nb ? b0 + chunk : nb;
    for (int h = 0; h < 2; ++h) {  // rows 8h..8h+7
      __m256 sum[NT];
      for (int t = 0; t < NT; ++t) sum[t] = acc[h][t];
      for (int64_t b = b0; b < b1; ++b) {
        const uint8_t* blk = wgroup + static_cast<size_t>(b) * S.block_bytes;
        prefetch_for_half<kInterleave, S.hint>(blk + kAhead, S.block_bytes, h);
        if constexpr (kAlsoFar && kInterleave) prefetch_for_half<true, _MM_HINT_T1>(blk + kHalfPassFarBytes, S.block_bytes, h);
        block(blk, b, h, sum);
      }
      for (int t = 0; t < NT; ++t) acc[h][t] = sum[t];
    }
  }
  for (int h = 0; h < 2; ++h) {
    for (int t = 0; t < NT; ++t) _mm256_storeu_ps(y + t * ldy + 8 * h, acc[h][t]);
  }
}

// Register c's fifth bits as 16 (bit c of every byte of hb moved to bit 4, the rest 0), to OR
// into its nibbles: Q5_0_R16 / Q5_1_R16 and Q5_K_R16 keep each register's fifth bits as one bit
// of a byte (16-bit shifts: bits crossing into the next byte land outside the 0x10 mask).
inline __m256i fifth_bit(__m256i hb, int c) {
  const __m256i m = c < 4 ? _mm256_slli_epi16(hb, 4 - c) : c == 4 ? hb : _mm256_srli_epi16(hb, c - 4);
  return _mm256_and_si256(m, _mm256_set1_epi8(0x10));
}

// 4 activation bytes at p in every 32-bit lane: the vpmaddubsw operand against 4 columns.
inline __m256i bcast4(const void* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

}  // namespace autoglm::cpu::simd
