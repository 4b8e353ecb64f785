// IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS and IQ3_S (layouts in quant/blocks.h, lattices in
// quant/iq_grids.h): dequantization and reference dots with Q8_K activations. llama.cpp writes
// these for its IQ1 / IQ2 / IQ3 file mixes (most need an importance matrix); this engine reads
// them and writes none (no quantizer: from_float is null in the traits table).
//
// Dequantization follows gguf-py's order of float operations, so it is bit-exact with it
// (tests/quant/gguf_reference_test.cpp). The dots are exact integer sums per super-block: every
// type's scale is a small odd integer ls = 2 s + 1 times a power of two (IQ1's delta, 1/8, is
// folded in as 8 * grid +- 1), so a super-block adds fma(d_x * d_y, float(integer sum), sum) and
// the row's sum is multiplied once by the type's power of two. The SIMD dots do exactly this and
// equal these bit for bit.
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/iq_grids.h"
#include "quant/rows.h"

namespace autoglm::quant {
namespace {

const int8_t* grid_bytes(const uint64_t& e) { return reinterpret_cast<const int8_t*>(&e); }
const uint8_t* grid_bytes(const uint32_t& e) { return reinterpret_cast<const uint8_t*>(&e); }

uint32_t le32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

float sign_of(uint32_t bits, int k) { return (bits >> k) & 1 ? -1.0f : 1.0f; }
int isign_of(uint32_t bits, int k) { return (bits >> k) & 1 ? -1 : 1; }

// ---- per-group views shared by the dequantizers and the dots ----
// Each type is walked as 8 sub-blocks of 32 elements; a group is `kGroup` consecutive elements
// with one grid entry; each has unsigned (IQ2 / IQ3) or signed (IQ1) grid bytes, sign bits
// (IQ2 / IQ3) and the factor it is scaled by.

struct Iq2Group {
  const uint8_t* grid;  // 8 unsigned values
  uint32_t signs;       // bit k: element k negative
  int s;                // 4-bit factor s: scale (0.5 + s) / 4
};

// IQ2 groups g = 0..31 (sub-block g / 4). IQ2_XXS: the sub-block's two words hold the 4 grid
// indices and the signs and s.
Iq2Group iq2_xxs_group(const block_iq2_xxs& b, int g) {
  const int ib = g / 4, l = g % 4;
  const uint32_t idx = le32(b.qs + 4 * ib), aux = le32(b.qs + 4 * ib + 2);
  return {reinterpret_cast<const uint8_t*>(&kIQ2XXSGrid[(idx >> (8 * l)) & 255]), iq_signs8(aux >> (7 * l)),
          static_cast<int>(aux >> 28)};
}

// IQ2_XS / IQ2_S: each 16-element half (groups g, g + 1 for even g) has its own s.
Iq2Group iq2_xs_group(const block_iq2_xs& b, int g) {
  const uint16_t q = b.qs[g];
  return {reinterpret_cast<const uint8_t*>(&kIQ2XSGrid[q & 511]), iq_signs8(q >> 9u),
          (b.scales[g / 4] >> (4 * ((g / 2) % 2))) & 15};
}

Iq2Group iq2_s_group(const block_iq2_s& b, int g) {
  const int idx = b.qs[g] | ((b.qh[g / 4] >> (2 * (g % 4))) & 3) << 8;
  return {reinterpret_cast<const uint8_t*>(&kIQ2SGrid[idx]), b.signs[g], (b.scales[g / 4] >> (4 * ((g / 2) % 2))) & 15};
}

// IQ3_XXS / IQ3_S groups of 4: g = 0..63, sub-block g / 8.
struct Iq3Group {
  const uint8_t* grid;  // 4 unsigned values
  uint32_t signs;       // bit k: element k negative
  int s;
};

Iq3Group iq3_xxs_group(const block_iq3_xxs& b, int g) {
  const uint32_t aux = le32(b.qs + 64 + 4 * (g / 8));
  const uint32_t signs8 = iq_signs8(aux >> (7 * ((g % 8) / 2)));
  return {grid_bytes(kIQ3XXSGrid[b.qs[g]]), (signs8 >> (4 * (g % 2))) & 15, static_cast<int>(aux >> 28)};
}

Iq3Group iq3_s_group(const block_iq3_s& b, int g) {
  const int idx = b.qs[g] | ((b.qh[g / 8] >> (g % 8)) & 1) << 8;
  return {grid_bytes(kIQ3SGrid[idx]), (b.signs[g / 2] >> (4u * (g % 2))) & 15u, (b.scales[g / 16] >> (4 * ((g / 8) % 2))) & 15};
}

// IQ1 groups of 8: g = 0..31.
struct Iq1Group {
  const int8_t* grid;  // 8 values in {-1, 0, 1}
  int delta_sign;      // the group's delta is delta_sign / 8
  int s;               // 3-bit factor: scale 2 s + 1
};

Iq1Group iq1_s_group(const block_iq1_s& b, int g) {
  const uint16_t h = b.qh[g / 4];
  const int idx = b.qs[g] | ((h >> (3 * (g % 4))) & 7) << 8;
  return {grid_bytes(kIQ1SGrid[idx]), (h & 0x8000) ? -1 : 1, (h >> 12) & 7};
}

Iq1Group iq1_m_group(const block_iq1_m& b, int g) {
  const int nib = (b.qh[g / 2] >> (4 * (g % 2))) & 15;
  const int idx = b.qs[g] | (nib & 7) << 8;
  return {grid_bytes(kIQ1SGrid[idx]), (nib & 8) ? -1 : 1, iq1m_scale(b, g / 2)};
}

// ---- dequantization (gguf-py's float order: (db * grid) * sign, db = d * (0.5 + s) * c) ----

template <typename Block, typename GroupOf>
void dequant_iq2(const void* src, float* dst, int64_t n, GroupOf group) {
  const auto* b = static_cast<const Block*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    for (int g = 0; g < 32; ++g, dst += 8) {
      const Iq2Group q = group(b[i], g);
      const float db = d * (0.5f + static_cast<float>(q.s)) * 0.25f;
      for (int k = 0; k < 8; ++k) dst[k] = db * static_cast<float>(q.grid[k]) * sign_of(q.signs, k);
    }
  }
}

template <typename Block, typename GroupOf>
void dequant_iq3(const void* src, float* dst, int64_t n, GroupOf group, bool xxs) {
  const auto* b = static_cast<const Block*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    for (int g = 0; g < 64; ++g, dst += 4) {
      const Iq3Group q = group(b[i], g);
      const float db = xxs ? d * (0.5f + static_cast<float>(q.s)) * 0.5f : d * static_cast<float>(1 + 2 * q.s);
      for (int k = 0; k < 4; ++k) dst[k] = db * static_cast<float>(q.grid[k]) * sign_of(q.signs, k);
    }
  }
}

