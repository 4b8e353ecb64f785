// AVX-512 VNNI tiles for Q4_K_R16, Q5_K_R16, Q6_K_R16 and IQ4_XS_R16 over more than one tile of
// tokens (the kernels of gemm_q4k_r16_avx512.cpp, gemm_q36k_r16_avx512.cpp and
// gemm_iq4xs_r16_avx512.cpp call these past 8 tokens: prefill's 16-token blocks, batched decode
// at 9+ sequences). There, each 8-token tile runs the whole row group with its sums in registers
// and builds every weight register from its bit fields again: at 8 tokens a fifth of the tile's
// vector work for Q6_K (a nibble and 2 top bits per byte), a sixth for Q5_K (a nibble and a
// fifth bit), less for IQ4_XS (a nibble looked up) and Q4_K. Here, per
// super-block, the call's first tile builds each 32-column unit's weight registers and stores
// them (SuperBlockUnits, 5 KB, in L1) for its other tiles to load; each tile then runs one
// super-block at a time, so the tokens' float sums live in a buffer between super-blocks. Per
// token and super-block the integer and float steps are the plain tiles', in the same order, so
// the results are the same bits (and so the scalar references').
//
// bench_kernels at 16 / 64 tokens, one thread, weights in L2 (docs/BENCHMARKS.md): Q4_K +3 / +5%,
// Q5_K +15 / +21%, Q6_K +7 / +14%, IQ4_XS +2 / +8%; llama3.2-1b pp512 Q6_K +10%, Q5_K_M +15%,
// Q4_K_M +8%, IQ4_XS +3%.
//
// A translation unit of its own: written into those files, these functions changed how GCC
// inlined and compiled the plain tiles beside them (the 8-token Q4_K tile 207 -> 200 GMAC/s).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <optional>

#include "backends/cpu/packed_iq4xs.h"
#include "backends/cpu/packed_q4k.h"
#include "backends/cpu/packed_q6k.h"
#include "backends/cpu/simd/packed_simd.h"
#include "backends/cpu/simd/q4k_head_avx512.h"
#include "backends/cpu/simd/q6k_weights_avx512.h"
#include "backends/cpu/simd/r16_weights_avx512.h"
#include "backends/cpu/simd/scales192_avx512.h"
#include "backends/cpu/simd/token_tiles.h"
#include "backends/cpu/simd/vnni_dot_avx512.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

constexpr int kTile = 8;  // tokens per register tile, as the plain tiles
// The building tile asks for the lines of the super-block this far ahead into L2, an eighth of
// them per unit, as the plain tiles do at 3+ tokens.
constexpr size_t kAheadSuperBlocks = 4;

// One super-block's registers: unit j's 8 weight registers and its scale registers (Q6_K: 2, IQ4_XS:
// 1; Q4_K / Q5_K take theirs from the unpacked head).
struct SuperBlockUnits {
  __m512i w[8][8];
  __m512i sc[8][2];
};

// Tokens [t0, t0 + nt) over nb super-blocks of kBytes from wgroup, in chunks of up to kChunk
// tokens: per super-block s, the chunk's first tile (up to kTile tokens) as tile(n_tok,
// std::true_type (builds), sb, s, t, acc), the others as tile(n_tok, std::false_type (loads),
// ...): n_tok a std::integral_constant, t the tile's first token, acc its tokens' 16 float sums
// each (zeroed at the chunk's start). Then the sums into y (token t's at y + t * ldy).
template <size_t kBytes, class Tile>
void for_shared_unit_tiles(int64_t nb, const uint8_t* wgroup, int64_t t0, int64_t nt, float* y, int64_t ldy,
                           Tile&& tile) {
  constexpr int64_t kChunk = 32;  // 2 KB of sums
  alignas(64) float acc[kChunk * 16];
  for (int64_t c0 = 0; c0 < nt; c0 += kChunk) {
    const int64_t n = std::min(kChunk, nt - c0), first = std::min<int64_t>(kTile, n);
    std::fill(acc, acc + n * 16, 0.0f);
    for (int64_t s = 0; s < nb; ++s) {
      const uint8_t* sb = wgroup + static_cast<size_t>(s) * kBytes;
      run_token_tile<kTile>(first, 0, [&](auto n_tok, int64_t) { tile(n_tok, std::true_type{}, sb, s, t0 + c0, acc); });
      for_token_tiles<kTile>(n - first, [&](auto n_tok, int64_t t) {
        tile(n_tok, std::false_type{}, sb, s, t0 + c0 + first + t, acc + 16 * (first + t));
      });
    }
    for (int64_t t = 0; t < n; ++t) _mm512_storeu_ps(y + (c0 + t) * ldy, _mm512_load_ps(acc + 16 * t));
  }
}

