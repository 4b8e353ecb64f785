// x86 row dots of the lattice types (IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S) with
// Q8_K activations. Included by kernels_x86.inc.h inside its namespace, after dot_u8s8 /
// dot_s8s8 / hsum_i32 / loadu, so AVX2 and AVX-512 builds share it.
//
// Per 32-element sub-block: the grid entries are gathered into one register (4 x 8 bytes, or
// 8 x 4 for IQ3), the sign bits are moved onto the activations (a masked subtract with AVX-512,
// a byte-mask expansion with AVX2; activations are in [-127, 127], so negating is exact), one
// u8 x s8 dot, and the int32 lanes times the sub-block's odd factor (per 16-lane half where a type
// has 16-element scales). The super-block's lanes are summed as integers, then added with the
// reference's float steps (quant_iq123.cpp): bit-identical to it.

using quant::block_iq1_m;
using quant::block_iq1_s;
using quant::block_iq2_s;
using quant::block_iq2_xs;
using quant::block_iq2_xxs;
using quant::block_iq3_s;
using quant::block_iq3_xxs;
using quant::kIQSigns;

inline uint32_t load_le32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// y with element k negated where bit k of `bits` is set.
inline __m256i apply_signs(__m256i y, uint32_t bits) {
#if defined(AG_SIMD_512)
  return _mm256_mask_sub_epi8(y, static_cast<__mmask32>(bits), _mm256_setzero_si256(), y);
#else
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(bits)),
      _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303));
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ULL));
  const __m256i m = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
  return _mm256_sub_epi8(_mm256_xor_si256(y, m), m);
#endif
}

// The 32 sign bits of four 7-bit sign indices packed at bits 0, 7, 14, 21 of w.
inline uint32_t signs_of_indices(uint32_t w) {
  return kIQSigns[w & 127] | kIQSigns[(w >> 7) & 127] << 8 | kIQSigns[(w >> 14) & 127] << 16 |
         static_cast<uint32_t>(kIQSigns[(w >> 21) & 127]) << 24;
}

inline __m256i grid4(uint64_t g0, uint64_t g1, uint64_t g2, uint64_t g3) {
  return _mm256_set_epi64x(static_cast<int64_t>(g3), static_cast<int64_t>(g2), static_cast<int64_t>(g1),
                           static_cast<int64_t>(g0));
}

// Odd factors 2 s + 1 of the two 16-element halves (s in the low / high nibble of `nibbles`).
inline __m256i half_factors(int nibbles) {
  return _mm256_set_m128i(_mm_set1_epi32(2 * ((nibbles >> 4) & 15) + 1), _mm_set1_epi32(2 * (nibbles & 15) + 1));
}

// The row's sum: per super-block fma(d_x * d_y, float(integer sum of block_sum), sum), times factor.
template <typename Block, typename DOf, typename BlockSum>
inline float lattice_row(int64_t n, const void* vx, const void* vy, DOf d_of, BlockSum block_sum, float factor) {
  const auto* x = static_cast<const Block*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = h2f(d_of(x[i])) * y[i].d;
    sumf = std::fma(d, static_cast<float>(block_sum(x[i], y[i].qs)), sumf);
  }
  return factor * sumf;
}

float dot_iq2_xxs(int64_t n, const void* vx, const void* vy) {
  return lattice_row<block_iq2_xxs>(n, vx, vy, [](const block_iq2_xxs& b) { return b.d; },
      [](const block_iq2_xxs& b, const int8_t* q8) {
        __m256i sumi = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ++ib, q8 += 32) {
          const uint32_t idx = load_le32(b.qs + 4 * ib), aux = load_le32(b.qs + 4 * ib + 2);
          const __m256i g = grid4(quant::kIQ2XXSGrid[idx & 255], quant::kIQ2XXSGrid[(idx >> 8) & 255],
                                  quant::kIQ2XXSGrid[(idx >> 16) & 255], quant::kIQ2XXSGrid[idx >> 24]);
          const __m256i p = dot_u8s8(g, apply_signs(loadu(q8), signs_of_indices(aux)));
          sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(p, _mm256_set1_epi32(static_cast<int>(2 * (aux >> 28) + 1))));
        }
        return hsum_i32(sumi);
      }, 0.125f);
}

