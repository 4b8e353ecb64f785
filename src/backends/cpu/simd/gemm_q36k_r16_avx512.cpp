// AVX-512 VNNI kernels for the K-quant layouts with 16-column sub-blocks, Q2_K_R16, Q3_K_R16 and
// Q6_K_R16 (backends/cpu/packed_q2k.h, packed_q3k.h, packed_q6k.h). Per super-block and 32-column
// unit j: the 16 rows' weights (2-bit; 3-bit: low 2 bits and a high bit; 6-bit: a nibble and top
// 2 bits) are built in 8
// registers (4 columns x 16 rows each); for each token of a tile, two chains of 4 vpdpbusd (one
// per sub-block, started from -offset * the token's sub-block sum: 4 / 32) give the rows' integer
// dots, multiplied by the rows' scales (Q2_K: 4-bit, Q3_K: s - 32, Q6_K: int8) into an exact
// int32 sum: by vpdpwssd where the dots fit int16 (Q2_K, Q3_K; Q6_K in 8-column quarters, see
// Dot), by vpmulld otherwise. Q2_K starts from 0 and has mins instead: 8 vpdpwssd of the rows' min pairs against
// the token's pairs of Q8_K bsums. Per super-block one fma (Q2_K: mins first, then scales),
// exactly as the layouts' scalar references, so results are bit-identical to them. A tile of up to kTile tokens shares every weight register.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <algorithm>

#include "backends/cpu/packed_q2k.h"
#include "backends/cpu/packed_q3k.h"
#include "backends/cpu/packed_lattice.h"
#include "backends/cpu/packed_q6k.h"
#include "backends/cpu/simd/q6k_weights_avx512.h"
#include "backends/cpu/simd/scales192_avx512.h"
#include "backends/cpu/simd/simd.h"
#include "backends/cpu/simd/token_tiles.h"
#include "backends/cpu/simd/vnni_dot_avx512.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

constexpr int kTile = 8;  // tokens per register tile
// Prefetch 1-2 tokens 2 super-blocks ahead, 3+ 4 ahead (into L2), an eighth of that super-block's
// lines per unit. At 1-2 tokens the level is the layout's (kDecodeHint): for Q6_K, unlike the
// Q4_K_R16 kernel, L1 requests (the T0 hint) read worse: bench_kernels --stream, one token,
// 1 GiB, slow host state (probe 35-37 GB/s): T0 1 / 2 / 4 ahead 75 / 77 / 77% of the probe; T1
// 2 / 4 / 8 ahead 93-94 / 87 / 90%. Q3_K the other way round: T0 2 ahead 98-101%, T1 85-87%
// (two rounds each, probe 29-36 GB/s; T0 / T1 4 ahead 96-99 / 78-83%).
template <int NT>
constexpr size_t kAheadSuperBlocks = NT <= 2 ? 2 : 4;

// How a layout's sub-block dots meet their scales (vnni_dot_avx512.h): vpmulld on the int32 dots
// (kPair32: LATTICE_R16, whose dots can pass int16), or vpdpwssd on dots that stay within
// int16 over 16 columns (kPair16: Q2_K, Q3_K) or over 8 (kQuarters16: Q6_K, from
// PackedActivations::bias8).
enum class Dot { kPair32, kPair16, kQuarters16 };

// 256 four-bit values in 128 bytes (value k low in byte k, value k + 128 high in byte k - 128)
// -> u[0..255].
inline void unpack_nibbles256(const uint8_t* area, uint8_t* u) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i lo = _mm512_loadu_si512(area), hi = _mm512_loadu_si512(area + 64);
  _mm512_store_si512(u, _mm512_and_si512(lo, m4));
  _mm512_store_si512(u + 64, _mm512_and_si512(hi, m4));
  _mm512_store_si512(u + 128, _mm512_and_si512(_mm512_srli_epi16(lo, 4), m4));
  _mm512_store_si512(u + 192, _mm512_and_si512(_mm512_srli_epi16(hi, 4), m4));
}

