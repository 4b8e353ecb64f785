// x86 row dots of the lattice types (IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S) with
// Q8_K activations. Included by kernels_x86.inc.h inside its namespace, after dot_u8s8 /
// dot_s8s8 / hsum_i32 / loadu, so AVX2 and AVX-512 builds share it.
//
// Per 32-element sub-block: the grid entries are gathered into one register (4 x 8 bytes, or
// 8 x 4 for IQ3), the sign bits are moved onto the activations (a masked subtract with AVX-512,
// a byte-mask expansion with AVX2; activations are in [-127, 127], so negating is exact), one
// u8 x s8 pair product, and one dot of the pairs with the sub-block's odd factors (per 16-element
// half where a type has 16-element scales). The super-block's lanes are summed as integers, then
// added with the reference's float steps (quant_iq123.cpp): bit-identical to it. IQ3 gathers its
// 4-byte grid entries with vpgatherdd; the others load their 8-byte entries one by one.

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

// One 32-element sub-block: the grid values in a register (IQ2 / IQ3: unsigned, with their sign
// bits apart; IQ1: already the signed weights 8 * grid + delta_sign, bits 0) and the odd factors
// of its two 16-element halves.
struct LatticeSub {
  __m256i g;
  uint32_t signs;
  int ls0, ls1;
};

inline LatticeSub iq2_xxs_sub(const block_iq2_xxs& b, int ib) {
  const uint32_t idx = load_le32(b.qs + 4 * ib), aux = load_le32(b.qs + 4 * ib + 2);
  const int ls = static_cast<int>(2 * (aux >> 28) + 1);
  return {grid4(quant::kIQ2XXSGrid[idx & 255], quant::kIQ2XXSGrid[(idx >> 8) & 255],
                quant::kIQ2XXSGrid[(idx >> 16) & 255], quant::kIQ2XXSGrid[idx >> 24]),
          signs_of_indices(aux), ls, ls};
}

inline LatticeSub iq2_xs_sub(const block_iq2_xs& b, int ib) {
  const uint16_t* q = b.qs + 4 * ib;
  return {grid4(quant::kIQ2XSGrid[q[0] & 511], quant::kIQ2XSGrid[q[1] & 511], quant::kIQ2XSGrid[q[2] & 511],
                quant::kIQ2XSGrid[q[3] & 511]),
          kIQSigns[q[0] >> 9] | kIQSigns[q[1] >> 9] << 8 | kIQSigns[q[2] >> 9] << 16 |
              static_cast<uint32_t>(kIQSigns[q[3] >> 9]) << 24,
          2 * (b.scales[ib] & 15) + 1, 2 * (b.scales[ib] >> 4) + 1};
}

inline LatticeSub iq2_s_sub(const block_iq2_s& b, int ib) {
  const uint8_t* q = b.qs + 4 * ib;
  const int h = b.qh[ib];
  return {grid4(quant::kIQ2SGrid[q[0] | (h & 3) << 8], quant::kIQ2SGrid[q[1] | (h & 12) << 6],
                quant::kIQ2SGrid[q[2] | (h & 48) << 4], quant::kIQ2SGrid[q[3] | (h & 192) << 2]),
          load_le32(b.signs + 4 * ib), 2 * (b.scales[ib] & 15) + 1, 2 * (b.scales[ib] >> 4) + 1};
}

// The 8 IQ3 grid indices of a sub-block as int32 lanes: 8 index bytes (and IQ3_S's ninth bits).
inline __m256i iq3_indices(const uint8_t* q) {
  uint64_t v;
  std::memcpy(&v, q, 8);
  return _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<int64_t>(v)));
}

inline LatticeSub iq3_xxs_sub(const block_iq3_xxs& b, int ib) {
  const uint32_t aux = load_le32(b.qs + 64 + 4 * ib);
  const int ls = static_cast<int>(2 * (aux >> 28) + 1);
  const __m256i idx = iq3_indices(b.qs + 8 * ib);
  return {_mm256_i32gather_epi32(reinterpret_cast<const int*>(quant::kIQ3XXSGrid), idx, 4), signs_of_indices(aux),
          ls, ls};
}