float dot_iq2_xs(int64_t n, const void* vx, const void* vy) {
  return lattice_row<block_iq2_xs>(n, vx, vy, [](const block_iq2_xs& b) { return b.d; },
      [](const block_iq2_xs& b, const int8_t* q8) {
        __m256i sumi = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ++ib, q8 += 32) {
          const uint16_t* q = b.qs + 4 * ib;
          const __m256i g = grid4(quant::kIQ2XSGrid[q[0] & 511], quant::kIQ2XSGrid[q[1] & 511],
                                  quant::kIQ2XSGrid[q[2] & 511], quant::kIQ2XSGrid[q[3] & 511]);
          const uint32_t bits = kIQSigns[q[0] >> 9] | kIQSigns[q[1] >> 9] << 8 | kIQSigns[q[2] >> 9] << 16 |
                                static_cast<uint32_t>(kIQSigns[q[3] >> 9]) << 24;
          const __m256i p = dot_u8s8(g, apply_signs(loadu(q8), bits));
          sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(p, half_factors(b.scales[ib])));
        }
        return hsum_i32(sumi);
      }, 0.125f);
}

float dot_iq2_s(int64_t n, const void* vx, const void* vy) {
  return lattice_row<block_iq2_s>(n, vx, vy, [](const block_iq2_s& b) { return b.d; },
      [](const block_iq2_s& b, const int8_t* q8) {
        __m256i sumi = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ++ib, q8 += 32) {
          const uint8_t* q = b.qs + 4 * ib;
          const int h = b.qh[ib];
          const __m256i g = grid4(quant::kIQ2SGrid[q[0] | (h & 3) << 8], quant::kIQ2SGrid[q[1] | (h & 12) << 6],
                                  quant::kIQ2SGrid[q[2] | (h & 48) << 4], quant::kIQ2SGrid[q[3] | (h & 192) << 2]);
          const __m256i p = dot_u8s8(g, apply_signs(loadu(q8), load_le32(b.signs + 4 * ib)));
          sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(p, half_factors(b.scales[ib])));
        }
        return hsum_i32(sumi);
      }, 0.125f);
}

float dot_iq3_xxs(int64_t n, const void* vx, const void* vy) {
  return lattice_row<block_iq3_xxs>(n, vx, vy, [](const block_iq3_xxs& b) { return b.d; },
      [](const block_iq3_xxs& b, const int8_t* q8) {
        __m256i sumi = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ++ib, q8 += 32) {
          const uint8_t* q = b.qs + 8 * ib;
          const uint32_t aux = load_le32(b.qs + 64 + 4 * ib);
          const uint32_t* grid = quant::kIQ3XXSGrid;
          const __m256i g = _mm256_setr_epi32(static_cast<int>(grid[q[0]]), static_cast<int>(grid[q[1]]),
                                              static_cast<int>(grid[q[2]]), static_cast<int>(grid[q[3]]),
                                              static_cast<int>(grid[q[4]]), static_cast<int>(grid[q[5]]),
                                              static_cast<int>(grid[q[6]]), static_cast<int>(grid[q[7]]));
          const __m256i p = dot_u8s8(g, apply_signs(loadu(q8), signs_of_indices(aux)));
          sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(p, _mm256_set1_epi32(static_cast<int>(2 * (aux >> 28) + 1))));
        }
        return hsum_i32(sumi);
      }, 0.25f);
}

