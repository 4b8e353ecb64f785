// NEON row dots of the lattice types (IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S) with
// Q8_K activations. Included by kernels_neon.cpp inside its namespace.
//
// Each 32-element sub-block is decoded to signed weights (grid values with their signs applied,
// |w| <= 62; IQ1: 8 * grid + delta_sign, |w| <= 9) and the odd factors of its two 16-element
// halves; widening multiplies give exact int32 sums. The super-block's integer sum is added
// with the reference's float steps (quant_iq123.cpp), so results are bit-identical to it.

struct LatticeSub {
  int8x16_t w0, w1;  // elements 0..15, 16..31 of the sub-block
  int ls0, ls1;      // their odd factors
};

inline int32x4_t dot16(int8x16_t x, int8x16_t y) {
  int32x4_t s = vpadalq_s16(vdupq_n_s32(0), vmull_s8(vget_low_s8(x), vget_low_s8(y)));
  return vpadalq_s16(s, vmull_high_s8(x, y));
}

// 8 grid bytes with bit k of `bits` negating byte k.
inline int8x8_t signed8(uint64_t grid, uint32_t bits) {
  const uint8x8_t m = vtst_u8(vdup_n_u8(static_cast<uint8_t>(bits)), vcreate_u8(0x8040201008040201ULL));
  const int8x8_t g = vreinterpret_s8_u64(vcreate_u64(grid));
  return vsub_s8(veor_s8(g, vreinterpret_s8_u8(m)), vreinterpret_s8_u8(m));
}

inline uint64_t pair32(uint32_t a, uint32_t b) { return a | static_cast<uint64_t>(b) << 32; }

// IQ1: 8 * grid + delta_sign per byte.
inline int8x8_t iq1_w8(uint64_t grid, bool negative) {
  return vadd_s8(vshl_n_s8(vreinterpret_s8_u64(vcreate_u64(grid)), 3), vdup_n_s8(negative ? -1 : 1));
}

inline uint32_t le32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

template <typename Block, typename Decode>
float lattice_row(int64_t n, const void* vx, const void* vy, Decode decode, DType type) {
  const auto* x = static_cast<const Block*>(vx);
  const auto* y = static_cast<const quant::block_q8_K*>(vy);
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / quant::kQKK; ++i) {
    int32x4_t sumi = vdupq_n_s32(0);
    for (int ib = 0; ib < 8; ++ib) {
      const LatticeSub s = decode(x[i], ib);
      const int8_t* a = y[i].qs + 32 * ib;
      sumi = vmlaq_n_s32(sumi, dot16(s.w0, vld1q_s8(a)), s.ls0);
      sumi = vmlaq_n_s32(sumi, dot16(s.w1, vld1q_s8(a + 16)), s.ls1);
    }
    const float d = h2f(quant::lattice_d(x[i])) * y[i].d;
    sumf = std::fma(d, static_cast<float>(vaddvq_s32(sumi)), sumf);
  }
  return quant::lattice_row_factor(type) * sumf;
}

LatticeSub iq2_xxs_sub(const quant::block_iq2_xxs& b, int ib) {
  const uint32_t idx = le32(b.qs + 4 * ib), aux = le32(b.qs + 4 * ib + 2);
  const int ls = static_cast<int>(2 * (aux >> 28) + 1);
  auto w = [&](int l) { return signed8(quant::kIQ2XXSGrid[(idx >> (8 * l)) & 255], quant::kIQSigns[(aux >> (7 * l)) & 127]); };
  return {vcombine_s8(w(0), w(1)), vcombine_s8(w(2), w(3)), ls, ls};
}

LatticeSub iq2_xs_sub(const quant::block_iq2_xs& b, int ib) {
  const uint16_t* q = b.qs + 4 * ib;
  auto w = [&](int l) { return signed8(quant::kIQ2XSGrid[q[l] & 511], quant::kIQSigns[q[l] >> 9]); };
  return {vcombine_s8(w(0), w(1)), vcombine_s8(w(2), w(3)), 2 * (b.scales[ib] & 15) + 1, 2 * (b.scales[ib] >> 4) + 1};
}