// The 2-bit layout: column group C (0..7) of a unit is bits 2 (C % 4) of chunk C / 4 (Q3_K_R16's
// low bits); 4-bit scales, and mins.
struct Q2K {
  static constexpr size_t kBytes = kQ2KR16Bytes;
  static constexpr bool kHasMins = true;
  static constexpr Dot kDot = Dot::kPair16;
  static constexpr int kDecodeHint = _MM_HINT_T1;  // T0 read the same (92-95%)
  static constexpr bool kAlsoFarHelps = true;      // see tile()
  template <int C>
  static __m512i weights(const uint8_t* low) {
    __m512i l = _mm512_loadu_si512(low + 64 * (C / 4));
    if constexpr (C % 4 != 0) l = _mm512_srli_epi16(l, 2 * (C % 4));
    return _mm512_and_si512(l, _mm512_set1_epi8(3));
  }
  struct Scales {
    alignas(64) uint8_t u[256];
    explicit Scales(const uint8_t* sb) { unpack_nibbles256(sb + kQ2KR16ScalesOff, u); }
    __m512i of(const uint8_t*, int k) const {
      return _mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(u + 16 * k)));
    }
  };
  static void unit(const uint8_t* sb, int j, __m512i w[8]) {
    const uint8_t* low = sb + kQ2KR16QOff + 128 * j;
    w[0] = weights<0>(low);
    w[1] = weights<1>(low);
    w[2] = weights<2>(low);
    w[3] = weights<3>(low);
    w[4] = weights<4>(low);
    w[5] = weights<5>(low);
    w[6] = weights<6>(low);
    w[7] = weights<7>(low);
  }
  // The rows' min pairs p = 0..7 as int16 (lane i: row i's mins of sub-blocks 2p, 2p + 1).
  static void min_pairs(const uint8_t* sb, __m512i m[8]) {
    alignas(64) uint8_t u[256];
    unpack_nibbles256(sb + kQ2KR16MinsOff, u);
    for (int p = 0; p < 8; ++p) m[p] = _mm512_cvtepu8_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(u + 32 * p)));
  }
};

// The 3-bit layout: column group C (0..7) of a unit is its low 2 bits (bits 2 (C % 4) of chunk
// C / 4) OR'ed with its high bit (bit C of `high`) moved to bit 2.
struct Q3K {
  static constexpr size_t kBytes = kQ3KR16Bytes;
  static constexpr bool kHasMins = false;
  static constexpr Dot kDot = Dot::kPair16;
  static constexpr int kDecodeHint = _MM_HINT_T0;
  static constexpr bool kAlsoFarHelps = true;      // see tile()
  template <int C>
  static __m512i weights(const uint8_t* low, __m512i high) {
    __m512i l = _mm512_loadu_si512(low + 64 * (C / 4));
    if constexpr (C % 4 != 0) l = _mm512_srli_epi16(l, 2 * (C % 4));
    __m512i h;  // 16-bit shifts: bits crossing into the next byte land outside the masks
    if constexpr (C < 2) h = _mm512_slli_epi16(high, 2 - C);
    if constexpr (C == 2) h = high;
    if constexpr (C > 2) h = _mm512_srli_epi16(high, C - 2);
    h = _mm512_and_si512(h, _mm512_set1_epi8(4));
    return _mm512_ternarylogic_epi32(l, h, _mm512_set1_epi8(3), 0xEC);  // (l & 3) | h
  }
  // Per super-block: its scales unpacked from their 192 bytes.
  struct Scales {
    alignas(64) uint8_t u[256];
    explicit Scales(const uint8_t* sb) { unpack_scales192(sb + kQ3KR16ScalesOff, u); }
    // Sub-block k's scales of the 16 rows, as int32 (s - 32).
    __m512i of(const uint8_t*, int k) const {
      return _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(u + 16 * k))),
                              _mm512_set1_epi32(32));
    }
  };
  static void unit(const uint8_t* sb, int j, __m512i w[8]) {
    const uint8_t* low = sb + kQ3KR16LowOff + 128 * j;
    const __m512i high = _mm512_loadu_si512(sb + kQ3KR16HighOff + 64 * j);
    w[0] = weights<0>(low, high);
    w[1] = weights<1>(low, high);
    w[2] = weights<2>(low, high);
    w[3] = weights<3>(low, high);
    w[4] = weights<4>(low, high);
    w[5] = weights<5>(low, high);
    w[6] = weights<6>(low, high);
    w[7] = weights<7>(low, high);
  }
};