inline LatticeSub iq3_s_sub(const block_iq3_s& b, int ib) {
  const int ls = 2 * ((b.scales[ib / 2] >> (4 * (ib % 2))) & 15) + 1;
  // index l's ninth bit is bit l of qh[ib]: moved to bit 8 of lane l
  const __m256i high = _mm256_and_si256(
      _mm256_sllv_epi32(_mm256_set1_epi32(b.qh[ib]), _mm256_setr_epi32(8, 7, 6, 5, 4, 3, 2, 1)), _mm256_set1_epi32(256));
  const __m256i idx = _mm256_or_si256(iq3_indices(b.qs + 8 * ib), high);
  return {_mm256_i32gather_epi32(reinterpret_cast<const int*>(quant::kIQ3SGrid), idx, 4), load_le32(b.signs + 4 * ib),
          ls, ls};
}

// IQ1: per 8-element group the weights 8 * grid + delta_sign (in -9..9), so one signed dot gives
// 8 * sum grid * q8 + delta_sign * sum q8: the reference's integer (quant_iq123.cpp).
inline __m256i iq1_weights(__m256i grid, __m256i delta_signs) {
  const __m256i g2 = _mm256_add_epi8(grid, grid), g4 = _mm256_add_epi8(g2, g2);
  return _mm256_add_epi8(_mm256_add_epi8(g4, g4), delta_signs);
}

// Eight bytes of -1 or +1.
inline int64_t delta_bytes(bool negative) { return negative ? -1LL : 0x0101010101010101LL; }

inline LatticeSub iq1_s_sub(const block_iq1_s& b, int ib) {
  const uint8_t* q = b.qs + 4 * ib;
  const int h = b.qh[ib];
  const __m256i g = grid4(quant::kIQ1SGrid[q[0] | (h & 7) << 8], quant::kIQ1SGrid[q[1] | (h & 0x38) << 5],
                          quant::kIQ1SGrid[q[2] | (h & 0x1c0) << 2], quant::kIQ1SGrid[q[3] | (h & 0xe00) >> 1]);
  const int ls = 2 * ((h >> 12) & 7) + 1;
  return {iq1_weights(g, _mm256_set1_epi64x(delta_bytes(h & 0x8000))), 0, ls, ls};
}

inline LatticeSub iq1_m_sub(const block_iq1_m& b, int ib) {
  const uint8_t* q = b.qs + 4 * ib;
  const int h0 = b.qh[2 * ib], h1 = b.qh[2 * ib + 1];
  const __m256i g = grid4(quant::kIQ1SGrid[q[0] | (h0 & 7) << 8], quant::kIQ1SGrid[q[1] | (h0 & 0x70) << 4],
                          quant::kIQ1SGrid[q[2] | (h1 & 7) << 8], quant::kIQ1SGrid[q[3] | (h1 & 0x70) << 4]);
  // group l's delta sign is bit 3 + 4 l of h0 | h1 << 8: +1 bytes, or -1 where it is set
  const __m256i bit = _mm256_and_si256(_mm256_srlv_epi64(_mm256_set1_epi64x(h0 | h1 << 8), _mm256_setr_epi64x(3, 7, 11, 15)),
                                       _mm256_set1_epi64x(1));
  const __m256i negative = _mm256_cmpeq_epi64(bit, _mm256_set1_epi64x(1));
  const __m256i ds = _mm256_add_epi8(_mm256_set1_epi8(1), _mm256_and_si256(negative, _mm256_set1_epi8(-2)));
  int w;  // the sub-block's two 3-bit s: bits 6 (ib % 2) .. of scale word ib / 2
  {
    uint16_t v;
    std::memcpy(&v, b.scales + 2 * (ib / 2), 2);
    w = v >> (6 * (ib % 2));
  }
  return {iq1_weights(g, ds), 0, 2 * (w & 7) + 1, 2 * ((w >> 3) & 7) + 1};
}

