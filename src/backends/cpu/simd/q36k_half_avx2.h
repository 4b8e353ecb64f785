// Q6_K_R16, Q3_K_R16 and Q2_K_R16 as the 256-bit kernels read them (AVX2:
// gemm_q36k_r16_avx2.cpp, AVX-VNNI: gemm_q36k_r16_avxvnni.cpp): how one layout's 32-column unit
// (sub-blocks 2j, 2j + 1) gives its 8 weight registers and the rows' scales for half h (rows
// 8h..8h+7), and the tile both kernels run, which differ only in how they form a unit's scaled
// integer dots. Include only from translation units compiled with the AVX2 kernel flags
// (*_avx2.cpp, *_avxvnni.cpp); the anonymous namespace gives each its own copy.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "backends/cpu/packed.h"
#include "backends/cpu/packed_q2k.h"
#include "backends/cpu/packed_q3k.h"
#include "backends/cpu/packed_q6k.h"
#include "backends/cpu/simd/half_passes.h"
#include "backends/cpu/simd/scales192_avx2.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

// x >> n for n in [-7, 7] (a left shift for negative n), in 16-bit lanes.
inline __m256i shift_right(__m256i x, int n) {
  return n > 0 ? _mm256_srli_epi16(x, n) : n < 0 ? _mm256_slli_epi16(x, -n) : x;
}

// 256 four-bit values in 128 bytes (value k low in byte k, value k + 128 high in byte k - 128)
// -> u[0..255] (32-byte aligned).
inline void unpack_nibbles256(const uint8_t* area, uint8_t* u) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  for (int q = 0; q < 4; ++q) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(area + 32 * q));
    _mm256_store_si256(reinterpret_cast<__m256i*>(u + 32 * q), _mm256_and_si256(v, m4));
    _mm256_store_si256(reinterpret_cast<__m256i*>(u + 128 + 32 * q), _mm256_and_si256(_mm256_srli_epi16(v, 4), m4));
  }
}

// How one layout's unit j (32 columns: sub-blocks 2j, 2j + 1) is read. prepare() unpacks what a
// super-block's units share into u (512 bytes).
struct Q6K {
  static constexpr size_t kBytes = kQ6KR16Bytes;
  static constexpr bool kHasOffset = true, kHasMins = false;
  static constexpr int kOffsetShift = 5;     // the offset is -32 = -(1 << 5)
  static constexpr bool kOneWiden = false;  // 4 pairs overflow int16
  // No far L2 requests at 1-2 tokens (half_passes.h): one token read 64-69% of the probe with or
  // without, and from cache ran slower (25 -> 15-22 GMAC/s).
  static constexpr bool kAlsoFarHelps = false;
  static void prepare(const uint8_t*, uint8_t*) {}
  // The int8 scales of the half's 8 rows, sub-blocks 2j and 2j + 1, as int32 per row.
  static void scales(const uint8_t* sb, const uint8_t*, int j, int h, __m256i& sa, __m256i& sbb) {
    sa = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sb + kQ6KR16ScalesOff + 32 * j + 8 * h)));
    sbb = _mm256_cvtepi8_epi32(
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(sb + kQ6KR16ScalesOff + 32 * j + 16 + 8 * h)));
  }
  // Column group c (0..7): low nibbles (high ones for odd j) OR'ed with the top 2 bits of field
  // 2 (j % 2) + c / 4 moved to bits 4-5 (16-bit shifts: bits crossing into the next byte land
  // outside the masks).
  static void weights(const uint8_t* sb, int j, int h, __m256i w[8]) {
    const uint8_t* low = sb + kQ6KR16LowOff + 512 * (j / 2) + 32 * h;
    const uint8_t* top = sb + kQ6KR16HighOff + 256 * (j / 2) + 32 * h;
    for (int c = 0; c < 8; ++c) {
      __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(low + 64 * c));
      if (j % 2) v = _mm256_srli_epi16(v, 4);
      const __m256i t = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(top + 64 * (c % 4)));
      const __m256i tb = shift_right(t, 2 * (2 * (j % 2) + c / 4) - 4);
      w[c] = _mm256_or_si256(_mm256_and_si256(v, _mm256_set1_epi8(0x0F)), _mm256_and_si256(tb, _mm256_set1_epi8(0x30)));
    }
  }
};

// 2-bit weights (bits 2 (c % 4) of chunk c / 4, as Q3_K's low bits), 4-bit scales, mins.
struct Q2K {
  static constexpr size_t kBytes = kQ2KR16Bytes;
  static constexpr bool kHasOffset = false, kHasMins = true;
  static constexpr int kOffsetShift = 0;
  static constexpr bool kOneWiden = true;  // pairs of at most 2 * 3 * 127
  static constexpr bool kAlsoFarHelps = true;  // one token 63% -> 70-72% of the probe
  // u[0..255]: scales (u[16j + i]); u[256..511]: mins in pairs (u[256 + 32p + 2i + h]).
  static void prepare(const uint8_t* sb, uint8_t* u) {
    unpack_nibbles256(sb + kQ2KR16ScalesOff, u);
    unpack_nibbles256(sb + kQ2KR16MinsOff, u + 256);
  }
  static void scales(const uint8_t*, const uint8_t* u, int j, int h, __m256i& sa, __m256i& sbb) {
    sa = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(u + 32 * j + 8 * h)));
    sbb = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(u + 32 * j + 16 + 8 * h)));
  }
  // The 8 column groups' 2-bit values of one unit's half (low: its 2 chunks, 64 bytes apart).
  static void low_bits(const uint8_t* low, __m256i w[8]) {
    const __m256i lo[2] = {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(low)),
                           _mm256_loadu_si256(reinterpret_cast<const __m256i*>(low + 64))};
    for (int c = 0; c < 8; ++c) w[c] = _mm256_and_si256(shift_right(lo[c / 4], 2 * (c % 4)), _mm256_set1_epi8(0x03));
  }
  static void weights(const uint8_t* sb, int j, int h, __m256i w[8]) { low_bits(sb + kQ2KR16QOff + 128 * j + 32 * h, w); }
};