// The 6-bit layout (q6k_weights_avx512.h).
struct Q6K {
  static constexpr size_t kBytes = kQ6KR16Bytes;
  static constexpr bool kHasMins = false;
  static constexpr Dot kDot = Dot::kQuarters16;
  static constexpr int kDecodeHint = _MM_HINT_T1;
  static constexpr bool kAlsoFarHelps = false;     // see tile()
  // The int8 scales are read in place.
  struct Scales {
    explicit Scales(const uint8_t*) {}
    __m512i of(const uint8_t* sb, int k) const {
      return _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sb + kQ6KR16ScalesOff + 16 * k)));
    }
  };
  static void unit(const uint8_t* sb, int j, __m512i w[8]) { q6k_unit(sb, j, w); }
};

// LATTICE_R16 (packed_lattice.h): the bytes are the weights (w + 64); int8 factors in place.
struct Lattice {
  static constexpr size_t kBytes = kLatticeR16Bytes;
  static constexpr bool kHasMins = false;
  static constexpr Dot kDot = Dot::kPair32;
  static constexpr int kDecodeHint = _MM_HINT_T0;  // the group was just written: in cache
  static constexpr bool kAlsoFarHelps = false;     // decoded for the call: in cache
  struct Scales {
    explicit Scales(const uint8_t*) {}
    __m512i of(const uint8_t* sb, int k) const {
      return _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sb + kLatticeR16ScalesOff + 16 * k)));
    }
  };
  static void unit(const uint8_t* sb, int j, __m512i w[8]) {
    const uint8_t* q = sb + kLatticeR16QOff + 512 * j;
    for (int c = 0; c < 8; ++c) w[c] = _mm512_loadu_si512(q + 64 * c);
  }
};