LatticeSub iq2_s_sub(const quant::block_iq2_s& b, int ib) {
  const uint8_t* q = b.qs + 4 * ib;
  const int h = b.qh[ib];
  auto w = [&](int l) { return signed8(quant::kIQ2SGrid[q[l] | ((h >> (2 * l)) & 3) << 8], b.signs[4 * ib + l]); };
  return {vcombine_s8(w(0), w(1)), vcombine_s8(w(2), w(3)), 2 * (b.scales[ib] & 15) + 1, 2 * (b.scales[ib] >> 4) + 1};
}

LatticeSub iq3_xxs_sub(const quant::block_iq3_xxs& b, int ib) {
  const uint8_t* q = b.qs + 8 * ib;
  const uint32_t aux = le32(b.qs + 64 + 4 * ib);
  const int ls = static_cast<int>(2 * (aux >> 28) + 1);
  const uint32_t* g = quant::kIQ3XXSGrid;
  auto w = [&](int l) { return signed8(pair32(g[q[2 * l]], g[q[2 * l + 1]]), quant::kIQSigns[(aux >> (7 * l)) & 127]); };
  return {vcombine_s8(w(0), w(1)), vcombine_s8(w(2), w(3)), ls, ls};
}

LatticeSub iq3_s_sub(const quant::block_iq3_s& b, int ib) {
  const uint8_t* q = b.qs + 8 * ib;
  const int h = b.qh[ib];
  const int ls = 2 * ((b.scales[ib / 2] >> (4 * (ib % 2))) & 15) + 1;
  const uint32_t* g = quant::kIQ3SGrid;
  auto idx = [&](int k) { return q[k] | ((h >> k) & 1) << 8; };
  auto w = [&](int l) { return signed8(pair32(g[idx(2 * l)], g[idx(2 * l + 1)]), b.signs[4 * ib + l]); };
  return {vcombine_s8(w(0), w(1)), vcombine_s8(w(2), w(3)), ls, ls};
}

LatticeSub iq1_s_sub(const quant::block_iq1_s& b, int ib) {
  const uint8_t* q = b.qs + 4 * ib;
  const int h = b.qh[ib];
  const int ls = 2 * ((h >> 12) & 7) + 1;
  auto w = [&](int l) { return iq1_w8(quant::kIQ1SGrid[q[l] | ((h >> (3 * l)) & 7) << 8], (h & 0x8000) != 0); };
  return {vcombine_s8(w(0), w(1)), vcombine_s8(w(2), w(3)), ls, ls};
}

LatticeSub iq1_m_sub(const quant::block_iq1_m& b, int ib) {
  const uint8_t* q = b.qs + 4 * ib;
  auto w = [&](int l) {
    const int nib = (b.qh[2 * ib + l / 2] >> (4 * (l % 2))) & 15;
    return iq1_w8(quant::kIQ1SGrid[q[l] | (nib & 7) << 8], (nib & 8) != 0);
  };
  return {vcombine_s8(w(0), w(1)), vcombine_s8(w(2), w(3)), 2 * quant::iq1m_scale(b, 2 * ib) + 1,
          2 * quant::iq1m_scale(b, 2 * ib + 1) + 1};
}

float dot_iq2_xxs(int64_t n, const void* x, const void* y) {
  return lattice_row<quant::block_iq2_xxs>(n, x, y, iq2_xxs_sub, DType::IQ2_XXS);
}
float dot_iq2_xs(int64_t n, const void* x, const void* y) {
  return lattice_row<quant::block_iq2_xs>(n, x, y, iq2_xs_sub, DType::IQ2_XS);
}
float dot_iq2_s(int64_t n, const void* x, const void* y) {
  return lattice_row<quant::block_iq2_s>(n, x, y, iq2_s_sub, DType::IQ2_S);
}
float dot_iq3_xxs(int64_t n, const void* x, const void* y) {
  return lattice_row<quant::block_iq3_xxs>(n, x, y, iq3_xxs_sub, DType::IQ3_XXS);
}
float dot_iq3_s(int64_t n, const void* x, const void* y) {
  return lattice_row<quant::block_iq3_s>(n, x, y, iq3_s_sub, DType::IQ3_S);
}
float dot_iq1_s(int64_t n, const void* x, const void* y) {
  return lattice_row<quant::block_iq1_s>(n, x, y, iq1_s_sub, DType::IQ1_S);
}
float dot_iq1_m(int64_t n, const void* x, const void* y) {
  return lattice_row<quant::block_iq1_m>(n, x, y, iq1_m_sub, DType::IQ1_M);
}
