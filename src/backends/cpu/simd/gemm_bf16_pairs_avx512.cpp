// AVX-512 BF16 kernel for BF16_R16P (backends/cpu/packed_float.h), only where the CPU has
// AVX512_BF16. Per column pair: one 64-byte load of the 16 rows' pairs, then one vdpbf16ps per
// token against the token's bf16 pair broadcast from memory: 32 multiply-adds per instruction,
// twice an f32 fma's. Each token keeps two chains (even and odd pairs), as the reference does,
// so one token (decode) is not held to one instruction per latency.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cstring>

#include "backends/cpu/packed_float.h"
#include "backends/cpu/simd/token_tiles.h"
#include "core/check.h"

namespace autoglm::cpu::simd {
namespace {

constexpr int kTile = 12;  // tokens per register tile: 24 accumulators, each weight load shared by 12
// As gemm_float_r16_avx512.cpp: up to 4 tokens ask for lines 1 KiB ahead into L1 (--stream
// --tokens 4: 19.1-21.4 -> 22.3-28.6 GB/s against 2 KiB ahead into L2), a larger tile 2 KiB
// ahead into L2.
template <int NT>
constexpr size_t kAheadBytes = NT <= 4 ? 1024 : 2048;
template <int NT>
constexpr int kPrefetchHint = NT <= 4 ? _MM_HINT_T0 : _MM_HINT_T1;

inline __m512bh pair_of(const uint16_t* x) {
  int32_t v;
  std::memcpy(&v, x, 4);
  return (__m512bh)_mm512_set1_epi32(v);
}

template <int NT>
inline void tile(int64_t k, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y, int64_t ldy) {
  const uint16_t* x = act.xb.data() + t0 * act.ldx;
  const int64_t ld = act.ldx;
  __m512 even[NT], odd[NT];
  for (int t = 0; t < NT; ++t) even[t] = odd[t] = _mm512_setzero_ps();
  // Two pairs, one 128-byte step, at a time (k % 4 == 0, checked below).
  for (int64_t c = 0; c < k; c += 4) {
    const uint8_t* p = wgroup + static_cast<size_t>(c / 2) * kBf16PairBytes;
    _mm_prefetch(reinterpret_cast<const char*>(p + kAheadBytes<NT>), static_cast<_mm_hint>(kPrefetchHint<NT>));
    _mm_prefetch(reinterpret_cast<const char*>(p + kAheadBytes<NT> + 64), static_cast<_mm_hint>(kPrefetchHint<NT>));
    const __m512bh w0 = (__m512bh)_mm512_loadu_si512(p), w1 = (__m512bh)_mm512_loadu_si512(p + kBf16PairBytes);
    for (int t = 0; t < NT; ++t) {
      even[t] = _mm512_dpbf16_ps(even[t], w0, pair_of(x + t * ld + c));
      odd[t] = _mm512_dpbf16_ps(odd[t], w1, pair_of(x + t * ld + c + 2));
    }
  }
  for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * ldy, _mm512_add_ps(even[t], odd[t]));
}

}  // namespace

void gemm_bf16_r16p_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                           float* y, int64_t ldy) {
  AG_CHECK(nb % 4 == 0);  // the tile steps two pairs at a time; should_pack asks for columns by 32
  for_token_tiles<kTile>(nt, [&](auto n_tok, int64_t t) {
    tile<decltype(n_tok)::value>(nb, wgroup, act, t0 + t, y + t * ldy, ldy);
  });
}

}  // namespace autoglm::cpu::simd