// Asks for the lines of unit (or sub-block) j's eighth of the super-block kAheadSuperBlocks on.
template <size_t kBytes>
inline void prefetch_ahead(const uint8_t* sb, int j) {
  constexpr int kLines = static_cast<int>((kBytes + 63) / 64);
  constexpr int kLinesPerUnit = (kLines + 7) / 8;
  for (int l = 0; l < kLinesPerUnit; ++l) {
    const int line = std::min(kLinesPerUnit * j + l, kLines - 1);
    _mm_prefetch(reinterpret_cast<const char*>(sb + kAheadSuperBlocks * kBytes + 64 * line), _MM_HINT_T1);
  }
}

// A tile's super-block s into its tokens' sums: acc[t] += isum[t] * dw * the token's d.
template <int NT>
inline void add_scaled_sums(__m512 dw, const __m512i isum[NT], const PackedActivations& act, int64_t s, int64_t t0,
                            float* acc) {
  for (int t = 0; t < NT; ++t) {
    const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
    _mm512_store_ps(acc + 16 * t, _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]),
                                                  _mm512_mul_ps(dw, _mm512_set1_ps(act.d[si])),
                                                  _mm512_load_ps(acc + 16 * t)));
  }
}

// One Q4_K / Q5_K super-block of a tile of NT tokens from t0 (gemm_q4k_r16_avx512.cpp's tile,
// one super-block of it): head is the super-block's, unpacked once for all its tiles.
template <bool kFive, int NT, bool kBuild>
inline void q45k_super_block(const uint8_t* sb, const Q4KHead& head, SuperBlockUnits& u, const PackedActivations& act,
                             int64_t s, int64_t t0, float* acc) {
  const auto* a0 = reinterpret_cast<const quant::block_q8_K*>(act.q.data()) + t0 * act.nb;
  const size_t astride = static_cast<size_t>(act.nb);
  const __m512i mask = _mm512_set1_epi8(0x0F);
  __m512i isum[NT];
  for (int t = 0; t < NT; ++t) {  // the mins first
    const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
    const __m512i im = head.mins_dot(act.msum.data() + si * 4);
    const __m512 dmy = _mm512_mul_ps(head.dm, _mm512_set1_ps(act.d[si]));
    _mm512_store_ps(acc + 16 * t, _mm512_fnmadd_ps(_mm512_cvtepi32_ps(im), dmy, _mm512_load_ps(acc + 16 * t)));
    isum[t] = _mm512_setzero_si512();
  }
#pragma GCC unroll 1
  for (int j = 0; j < 8; ++j) {
    __m512i w[8];
    if constexpr (kBuild) {
      prefetch_ahead<kFive ? kQ5KR16Bytes : kQ4KR16Bytes>(sb, j);
      const uint8_t* q = sb + kQ4KR16QOff + 512 * (j / 2);
      for (int c = 0; c < 8; ++c) {
        const __m512i v = _mm512_loadu_si512(q + 64 * c);
        w[c] = _mm512_and_si512(j % 2 ? _mm512_srli_epi16(v, 4) : v, mask);
      }
      if constexpr (kFive) vnni::or_fifth_bits(w, _mm512_loadu_si512(sb + kQ5KR16HighOff + 64 * j));
      for (int c = 0; c < 8; ++c) u.w[j][c] = w[c];
    } else {
      for (int c = 0; c < 8; ++c) w[c] = u.w[j][c];
    }
    const __m512i sc = head.scales(j);
    for (int t = 0; t < NT; ++t) {
      const int8_t* qs = a0[static_cast<size_t>(t) * astride + static_cast<size_t>(s)].qs + 32 * j;
      if constexpr (kFive) {
        isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(vnni::dot16x32(_mm512_setzero_si512(), w, qs), sc));
      } else {
        isum[t] = vnni::scaled_sub_block_pair16(isum[t], nullptr, w, qs, sc, sc);  // sc's high halves are 0
      }
    }
  }
  add_scaled_sums<NT>(head.dw, isum, act, s, t0, acc);  // then the scales
}

template <bool kFive>
void gemm_q45k(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt, float* y,
               int64_t ldy) {
  SuperBlockUnits units;
  std::optional<Q4KHead> head;  // the super-block's, unpacked by its first tile
  for_shared_unit_tiles<kFive ? kQ5KR16Bytes : kQ4KR16Bytes>(
      nb, wgroup, t0, nt, y, ldy, [&](auto n_tok, auto build, const uint8_t* sb, int64_t s, int64_t t, float* acc) {
        if constexpr (decltype(build)::value) head.emplace(sb);
        q45k_super_block<kFive, decltype(n_tok)::value, decltype(build)::value>(sb, *head, units, act, s, t, acc);
      });
}

