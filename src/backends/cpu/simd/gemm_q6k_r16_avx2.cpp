// AVX2 kernel for Q6_K_R16 (backends/cpu/packed_q6k.h), for CPUs without AVX-512. As the Q4_K_R16
// AVX2 kernel: one 256-bit register holds 4 columns of 8 rows, a row group is worked as two
// halves of 8 rows, and for decode's one or two tokens the halves alternate every super-block
// (simd/half_passes.h).
// Per 16-column sub-block: 4 vpmaddubsw of the 6-bit weights (0..63) against broadcast 4-byte
// groups of the Q8_K activations give pairs of at most 2 * 63 * 127 = 16002, so two of them add
// up in int16 (<= 32004) and one vpmaddwd against the rows' scale, held twice per 32-bit lane,
// widens and scales them: exact in int32. The -32 offset is one vpmaddwd per unit of the rows'
// scale pairs against the token's pair of sub-block sums, times -32. Per super-block one fma, as
// gemm_q6_K_r16_reference does, so results are bit-identical to it.
#include <immintrin.h>

#include "backends/cpu/packed_q6k.h"
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

// Column group c (0..7) of unit j, rows of half h: low nibbles (high ones for odd j) OR'ed with
// the top 2 bits of field 2 (j % 2) + c / 4 moved to bits 4-5 (16-bit shifts: bits crossing
// into the next byte land outside the masks).
inline __m256i weights(const uint8_t* low, const uint8_t* top, int j, int c) {
  __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(low + 64 * c));
  if (j % 2) v = _mm256_srli_epi16(v, 4);
  const __m256i t = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(top + 64 * (c % 4)));
  const int f = 2 * (j % 2) + c / 4;
  const __m256i tb = f == 0 ? _mm256_slli_epi16(t, 4) : f == 1 ? _mm256_slli_epi16(t, 2) : f == 2 ? t : _mm256_srli_epi16(t, 2);
  return _mm256_or_si256(_mm256_and_si256(v, _mm256_set1_epi8(0x0F)), _mm256_and_si256(tb, _mm256_set1_epi8(0x30)));
}

template <int NT>
inline void tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y,
                 int64_t ldy) {
  const auto* a0 = reinterpret_cast<const quant::block_q8_K*>(act.q.data()) + t0 * act.nb;
  const size_t astride = static_cast<size_t>(act.nb);
  const __m256i low16 = _mm256_set1_epi32(0xFFFF);
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
        const uint8_t* sb = wgroup + static_cast<size_t>(s) * kQ6KR16Bytes;
        // Into L2, as the AVX-512 kernel (L1 requests read 63-66% of the probe at one token here,
        // L2 ones 99%: bench_kernels --stream with AUTOGLM_CPU_ISA=avx2).
        prefetch_for_half<kInterleave, _MM_HINT_T1>(sb + kPrefetchSuperBlocks * kQ6KR16Bytes, kQ6KR16Bytes, h);
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sb + 16 * h)));
        __m256i isum[NT], ioff[NT];
        for (int t = 0; t < NT; ++t) isum[t] = ioff[t] = _mm256_setzero_si256();
        for (int j = 0; j < 8; ++j) {
          // The half's 8 rows' scales of sub-blocks 2j and 2j + 1, as int32 per row.
          const __m256i sa = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sb + kQ6KR16ScalesOff + 32 * j + 8 * h)));
          const __m256i sbb = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sb + kQ6KR16ScalesOff + 32 * j + 16 + 8 * h)));
          const __m256i sc_a = _mm256_or_si256(_mm256_and_si256(sa, low16), _mm256_slli_epi32(sa, 16));  // (sa, sa)
          const __m256i sc_b = _mm256_or_si256(_mm256_and_si256(sbb, low16), _mm256_slli_epi32(sbb, 16));
          const __m256i sc_ab = _mm256_or_si256(_mm256_and_si256(sa, low16), _mm256_slli_epi32(sbb, 16));  // (sa, sb)
          const uint8_t* low = sb + kQ6KR16LowOff + 512 * (j / 2) + 32 * h;
          const uint8_t* top = sb + kQ6KR16HighOff + 256 * (j / 2) + 32 * h;
          __m256i w[8];
          for (int c = 0; c < 8; ++c) w[c] = weights(low, top, j, c);
          for (int t = 0; t < NT; ++t) {
            const auto& a = a0[static_cast<size_t>(t) * astride + static_cast<size_t>(s)];
            const int8_t* qs = a.qs + 32 * j;
            const __m256i p01 = _mm256_add_epi16(_mm256_maddubs_epi16(w[0], bcast4(qs)), _mm256_maddubs_epi16(w[1], bcast4(qs + 4)));
            const __m256i p23 = _mm256_add_epi16(_mm256_maddubs_epi16(w[2], bcast4(qs + 8)), _mm256_maddubs_epi16(w[3], bcast4(qs + 12)));
            const __m256i p45 = _mm256_add_epi16(_mm256_maddubs_epi16(w[4], bcast4(qs + 16)), _mm256_maddubs_epi16(w[5], bcast4(qs + 20)));
            const __m256i p67 = _mm256_add_epi16(_mm256_maddubs_epi16(w[6], bcast4(qs + 24)), _mm256_maddubs_epi16(w[7], bcast4(qs + 28)));
            isum[t] = _mm256_add_epi32(isum[t], _mm256_add_epi32(_mm256_madd_epi16(p01, sc_a), _mm256_madd_epi16(p23, sc_a)));
            isum[t] = _mm256_add_epi32(isum[t], _mm256_add_epi32(_mm256_madd_epi16(p45, sc_b), _mm256_madd_epi16(p67, sc_b)));
            ioff[t] = _mm256_add_epi32(ioff[t], _mm256_madd_epi16(sc_ab, bcast4(a.bsums + 2 * j)));
          }
        }
        for (int t = 0; t < NT; ++t) {
          const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
          const __m256i total = _mm256_sub_epi32(isum[t], _mm256_slli_epi32(ioff[t], 5));  // - 32 * sum sc * ysum
          acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), _mm256_mul_ps(dw, _mm256_set1_ps(act.d[si])), acc[t]);
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

void gemm_q6_K_r16_avx2(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                        float* y, int64_t ldy) {
  for_token_tiles<kTile>(nt, [&](auto n_tok, int64_t t) {
    tile<decltype(n_tok)::value>(nb, wgroup, act, t0 + t, y + t * ldy, ldy);
  });
}

}  // namespace autoglm::cpu::simd
