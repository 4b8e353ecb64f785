// AVX2 kernel for Q4_K_R16 (backends/cpu/packed_q4k.h), for CPUs without AVX-512. One 256-bit
// register holds 4 columns of 8 rows, so a row group is worked as two halves of 8 rows (as in
// gemm_r16_avx2.cpp, whose register budget this follows); for decode's one or two tokens the
// halves alternate every super-block (simd/half_passes.h).
// Per sub-block j: 8 vpmaddubsw of the nibbles (0..15) against broadcast 4-byte groups of the
// Q8_K activations (|a| <= 127) add up in int16 (16 products of at most 15 * 127: <= 30480),
// and one vpmaddwd against the rows' 6-bit scales, each held twice per 32-bit lane, both widens
// and scales them: sc * (pair0 + pair1), exact in int32. The mins term is 4 vpmaddwd of the rows'
// min pairs against the token's pairs of sub-block sums. Per super-block two fmas, mins first,
// as gemm_q4_K_r16_reference does, so results are bit-identical to it.
#include <immintrin.h>

#include "backends/cpu/packed_q4k.h"
#include "backends/cpu/simd/half_passes.h"
#include "backends/cpu/simd/token_tiles.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

constexpr int kTile = 4;  // tokens per register tile
constexpr size_t kPrefetchSuperBlocks = 2;

inline __m256i bcast4(const void* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// unpack_q4_K_r16_scales in vector form: per half of u, two 32-byte loads of low nibbles and
// one of top bits -> 128 bytes.
inline void unpack_scales(const uint8_t* sb, uint8_t* u) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
  for (int v = 0; v < 2; ++v) {
    const uint8_t* lo = sb + kQ4KR16ScalesOff + 64 * v;
    const __m256i lo0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo));
    const __m256i lo1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo + 32));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb + kQ4KR16ScalesOff + 128 + 32 * v));
    auto top = [&](int shift) {
      return _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(hi, _mm_cvtsi32_si128(shift)), m2), 4);
    };
    auto* out = reinterpret_cast<__m256i*>(u + 128 * v);
    _mm256_store_si256(out, _mm256_or_si256(_mm256_and_si256(lo0, m4), top(0)));
    _mm256_store_si256(out + 1, _mm256_or_si256(_mm256_and_si256(lo1, m4), top(2)));
    _mm256_store_si256(out + 2, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lo0, 4), m4), top(4)));
    _mm256_store_si256(out + 3, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lo1, 4), m4), top(6)));
  }
}

template <int NT>
inline void tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                 int64_t ldy) {
  const auto* a0 = reinterpret_cast<const quant::block_q8_K*>(act.q.data()) + t0 * act.nb;
  const size_t astride = static_cast<size_t>(act.nb);
  const __m256i mask = _mm256_set1_epi8(0x0F);
  constexpr bool kInterleave = kInterleaveHalves<NT>;
  const int64_t chunk = kInterleave ? 1 : nb;  // super-blocks per pass of one half
  __m256 accs[2][NT];
  for (int h = 0; h < 2; ++h) {
    for (int t = 0; t < NT; ++t) accs[h][t] = _mm256_setzero_ps();
  }
  for (int64_t s0 = 0; s0 < nb; s0 += chunk) {
    for (int h = 0; h < 2; ++h) {  // rows 8h..8h+7
      __m256 acc[NT];
      for (int t = 0; t < NT; ++t) acc[t] = accs[h][t];
      for (int64_t s = s0; s < s0 + chunk; ++s) {
        const uint8_t* sb = wgroup + static_cast<size_t>(s) * kQ4KR16Bytes;
        prefetch_for_half<kInterleave>(sb + kPrefetchSuperBlocks * kQ4KR16Bytes, kQ4KR16Bytes, h);
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sb + 16 * h)));
        const __m256 dm = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sb + 32 + 16 * h)));
        alignas(32) uint8_t u[256];
        unpack_scales(sb, u);
        for (int t = 0; t < NT; ++t) {
          const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
          const int32_t* ms = act.msum.data() + si * 4;
          __m256i im = _mm256_setzero_si256();
          for (int p = 0; p < 4; ++p) {
            const __m256i mins =
                _mm256_cvtepu8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(u + 128 + 32 * p + 16 * h)));
            im = _mm256_add_epi32(im, _mm256_madd_epi16(mins, _mm256_set1_epi32(ms[p])));
          }
          acc[t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(im), _mm256_mul_ps(dm, _mm256_set1_ps(act.d[si])), acc[t]);
        }
        __m256i isum[NT];
        for (int t = 0; t < NT; ++t) isum[t] = _mm256_setzero_si256();
        for (int j = 0; j < 8; ++j) {
          const __m256i sc32 =
              _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(u + 16 * j + 8 * h)));
          const __m256i sc = _mm256_or_si256(sc32, _mm256_slli_epi32(sc32, 16));  // (sc, sc) per row
          const uint8_t* q = sb + kQ4KR16QOff + 512 * (j / 2) + 32 * h;
          __m256i s16[NT];
          for (int t = 0; t < NT; ++t) s16[t] = _mm256_setzero_si256();
          for (int c = 0; c < 8; ++c) {
            const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * c));
            const __m256i w = _mm256_and_si256(j % 2 ? _mm256_srli_epi16(v, 4) : v, mask);
            for (int t = 0; t < NT; ++t) {
              const int8_t* qs = a0[static_cast<size_t>(t) * astride + static_cast<size_t>(s)].qs + 32 * j + 4 * c;
              s16[t] = _mm256_add_epi16(s16[t], _mm256_maddubs_epi16(w, bcast4(qs)));
            }
          }
          for (int t = 0; t < NT; ++t) isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(s16[t], sc));
        }
        for (int t = 0; t < NT; ++t) {
          const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
          acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(dw, _mm256_set1_ps(act.d[si])), acc[t]);
        }
      }
      for (int t = 0; t < NT; ++t) accs[h][t] = acc[t];
    }
  }
  for (int h = 0; h < 2; ++h) {
    for (int t = 0; t < NT; ++t) _mm256_storeu_ps(y + t * ldy + 8 * h, accs[h][t]);
  }
}

}  // namespace

void gemm_q4_K_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy) {
  for_token_tiles<kTile>(nt, [&](auto n_tok, int64_t t) {
    tile<decltype(n_tok)::value>(nb, wgroup, act, t0 + t, y + t * ldy, ldy);
  });
}

}  // namespace autoglm::cpu::simd