struct Q3K {
  static constexpr size_t kBytes = kQ3KR16Bytes;
  static constexpr bool kHasOffset = true, kHasMins = false;
  static constexpr int kOffsetShift = 2;    // -4
  static constexpr bool kOneWiden = true;
  static constexpr bool kAlsoFarHelps = false;  // one token 54-57% of the probe either way
  static void prepare(const uint8_t* sb, uint8_t* u) { unpack_scales192(sb + kQ3KR16ScalesOff, u); }
  // u: the super-block's unpacked 6-bit scales (stored s, value s - 32).
  static void scales(const uint8_t*, const uint8_t* u, int j, int h, __m256i& sa, __m256i& sbb) {
    const __m256i k32 = _mm256_set1_epi32(32);
    sa = _mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(u + 32 * j + 8 * h))), k32);
    sbb = _mm256_sub_epi32(
        _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(u + 32 * j + 16 + 8 * h))), k32);
  }
  // Column group c: bits 2 (c % 4), +1 of chunk c / 4's low bits, and bit c of the high bits
  // moved to bit 2.
  static void weights(const uint8_t* sb, int j, int h, __m256i w[8]) {
    Q2K::low_bits(sb + kQ3KR16LowOff + 128 * j + 32 * h, w);
    const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb + kQ3KR16HighOff + 64 * j + 32 * h));
    for (int c = 0; c < 8; ++c) w[c] = _mm256_or_si256(w[c], _mm256_and_si256(shift_right(hb, c - 2), _mm256_set1_epi8(0x04)));
  }
};

// One tile of NT tokens over a 16-row group (simd/half_passes.h: two halves of 8 rows, for
// decode's one or two tokens alternating every super-block). Per super-block half and unit j:
// unit_sums(sb, s, j, h, sa, sbb, isum, ioff) reads the unit's weights (K::weights) and adds each
// token's exact int32 sum of its two sub-block dots times their scales (sa, sbb: the 8 rows'
// scales of sub-blocks 2j, 2j + 1, one per 32-bit lane) into isum[t]; a form that leaves the
// layout's offset out of its dots (AVX2) adds the offset's scale-weighted activation sums into
// ioff[t], taken off times the offset (1 << K::kOffsetShift) at the end, and one that starts its
// dots from the offsets (AVX-VNNI) leaves ioff at 0. Then Q2_K's mins term and one fma, as the
// scalar references do, so results are bit-identical to them.
template <class K, int NT, bool kAlsoFar, class UnitSums>
inline void q36k_half_tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                           int64_t ldy, UnitSums&& unit_sums) {
  // Into L2, as the AVX-512 kernel (Q6_K: L1 requests read 63-66% of the probe at one token
  // here, L2 ones 99%: bench_kernels --stream with AUTOGLM_CPU_ISA=avx2).
  constexpr HalfPassShape kShape{K::kBytes, 1, 2, 2, _MM_HINT_T1};
  const auto* a0 = reinterpret_cast<const quant::block_q8_K*>(act.q.data()) + t0 * act.nb;
  const size_t astride = static_cast<size_t>(act.nb);
  half_pass_tile<kShape, NT, kAlsoFar>(nb, wgroup, y, ldy, [&](const uint8_t* sb, int64_t s, int h, __m256 acc[NT]) {
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sb + 16 * h)));
    alignas(32) uint8_t u[512];
    K::prepare(sb, u);
    __m256i isum[NT], ioff[NT];
    for (int t = 0; t < NT; ++t) isum[t] = ioff[t] = _mm256_setzero_si256();
    for (int j = 0; j < 8; ++j) {
      __m256i sa, sbb;
      K::scales(sb, u, j, h, sa, sbb);
      unit_sums(sb, s, j, h, sa, sbb, isum, ioff);
    }
    if constexpr (K::kHasMins) {
      const __m256 dm = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sb + kQ2KR16DminOff + 16 * h)));
      for (int t = 0; t < NT; ++t) {
        const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
        const int16_t* bs = a0[static_cast<size_t>(t) * astride + static_cast<size_t>(s)].bsums;
        __m256i im = _mm256_setzero_si256();
        for (int p = 0; p < 8; ++p) {
          const __m256i mins = _mm256_cvtepu8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(u + 256 + 32 * p + 16 * h)));
          im = _mm256_add_epi32(im, _mm256_madd_epi16(mins, bcast4(bs + 2 * p)));
        }
        acc[t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(im), _mm256_mul_ps(dm, _mm256_set1_ps(act.d[si])), acc[t]);
      }
    }
    for (int t = 0; t < NT; ++t) {
      const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
      const __m256i total = _mm256_sub_epi32(isum[t], _mm256_slli_epi32(ioff[t], K::kOffsetShift));  // offset * sum sc * ysum
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), _mm256_mul_ps(dw, _mm256_set1_ps(act.d[si])), acc[t]);
    }
  });
}

}  // namespace
}  // namespace autoglm::cpu::simd