float dot_iq3_s(int64_t n, const void* vx, const void* vy) {
  return lattice_row<block_iq3_s>(n, vx, vy, [](const block_iq3_s& b) { return b.d; },
      [](const block_iq3_s& b, const int8_t* q8) {
        __m256i sumi = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ++ib, q8 += 32) {
          const uint8_t* q = b.qs + 8 * ib;
          const int h = b.qh[ib];
          const uint32_t* grid = quant::kIQ3SGrid;
          const __m256i g = _mm256_setr_epi32(
              static_cast<int>(grid[q[0] | (h & 1) << 8]), static_cast<int>(grid[q[1] | (h & 2) << 7]),
              static_cast<int>(grid[q[2] | (h & 4) << 6]), static_cast<int>(grid[q[3] | (h & 8) << 5]),
              static_cast<int>(grid[q[4] | (h & 16) << 4]), static_cast<int>(grid[q[5] | (h & 32) << 3]),
              static_cast<int>(grid[q[6] | (h & 64) << 2]), static_cast<int>(grid[q[7] | (h & 128) << 1]));
          const __m256i p = dot_u8s8(g, apply_signs(loadu(q8), load_le32(b.signs + 4 * ib)));
          const int s = (b.scales[ib / 2] >> (4 * (ib % 2))) & 15;
          sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(p, _mm256_set1_epi32(2 * s + 1)));
        }
        return hsum_i32(sumi);
      }, 1.0f);
}

// IQ1: per 8-element group the weights 8 * grid + delta_sign (in -9..9), so one signed dot gives
// 8 * sum grid * q8 + delta_sign * sum q8: the reference's integer (quant_iq123.cpp).
inline __m256i iq1_weights(__m256i grid, __m256i delta_signs) {
  const __m256i g2 = _mm256_add_epi8(grid, grid), g4 = _mm256_add_epi8(g2, g2);
  return _mm256_add_epi8(_mm256_add_epi8(g4, g4), delta_signs);
}

// Eight bytes of -1 or +1.
inline int64_t delta_bytes(bool negative) { return negative ? -1LL : 0x0101010101010101LL; }

float dot_iq1_s(int64_t n, const void* vx, const void* vy) {
  return lattice_row<block_iq1_s>(n, vx, vy, [](const block_iq1_s& b) { return b.d; },
      [](const block_iq1_s& b, const int8_t* q8) {
        __m256i sumi = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ++ib, q8 += 32) {
          const uint8_t* q = b.qs + 4 * ib;
          const int h = b.qh[ib];
          const __m256i g = grid4(quant::kIQ1SGrid[q[0] | (h & 7) << 8], quant::kIQ1SGrid[q[1] | (h & 0x38) << 5],
                                  quant::kIQ1SGrid[q[2] | (h & 0x1c0) << 2], quant::kIQ1SGrid[q[3] | (h & 0xe00) >> 1]);
          const __m256i w = iq1_weights(g, _mm256_set1_epi64x(delta_bytes(h & 0x8000)));
          const __m256i p = dot_s8s8(w, loadu(q8));
          sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(p, _mm256_set1_epi32(2 * ((h >> 12) & 7) + 1)));
        }
        return hsum_i32(sumi);
      }, 0.125f);
}

float dot_iq1_m(int64_t n, const void* vx, const void* vy) {
  return lattice_row<block_iq1_m>(n, vx, vy, [](const block_iq1_m& b) { return quant::iq1m_d(b); },
      [](const block_iq1_m& b, const int8_t* q8) {
        __m256i sumi = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ++ib, q8 += 32) {
          const uint8_t* q = b.qs + 4 * ib;
          const int h0 = b.qh[2 * ib], h1 = b.qh[2 * ib + 1];
          const __m256i g = grid4(quant::kIQ1SGrid[q[0] | (h0 & 7) << 8], quant::kIQ1SGrid[q[1] | (h0 & 0x70) << 4],
                                  quant::kIQ1SGrid[q[2] | (h1 & 7) << 8], quant::kIQ1SGrid[q[3] | (h1 & 0x70) << 4]);
          const __m256i ds = _mm256_set_epi64x(delta_bytes(h1 & 0x80), delta_bytes(h1 & 0x08), delta_bytes(h0 & 0x80),
                                               delta_bytes(h0 & 0x08));
          const __m256i p = dot_s8s8(iq1_weights(g, ds), loadu(q8));
          const __m256i ls = _mm256_set_m128i(_mm_set1_epi32(2 * quant::iq1m_scale(b, 2 * ib + 1) + 1),
                                              _mm_set1_epi32(2 * quant::iq1m_scale(b, 2 * ib) + 1));
          sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(p, ls));
        }
        return hsum_i32(sumi);
      }, 0.125f);
}