template <typename Block, typename GroupOf>
void dequant_iq1(const void* src, float* dst, int64_t n, GroupOf group) {
  const auto* b = static_cast<const Block*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = fp16_to_fp32(lattice_d(b[i]));
    for (int g = 0; g < 32; ++g, dst += 8) {
      const Iq1Group q = group(b[i], g);
      const float dl = d * static_cast<float>(2 * q.s + 1);
      const float delta = q.delta_sign < 0 ? -0.125f : 0.125f;
      for (int k = 0; k < 8; ++k) dst[k] = dl * (static_cast<float>(q.grid[k]) + delta);
    }
  }
}

// ---- reference dots: per super-block an exact integer sum, then (d_x * d_y) * sum ----

template <typename Block, typename BlockSum>
float dot_blocks(int64_t n, const void* x, const void* y, BlockSum block_sum, DType type) {
  const auto* b = static_cast<const Block*>(x);
  const auto* a = static_cast<const block_q8_K*>(y);
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = fp16_to_fp32(lattice_d(b[i])) * a[i].d;
    sumf = std::fma(d, static_cast<float>(block_sum(b[i], a[i].qs)), sumf);  // one rounding, as SIMD fmas
  }
  return lattice_row_factor(type) * sumf;
}

// Sum over groups of 8 of (2 s + 1) * sum_k grid[k] * sign_k * q8[k].
template <typename Block, typename GroupOf>
int32_t iq2_block_sum(const Block& b, const int8_t* q8, GroupOf group) {
  int32_t sum = 0;
  for (int g = 0; g < 32; ++g, q8 += 8) {
    const Iq2Group q = group(b, g);
    int32_t s = 0;
    for (int k = 0; k < 8; ++k) s += q.grid[k] * q8[k] * isign_of(q.signs, k);
    sum += (2 * q.s + 1) * s;
  }
  return sum;
}

template <typename Block, typename GroupOf>
int32_t iq3_block_sum(const Block& b, const int8_t* q8, GroupOf group) {
  int32_t sum = 0;
  for (int g = 0; g < 64; ++g, q8 += 4) {
    const Iq3Group q = group(b, g);
    int32_t s = 0;
    for (int k = 0; k < 4; ++k) s += q.grid[k] * q8[k] * isign_of(q.signs, k);
    sum += (2 * q.s + 1) * s;
  }
  return sum;
}

