// AVX2 kernels for Q6_K_R16, Q3_K_R16 and Q2_K_R16 (backends/cpu/packed_q6k.h, packed_q3k.h,
// packed_q2k.h), for CPUs without AVX-512: the 16-column-sub-block K-quant layouts, which differ
// in how a unit's weights and scales are read and in their offset (Q2_K: none, mins instead). As the Q4_K_R16 AVX2 kernel: one 256-bit register holds 4
// columns of 8 rows, a row group is worked as two halves of 8 rows (simd/half_passes.h), and
// for decode's one or two tokens the halves alternate every super-block.
// Per 16-column sub-block: 4 vpmaddubsw of the unsigned weights against broadcast 4-byte groups
// of the Q8_K activations. Q6_K's weights (0..63) give pairs of at most 2 * 63 * 127 = 16002, so
// two add up in int16 (<= 32004); Q3_K's (0..7) pairs of at most 1778, so all four do. Then a
// vpmaddwd against the rows' scale, held twice per 32-bit lane, widens and scales them: exact in
// int32. The offset (-32 for Q6_K, -4 for Q3_K) is one vpmaddwd per unit of the rows' scale
// pairs against the token's pair of sub-block sums, times the offset. Q2_K's 2-bit weights add
// up as Q3_K's; its mins term is 8 vpmaddwd of the rows' min pairs against the token's pairs of
// sub-block sums. Per super-block one fma (Q2_K: mins first), as the scalar references do, so
// results are bit-identical to them.
#include <immintrin.h>

#include "backends/cpu/packed_q2k.h"
#include "backends/cpu/packed_q3k.h"
#include "backends/cpu/packed_q6k.h"
#include "backends/cpu/simd/half_passes.h"
#include "backends/cpu/simd/scales192_avx2.h"
#include "backends/cpu/simd/simd.h"
#include "backends/cpu/simd/token_tiles.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

constexpr int kTile = 4;  // tokens per register tile

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

template <class K, int NT, bool kAlsoFar>
inline void tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                 int64_t ldy) {
  // Into L2, as the AVX-512 kernel (Q6_K: L1 requests read 63-66% of the probe at one token
  // here, L2 ones 99%: bench_kernels --stream with AUTOGLM_CPU_ISA=avx2).
  constexpr HalfPassShape kShape{K::kBytes, 1, 2, 2, _MM_HINT_T1};
  const auto* a0 = reinterpret_cast<const quant::block_q8_K*>(act.q.data()) + t0 * act.nb;
  const size_t astride = static_cast<size_t>(act.nb);
  const __m256i low16 = _mm256_set1_epi32(0xFFFF);
  half_pass_tile<kShape, NT, kAlsoFar>(nb, wgroup, y, ldy, [&](const uint8_t* sb, int64_t s, int h, __m256 acc[NT]) {
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sb + 16 * h)));
    alignas(32) uint8_t u[512];
    K::prepare(sb, u);
    __m256i isum[NT], ioff[NT];
    for (int t = 0; t < NT; ++t) isum[t] = ioff[t] = _mm256_setzero_si256();
    for (int j = 0; j < 8; ++j) {
      __m256i sa, sbb;
      K::scales(sb, u, j, h, sa, sbb);
      const __m256i sc_a = _mm256_or_si256(_mm256_and_si256(sa, low16), _mm256_slli_epi32(sa, 16));  // (sa, sa)
      const __m256i sc_b = _mm256_or_si256(_mm256_and_si256(sbb, low16), _mm256_slli_epi32(sbb, 16));
      const __m256i sc_ab = _mm256_or_si256(_mm256_and_si256(sa, low16), _mm256_slli_epi32(sbb, 16));  // (sa, sb)
      __m256i w[8];
      K::weights(sb, j, h, w);
      for (int t = 0; t < NT; ++t) {
        const auto& a = a0[static_cast<size_t>(t) * astride + static_cast<size_t>(s)];
        const int8_t* qs = a.qs + 32 * j;
        __m256i p[4];  // column groups 2k, 2k + 1
        for (int k = 0; k < 4; ++k) {
          p[k] = _mm256_add_epi16(_mm256_maddubs_epi16(w[2 * k], bcast4(qs + 8 * k)),
                                  _mm256_maddubs_epi16(w[2 * k + 1], bcast4(qs + 8 * k + 4)));
        }
        if constexpr (K::kOneWiden) {
          isum[t] = _mm256_add_epi32(isum[t], _mm256_add_epi32(_mm256_madd_epi16(_mm256_add_epi16(p[0], p[1]), sc_a),
                                                               _mm256_madd_epi16(_mm256_add_epi16(p[2], p[3]), sc_b)));
        } else {
          isum[t] = _mm256_add_epi32(isum[t], _mm256_add_epi32(_mm256_madd_epi16(p[0], sc_a), _mm256_madd_epi16(p[1], sc_a)));
          isum[t] = _mm256_add_epi32(isum[t], _mm256_add_epi32(_mm256_madd_epi16(p[2], sc_b), _mm256_madd_epi16(p[3], sc_b)));
        }
        if constexpr (K::kHasOffset) ioff[t] = _mm256_add_epi32(ioff[t], _mm256_madd_epi16(sc_ab, bcast4(a.bsums + 2 * j)));
      }
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

void gemm_q6_K_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy) {
  gemm<Q6K>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q2_K_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy) {
  gemm<Q2K>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q3_K_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy) {
  gemm<Q3K>(nb, wgroup, act, t0, nt, y, ldy);
}

}  // namespace autoglm::cpu::simd