// Each type: its block, its sub-block decoder, whether that gives signed weights (IQ1) or
// unsigned grid values with sign bits, and the power of two the row's sum is multiplied by.
template <typename B, LatticeSub (*Sub)(const B&, int), bool Signed, DType T>
struct LatticeType {
  using Block = B;
  static LatticeSub sub(const B& b, int ib) { return Sub(b, ib); }
  static constexpr bool kSigned = Signed;
  static constexpr float kFactor = quant::lattice_row_factor(T);
  // The sub-block's signed weights (IQ2 / IQ3: the grid values with their signs applied).
  static __m256i weights(const LatticeSub& s) { return Signed ? s.g : apply_signs(s.g, s.signs); }
};

using LatIQ2XXS = LatticeType<block_iq2_xxs, iq2_xxs_sub, false, DType::IQ2_XXS>;
using LatIQ2XS = LatticeType<block_iq2_xs, iq2_xs_sub, false, DType::IQ2_XS>;
using LatIQ2S = LatticeType<block_iq2_s, iq2_s_sub, false, DType::IQ2_S>;
using LatIQ3XXS = LatticeType<block_iq3_xxs, iq3_xxs_sub, false, DType::IQ3_XXS>;
using LatIQ3S = LatticeType<block_iq3_s, iq3_s_sub, false, DType::IQ3_S>;
using LatIQ1S = LatticeType<block_iq1_s, iq1_s_sub, true, DType::IQ1_S>;
using LatIQ1M = LatticeType<block_iq1_m, iq1_m_sub, true, DType::IQ1_M>;

// The 16 int16 lanes of a sub-block's pair products carry elements 0..15 in lanes 0..7: each
// lane's factor.
inline __m256i pair_factors(int ls0, int ls1) {
  return _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(ls1)), _mm_set1_epi16(static_cast<int16_t>(ls0)));
}

// acc + the int32 sums of adjacent pair products times their factors. Every grid value is
// <= 62 and every activation in [-127, 127], so vpmaddubsw's pair sums never saturate.
inline __m256i pair_factor_dot(__m256i acc, __m256i pairs, __m256i factors) {
#if defined(AG_SIMD_512)
  return _mm256_dpwssd_epi32(acc, pairs, factors);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, factors));
#endif
}

// One row against one token (decode): each sub-block's grid is gathered and met by that token.
template <typename L>
float dot_lattice(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const typename L::Block*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const int8_t* q8 = y[i].qs;
    __m256i sumi = _mm256_setzero_si256();
    for (int ib = 0; ib < 8; ++ib, q8 += 32) {
      const LatticeSub s = L::sub(x[i], ib);
      sumi = pair_factor_dot(sumi, L::kSigned ? _mm256_maddubs_epi16(_mm256_abs_epi8(s.g), _mm256_sign_epi8(loadu(q8), s.g))
                                              : _mm256_maddubs_epi16(s.g, apply_signs(loadu(q8), s.signs)),
                             pair_factors(s.ls0, s.ls1));
    }
    const float d = h2f(quant::lattice_d(x[i])) * y[i].d;
    sumf = std::fma(d, static_cast<float>(hsum_i32(sumi)), sumf);
  }
  return L::kFactor * sumf;
}

// One row against nt tokens (prefill, batched decode): the row is decoded once into signed
// weights, their magnitudes and the 16-bit factor of each element pair; then a token costs one
// sign, one u8 x s8 pair product and one pair-times-factor dot per 32 elements instead of the
// gathers. Integer sums and float steps are dot_lattice's: every token's result is the same bits.
struct DecodedSuper {
  alignas(64) int8_t w[kQKK];
  alignas(64) uint8_t mag[kQKK];
  alignas(64) int16_t ls[kQKK / 2];  // factor of each element pair (pair-product lane)
  float d;
};