// One Q6_K super-block of a tile of NT tokens from t0 (gemm_q36k_r16_avx512.cpp's tile, one
// super-block of it): its scale registers are built and shared as well.
template <int NT, bool kBuild>
inline void q6k_super_block(const uint8_t* sb, SuperBlockUnits& u, const PackedActivations& act, int64_t s,
                            int64_t t0, float* acc) {
  const auto* a0 = reinterpret_cast<const quant::block_q8_K*>(act.q.data()) + t0 * act.nb;
  const size_t astride = static_cast<size_t>(act.nb);
  __m512i isum[NT];
  for (int t = 0; t < NT; ++t) isum[t] = _mm512_setzero_si512();
  for (int j = 0; j < 8; ++j) {
    __m512i w[8], sc0, sc1;
    if constexpr (kBuild) {
      prefetch_ahead<kQ6KR16Bytes>(sb, j);
      q6k_unit(sb, j, w);
      const auto scales = [&](int k) {  // sub-block k's int8 scales of the 16 rows, in int16 lanes
        return vnni::scale_lanes16(_mm512_cvtepi8_epi32(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(sb + kQ6KR16ScalesOff + 16 * k))));
      };
      sc0 = scales(2 * j);
      sc1 = scales(2 * j + 1);
      for (int c = 0; c < 8; ++c) u.w[j][c] = w[c];
      u.sc[j][0] = sc0;
      u.sc[j][1] = sc1;
    } else {
      for (int c = 0; c < 8; ++c) w[c] = u.w[j][c];
      sc0 = u.sc[j][0];
      sc1 = u.sc[j][1];
    }
    for (int t = 0; t < NT; ++t) {
      const int8_t* qs = a0[static_cast<size_t>(t) * astride + static_cast<size_t>(s)].qs + 32 * j;
      const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
      isum[t] = vnni::scaled_sub_block_quarters16(isum[t], act.bias8.data() + si * 32 + 4 * j, w, qs, sc0, sc1);
    }
  }
  add_scaled_sums<NT>(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb))), isum, act, s, t0,
                      acc);
}

// One IQ4_XS super-block of a tile of NT tokens from t0 (gemm_iq4xs_r16_avx512.cpp's tile, one
// super-block of it): its factor registers are built and shared as well.
template <int NT, bool kBuild>
inline void iq4xs_super_block(const uint8_t* sb, SuperBlockUnits& u, const PackedActivations& act, int64_t s,
                              int64_t t0, float* acc) {
  const auto* a0 = reinterpret_cast<const quant::block_q8_K*>(act.q.data()) + t0 * act.nb;
  const size_t astride = static_cast<size_t>(act.nb);
  alignas(64) uint8_t factors[128];
  if constexpr (kBuild) unpack_scales96(sb + kIQ4XSR16ScalesOff, sb + kIQ4XSR16TopOff, factors);
  __m512i isum[NT];
  for (int t = 0; t < NT; ++t) isum[t] = _mm512_setzero_si512();
#pragma GCC unroll 1
  for (int j = 0; j < 8; ++j) {
    __m512i w[8], sc;
    if constexpr (kBuild) {
      prefetch_ahead<kIQ4XSR16Bytes>(sb, j);
      load_weights<Layout::kIQ4NL>(sb + kIQ4XSR16QOff + 256 * j, w);  // a sub-block is laid out as IQ4_NL_R16's block
      sc = _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(factors + 16 * j))),
                            _mm512_set1_epi32(32));
      for (int c = 0; c < 8; ++c) u.w[j][c] = w[c];
      u.sc[j][0] = sc;
    } else {
      for (int c = 0; c < 8; ++c) w[c] = u.w[j][c];
      sc = u.sc[j][0];
    }
    for (int t = 0; t < NT; ++t) {
      const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
      const int8_t* qs = a0[static_cast<size_t>(t) * astride + static_cast<size_t>(s)].qs + 32 * j;
      const __m512i dot = vnni::dot16x32(_mm512_set1_epi32(act.bias[si * 8 + static_cast<size_t>(j)]), w, qs);
      isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(dot, sc));
    }
  }
  add_scaled_sums<NT>(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb))), isum, act, s, t0,
                      acc);
}

}  // namespace

void gemm_iq4_xs_r16_shared_units_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act,
                                         int64_t t0, int64_t nt, float* y, int64_t ldy) {
  SuperBlockUnits units;
  for_shared_unit_tiles<kIQ4XSR16Bytes>(
      nb, wgroup, t0, nt, y, ldy, [&](auto n_tok, auto build, const uint8_t* sb, int64_t s, int64_t t, float* acc) {
        iq4xs_super_block<decltype(n_tok)::value, decltype(build)::value>(sb, units, act, s, t, acc);
      });
}

void gemm_q4_K_r16_shared_units_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                                       int64_t nt, float* y, int64_t ldy) {
  gemm_q45k<false>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q5_K_r16_shared_units_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                                       int64_t nt, float* y, int64_t ldy) {
  gemm_q45k<true>(nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q6_K_r16_shared_units_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                                       int64_t nt, float* y, int64_t ldy) {
  SuperBlockUnits units;
  for_shared_unit_tiles<kQ6KR16Bytes>(
      nb, wgroup, t0, nt, y, ldy, [&](auto n_tok, auto build, const uint8_t* sb, int64_t s, int64_t t, float* acc) {
        q6k_super_block<decltype(n_tok)::value, decltype(build)::value>(sb, units, act, s, t, acc);
      });
}

}  // namespace autoglm::cpu::simd