// Sum over groups of (2 s + 1) * (8 * sum_k grid[k] * q8[k] + delta_sign * sum_k q8[k]): eight
// times the dot with values (grid + delta).
template <typename Block, typename GroupOf>
int32_t iq1_block_sum(const Block& b, const int8_t* q8, GroupOf group) {
  int32_t sum = 0;
  for (int g = 0; g < 32; ++g, q8 += 8) {
    const Iq1Group q = group(b, g);
    int32_t sg = 0, sq = 0;
    for (int k = 0; k < 8; ++k) {
      sg += q.grid[k] * q8[k];
      sq += q8[k];
    }
    sum += (2 * q.s + 1) * (8 * sg + q.delta_sign * sq);
  }
  return sum;
}


}  // namespace

void dequantize_row_iq2_xxs(const void* src, float* dst, int64_t n) {
  dequant_iq2<block_iq2_xxs>(src, dst, n, iq2_xxs_group);
}
void dequantize_row_iq2_xs(const void* src, float* dst, int64_t n) {
  dequant_iq2<block_iq2_xs>(src, dst, n, iq2_xs_group);
}
void dequantize_row_iq2_s(const void* src, float* dst, int64_t n) {
  dequant_iq2<block_iq2_s>(src, dst, n, iq2_s_group);
}
void dequantize_row_iq3_xxs(const void* src, float* dst, int64_t n) {
  dequant_iq3<block_iq3_xxs>(src, dst, n, iq3_xxs_group, true);
}
void dequantize_row_iq3_s(const void* src, float* dst, int64_t n) {
  dequant_iq3<block_iq3_s>(src, dst, n, iq3_s_group, false);
}
void dequantize_row_iq1_s(const void* src, float* dst, int64_t n) {
  dequant_iq1<block_iq1_s>(src, dst, n, iq1_s_group);
}
void dequantize_row_iq1_m(const void* src, float* dst, int64_t n) {
  dequant_iq1<block_iq1_m>(src, dst, n, iq1_m_group);
}

float vec_dot_iq2_xxs_q8_K(int64_t n, const void* x, const void* y) {
  return dot_blocks<block_iq2_xxs>(n, x, y, [](const block_iq2_xxs& b, const int8_t* q8) {
    return iq2_block_sum(b, q8, iq2_xxs_group);
  }, DType::IQ2_XXS);
}
float vec_dot_iq2_xs_q8_K(int64_t n, const void* x, const void* y) {
  return dot_blocks<block_iq2_xs>(n, x, y, [](const block_iq2_xs& b, const int8_t* q8) {
    return iq2_block_sum(b, q8, iq2_xs_group);
  }, DType::IQ2_XS);
}
float vec_dot_iq2_s_q8_K(int64_t n, const void* x, const void* y) {
  return dot_blocks<block_iq2_s>(n, x, y, [](const block_iq2_s& b, const int8_t* q8) {
    return iq2_block_sum(b, q8, iq2_s_group);
  }, DType::IQ2_S);
}
float vec_dot_iq3_xxs_q8_K(int64_t n, const void* x, const void* y) {
  return dot_blocks<block_iq3_xxs>(n, x, y, [](const block_iq3_xxs& b, const int8_t* q8) {
    return iq3_block_sum(b, q8, iq3_xxs_group);
  }, DType::IQ3_XXS);
}
float vec_dot_iq3_s_q8_K(int64_t n, const void* x, const void* y) {
  return dot_blocks<block_iq3_s>(n, x, y, [](const block_iq3_s& b, const int8_t* q8) {
    return iq3_block_sum(b, q8, iq3_s_group);
  }, DType::IQ3_S);
}
float vec_dot_iq1_s_q8_K(int64_t n, const void* x, const void* y) {
  return dot_blocks<block_iq1_s>(n, x, y, [](const block_iq1_s& b, const int8_t* q8) {
    return iq1_block_sum(b, q8, iq1_s_group);
  }, DType::IQ1_S);
}
float vec_dot_iq1_m_q8_K(int64_t n, const void* x, const void* y) {
  return dot_blocks<block_iq1_m>(n, x, y, [](const block_iq1_m& b, const int8_t* q8) {
    return iq1_block_sum(b, q8, iq1_m_group);
  }, DType::IQ1_M);
}

}  // namespace autoglm::quant