template <typename L>
void decode_row(int64_t nsb, const typename L::Block* x, DecodedSuper* out) {
  for (int64_t i = 0; i < nsb; ++i) {
    DecodedSuper& o = out[i];
    for (int ib = 0; ib < 8; ++ib) {
      const LatticeSub s = L::sub(x[i], ib);
      const __m256i w = L::weights(s);
      _mm256_store_si256(reinterpret_cast<__m256i*>(o.w + 32 * ib), w);
      _mm256_store_si256(reinterpret_cast<__m256i*>(o.mag + 32 * ib), _mm256_abs_epi8(w));
      _mm256_store_si256(reinterpret_cast<__m256i*>(o.ls + 16 * ib), pair_factors(s.ls0, s.ls1));
    }
    o.d = h2f(quant::lattice_d(x[i]));
  }
}

// NT tokens against the decoded row: each chunk of weights, magnitudes and factors is loaded
// once for all of them. AVX-512: 64 elements per instruction, the signs as a byte mask.
template <typename L, int NT>
inline void decoded_tokens(const DecodedSuper* dec, int64_t nsb, const uint8_t* act, size_t act_row, float* out,
                           int64_t out_stride) {
  const block_q8_K* y[NT];
  float sumf[NT];
  for (int t = 0; t < NT; ++t) {
    y[t] = reinterpret_cast<const block_q8_K*>(act + static_cast<size_t>(t) * act_row);
    sumf[t] = 0.0f;
  }
  for (int64_t i = 0; i < nsb; ++i) {
    const DecodedSuper& o = dec[i];
    int32_t bsum[NT];
#if defined(AG_SIMD_512)
    __m512i acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_si512();
    for (int c = 0; c < 4; ++c) {
      const __m512i mag = _mm512_load_si512(o.mag + 64 * c);
      const __mmask64 neg = _mm512_movepi8_mask(_mm512_load_si512(o.w + 64 * c));
      const __m512i ls = _mm512_load_si512(o.ls + 32 * c);
      for (int t = 0; t < NT; ++t) {
        const __m512i q = _mm512_loadu_si512(y[t][i].qs + 64 * c);
        const __m512i qs = _mm512_mask_sub_epi8(q, neg, _mm512_setzero_si512(), q);
        acc[t] = _mm512_dpwssd_epi32(acc[t], _mm512_maddubs_epi16(mag, qs), ls);
      }
    }
    for (int t = 0; t < NT; ++t) bsum[t] = _mm512_reduce_add_epi32(acc[t]);
#else
    __m256i acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_si256();
    for (int c = 0; c < 8; ++c) {
      const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(o.w + 32 * c));
      const __m256i mag = _mm256_load_si256(reinterpret_cast<const __m256i*>(o.mag + 32 * c));
      const __m256i ls = _mm256_load_si256(reinterpret_cast<const __m256i*>(o.ls + 16 * c));
      for (int t = 0; t < NT; ++t) {
        acc[t] = pair_factor_dot(acc[t], _mm256_maddubs_epi16(mag, _mm256_sign_epi8(loadu(y[t][i].qs + 32 * c), w)), ls);
      }
    }
    for (int t = 0; t < NT; ++t) bsum[t] = hsum_i32(acc[t]);
#endif
    for (int t = 0; t < NT; ++t) {
      const float d = o.d * y[t][i].d;
      sumf[t] = std::fma(d, static_cast<float>(bsum[t]), sumf[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t * out_stride] = L::kFactor * sumf[t];
}

template <typename L>
void dot_lattice_tokens(int64_t n, const void* vx, const uint8_t* act, size_t act_row, int64_t nt, float* out,
                        int64_t out_stride) {
  const int64_t nsb = n / kQKK;
  thread_local std::vector<DecodedSuper> dec;
  if (static_cast<int64_t>(dec.size()) < nsb) dec.resize(static_cast<size_t>(nsb));
  decode_row<L>(nsb, static_cast<const typename L::Block*>(vx), dec.data());
  constexpr int kGroup = 4;
  int64_t t = 0;
  for (; t + kGroup <= nt; t += kGroup) {
    decoded_tokens<L, kGroup>(dec.data(), nsb, act + static_cast<size_t>(t) * act_row, act_row, out + t * out_stride,
                              out_stride);
  }
  const uint8_t* rest = act + static_cast<size_t>(t) * act_row;
  float* rest_out = out + t * out_stride;
  switch (nt - t) {
    case 3: decoded_tokens<L, 3>(dec.data(), nsb, rest, act_row, rest_out, out_stride); break;
    case 2: decoded_tokens<L, 2>(dec.data(), nsb, rest, act_row, rest_out, out_stride); break;
    case 1: decoded_tokens<L, 1>(dec.data(), nsb, rest, act_row, rest_out, out_stride); break;
    default: break;
  }
}

// 16 rows (row_bytes apart) of a lattice matrix into one LATTICE_R16 group (packed_lattice.h).
template <typename L>
void pack_lattice_rows(int64_t cols, const uint8_t* rows, size_t row_bytes, uint8_t* out) {
  const int64_t nsb = cols / kQKK;
  const __m256i offset = _mm256_set1_epi8(static_cast<char>(kLatticeR16Offset));
  for (int i = 0; i < 16; ++i) {
    const auto* x = reinterpret_cast<const typename L::Block*>(rows + row_bytes * static_cast<size_t>(i));
    for (int64_t s = 0; s < nsb; ++s) {
      uint8_t* sb = out + static_cast<size_t>(s) * kLatticeR16Bytes;
      const uint16_t d = quant::lattice_d(x[s]);
      std::memcpy(sb + 2 * i, &d, 2);
      for (int ib = 0; ib < 8; ++ib) {
        const LatticeSub sub = L::sub(x[s], ib);
        const __m256i w = L::weights(sub);
        alignas(32) uint8_t u[32];
        _mm256_store_si256(reinterpret_cast<__m256i*>(u), _mm256_add_epi8(w, offset));
        uint8_t* q = sb + kLatticeR16QOff + 512 * ib + 4 * i;
        for (int c = 0; c < 8; ++c) std::memcpy(q + 64 * c, u + 4 * c, 4);
        sb[kLatticeR16ScalesOff + 16 * (2 * ib) + i] = static_cast<uint8_t>(sub.ls0);
        sb[kLatticeR16ScalesOff + 16 * (2 * ib + 1) + i] = static_cast<uint8_t>(sub.ls1);
      }
    }
  }
}

void pack_lattice_group(DType t, int64_t cols, const uint8_t* rows, size_t row_bytes, uint8_t* out) {
  switch (t) {
    case DType::IQ2_XXS: return pack_lattice_rows<LatIQ2XXS>(cols, rows, row_bytes, out);
    case DType::IQ2_XS: return pack_lattice_rows<LatIQ2XS>(cols, rows, row_bytes, out);
    case DType::IQ2_S: return pack_lattice_rows<LatIQ2S>(cols, rows, row_bytes, out);
    case DType::IQ3_XXS: return pack_lattice_rows<LatIQ3XXS>(cols, rows, row_bytes, out);
    case DType::IQ3_S: return pack_lattice_rows<LatIQ3S>(cols, rows, row_bytes, out);
    case DType::IQ1_S: return pack_lattice_rows<LatIQ1S>(cols, rows, row_bytes, out);
    case DType::IQ1_M: return pack_lattice_rows<LatIQ1M>(cols, rows, row_bytes, out);
    default: std::abort();  // callers ask lattice_tiles_for first
  }
}

float dot_iq2_xxs(int64_t n, const void* x, const void* y) { return dot_lattice<LatIQ2XXS>(n, x, y); }
float dot_iq2_xs(int64_t n, const void* x, const void* y) { return dot_lattice<LatIQ2XS>(n, x, y); }
float dot_iq2_s(int64_t n, const void* x, const void* y) { return dot_lattice<LatIQ2S>(n, x, y); }
float dot_iq3_xxs(int64_t n, const void* x, const void* y) { return dot_lattice<LatIQ3XXS>(n, x, y); }
float dot_iq3_s(int64_t n, const void* x, const void* y) { return dot_lattice<LatIQ3S>(n, x, y); }
float dot_iq1_s(int64_t n, const void* x, const void* y) { return dot_lattice<LatIQ1S>(n, x, y); }
float dot_iq1_m(int64_t n, const void* x, const void* y) { return dot_lattice<LatIQ1M>(n, x, y); }