template <class K, int NT, bool kAlsoFar>
inline void tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                 int64_t ldy) {
  constexpr int kSuperBlockLines = static_cast<int>((K::kBytes + 63) / 64);
  constexpr int kLinesPerUnit = (kSuperBlockLines + 7) / 8;
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  const auto* a0 = reinterpret_cast<const quant::block_q8_K*>(act.q.data()) + t0 * act.nb;
  const size_t astride = static_cast<size_t>(act.nb);
  for (int64_t s = 0; s < nb; ++s) {
    const uint8_t* sb = wgroup + static_cast<size_t>(s) * K::kBytes;
    const typename K::Scales scales(sb);
    __m512i isum[NT];
    for (int t = 0; t < NT; ++t) isum[t] = _mm512_setzero_si512();
    for (int j = 0; j < 8; ++j) {
      for (int l = 0; l < kLinesPerUnit; ++l) {
        const int line = std::min(kLinesPerUnit * j + l, kSuperBlockLines - 1);
        _mm_prefetch(reinterpret_cast<const char*>(sb + kAheadSuperBlocks<NT> * K::kBytes + 64 * line),
                     static_cast<_mm_hint>(NT <= 2 ? K::kDecodeHint : _MM_HINT_T1));
        // Where decode_prefetch_far_l2() (Intel): into L2 4 ahead as well. On the Xeon without
        // AMX (bench_kernels --stream, six rounds, docs/BENCHMARKS.md) Q2_K 23.7-26.1 -> 24.3-27.9
        // GB/s, Q3_K 24.3-26.8 -> 25.1-28.0 (ahead in 5 of 6), weights in cache the same. Q6_K,
        // already into L2 2 ahead, read 5% more but lost 15% in cache (one token 59.5 -> 49.5
        // GMAC/s): not there.
        if constexpr (kAlsoFar) {
          _mm_prefetch(reinterpret_cast<const char*>(sb + kAheadSuperBlocks<kTile> * K::kBytes + 64 * line), _MM_HINT_T1);
        }
      }
      __m512i w[8];
      K::unit(sb, j, w);
      __m512i sc0 = scales.of(sb, 2 * j), sc1 = scales.of(sb, 2 * j + 1);
      if constexpr (K::kDot != Dot::kPair32) {
        sc0 = vnni::scale_lanes16(sc0);
        sc1 = vnni::scale_lanes16(sc1);
      }
      for (int t = 0; t < NT; ++t) {
        const int8_t* qs = a0[static_cast<size_t>(t) * astride + static_cast<size_t>(s)].qs + 32 * j;
        const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
        if constexpr (K::kDot == Dot::kQuarters16) {
          isum[t] = vnni::scaled_sub_block_quarters16(isum[t], act.bias8.data() + si * 32 + 4 * j, w, qs, sc0, sc1);
        } else if constexpr (K::kDot == Dot::kPair16) {
          const int32_t* bias = K::kHasMins ? nullptr : act.bias.data() + si * 16 + 2 * j;
          isum[t] = vnni::scaled_sub_block_pair16(isum[t], bias, w, qs, sc0, sc1);
        } else {
          isum[t] = _mm512_add_epi32(isum[t], vnni::scaled_sub_block_pair(act.bias.data() + si * 16 + 2 * j, w, qs, sc0, sc1));
        }
      }
    }
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb)));
    if constexpr (K::kHasMins) {
      __m512i m[8];
      K::min_pairs(sb, m);
      const __m512 dm = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb + kQ2KR16DminOff)));
      for (int t = 0; t < NT; ++t) {
        const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
        const int16_t* bs = a0[static_cast<size_t>(t) * astride + static_cast<size_t>(s)].bsums;
        __m512i im = _mm512_setzero_si512();
        for (int p = 0; p < 8; ++p) {
          int32_t pair;
          __builtin_memcpy(&pair, bs + 2 * p, 4);
          im = _mm512_dpwssd_epi32(im, m[p], _mm512_set1_epi32(pair));
        }
        acc[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(im), _mm512_mul_ps(dm, _mm512_set1_ps(act.d[si])), acc[t]);
      }
    }
    for (int t = 0; t < NT; ++t) {
      const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_mul_ps(dw, _mm512_set1_ps(act.d[si])), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * ldy, acc[t]);
}

template <class K>
void gemm(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt, float* y,
          int64_t ldy) {
  // A decode step's call (1-2 tokens) where the far prefetch is chosen takes its own tiles,
  // everything else the one set, written out as in gemm_r16_avx512.cpp (see there why).
  static const bool far = K::kAlsoFarHelps && decode_prefetch_far_l2();
  if (K::kAlsoFarHelps && far && nt <= 2) {
    run_token_tile<2>(nt, 0, [&](auto n_tok, int64_t) {
      tile<K, decltype(n_tok)::value, K::kAlsoFarHelps>(nb, wgroup, act, t0, y, ldy);
    });
    return;
  }
  for_token_tiles<kTile>(nt, [&](auto n_tok, int64_t t) {
    tile<K, decltype(n_tok)::value, false>(nb, wgroup, act, t0 + t, y + t * ldy, ldy);
  });
}

}  // namespace

void gemm_q2_K_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy) {
  gemm<Q2K>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q3_K_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy) {
  gemm<Q3K>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_lattice_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                             int64_t nt, float* y, int64_t ldy) {
  gemm<Lattice>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q6_K_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                          float* y, int64_t ldy) {
  if (nt > kTile) {  // the weights built once per super-block for all the call's tiles
    gemm_q6_K_r16_shared_units_avx512(nb, wgroup, act, t0, nt, y, ldy);
    return;
  }
  gemm<Q6K>(nb, wgroup, act, t0, nt, y, ldy);
}

}  // namespace autoglm::cpu::simd
