// Block structs with GGUF's exact byte layout (little-endian), so tensor data is used straight
// from the file mapping. f16 fields are raw IEEE half bits (see quant/half.h).
//
// Element order inside a block (the part that is easy to get wrong):
//   Q4_0/Q4_1: element j in the low nibble of qs[j], element j+16 in the high nibble (j < 16).
//   Q5_0/Q5_1: as Q4, plus bit j of the little-endian uint32 qh is bit 4 of element j (j < 32).
//   Q8_0/Q8_1: qs[j] is element j.
//   K-quants:  256 elements per super-block; see the per-struct comments.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

namespace autoglm::quant {

inline constexpr int kQK = 32;    // elements per legacy block
inline constexpr int kQKK = 256;  // elements per K-quant super-block

struct block_q4_0 {
  uint16_t d;           // f16 scale; value = (q - 8) * d
  uint8_t qs[kQK / 2];  // nibbles
};

struct block_q4_1 {
  uint16_t d;  // f16 scale
  uint16_t m;  // f16 min; value = q * d + m
  uint8_t qs[kQK / 2];
};

struct block_q5_0 {
  uint16_t d;     // f16 scale; value = (q - 16) * d
  uint8_t qh[4];  // 5th bits, little-endian uint32
  uint8_t qs[kQK / 2];
};

struct block_q5_1 {
  uint16_t d;  // f16 scale
  uint16_t m;  // f16 min; value = q * d + m
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};

struct block_q8_0 {
  uint16_t d;  // f16 scale; value = q * d
  int8_t qs[kQK];
};

struct block_q8_1 {
  uint16_t d;  // f16 scale
  uint16_t s;  // f16: d * sum(qs)
  int8_t qs[kQK];
};

// Q2_K: 16 sub-blocks of 16. value = d * (scales[i] & 15) * q - dmin * (scales[i] >> 4), q in 0..3.
// Per 128-element half h: qs[32h + l] holds, in bit pairs 0-1, 2-3, 4-5, 6-7, elements
// 128h + l, +32, +64, +96 (l < 32).
struct block_q2_K {
  uint8_t scales[kQKK / 16];
  uint8_t qs[kQKK / 4];
  uint16_t d;
  uint16_t dmin;
};

// Q3_K: 16 sub-blocks of 16. value = d * (s - 32) * (q - (hmask bit set ? 0 : 4)), q in 0..3.
// Low 2 bits laid out as Q2_K; bit k of hmask[l] is the high bit of element 32k + l.
// Scale i (6 bits): low 4 bits = scales[i % 8] >> (4 * (i / 8)), high 2 = scales[8 + i % 4] >> (2 * (i / 4)).
struct block_q3_K {
  uint8_t hmask[kQKK / 8];
  uint8_t qs[kQKK / 4];
  uint8_t scales[12];
  uint16_t d;
};

// Q4_K: 8 sub-blocks of 32. value = d * sc[j] * q - dmin * m[j], q in 0..15, sc/m 6-bit packed in
// scales[12] (see unpack_scale_min_k4). Chunk c (64 elements): qs[32c + l] low nibble = element
// 64c + l, high nibble = element 64c + 32 + l.
struct block_q4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qs[kQKK / 2];
};

// Q5_K: as Q4_K plus qh: bit 2c of qh[l] is bit 4 of element 64c + l, bit 2c+1 of element 64c + 32 + l.
struct block_q5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[kQKK / 8];
  uint8_t qs[kQKK / 2];
};

// Q6_K: 16 sub-blocks of 16. value = d * scales[i] * (q - 32), q in 0..63. Per half h (128 elements)
// with ql += 64h, qh += 32h, for l < 32: element 128h + l = ql[l] low | qh[l] bits 0-1,
// +32 = ql[l + 32] low | bits 2-3, +64 = ql[l] high | bits 4-5, +96 = ql[l + 32] high | bits 6-7.
struct block_q6_K {
  uint8_t ql[kQKK / 2];
  uint8_t qh[kQKK / 4];
  int8_t scales[kQKK / 16];
  uint16_t d;
};

// Q8_K: activation type for K-quant dots. bsums[i] = sum of qs[16i .. 16i+15].
// IQ4_NL: value = d * kIQ4Values[q], q a nibble laid out as Q4_0's (element j low nibble of
// qs[j], element j + 16 high nibble).
struct block_iq4_nl {
  uint16_t d;  // f16
  uint8_t qs[kQK / 2];
};

// IQ4_XS: 8 sub-blocks of 32, value = d * (ls - 32) * kIQ4Values[q] with sub-block j's 6-bit ls
// (iq4_xs_ls); its nibbles qs[16j..16j+15] are laid out as IQ4_NL's.
struct block_iq4_xs {
  uint16_t d;  // f16
  uint16_t scales_h;
  uint8_t scales_l[kQKK / 64];
  uint8_t qs[kQKK / 2];
};

// Sub-block j's 6-bit ls (0..63): low 4 bits in nibble j % 2 of scales_l[j / 2], top 2 bits in
// bits 2j, 2j + 1 of scales_h.
inline int iq4_xs_ls(const block_iq4_xs& b, int j) {
  return ((b.scales_l[j / 2] >> (4 * (j % 2))) & 0x0F) | ((b.scales_h >> (2 * j)) & 3) << 4;
}

// The 16 values of the IQ4 nibbles (a non-uniform grid, denser near zero).
inline constexpr int8_t kIQ4Values[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// IQ1 / IQ2 / IQ3 (quant_iq123.cpp): 256-element super-blocks whose 8 (IQ2 / IQ1) or 4 (IQ3)
// element groups are indices into fixed lattices (quant/iq_grids.h), with signs and small odd
// scale factors. Sub-block ib holds elements 32 ib .. 32 ib + 31 (16-element halves where a type
// has 16 scales).
// IQ2_XXS: per sub-block two little-endian uint32 at qs[4 ib]: the first's 4 bytes index
// kIQ2XXSGrid (8 elements each); the second holds 4 7-bit sign indices (bits 7 l..) and the
// factor s in its top 4 bits; value = d * (0.5 + s) / 4 * grid * sign.
struct block_iq2_xxs {
  uint16_t d;  // f16
  uint16_t qs[kQKK / 8];
};

// IQ2_XS: qs[4 ib + l] = 9-bit kIQ2XSGrid index | 7-bit sign index << 9; scales[ib] holds the
// 4-bit s of the sub-block's two 16-element halves (low nibble first).
struct block_iq2_xs {
  uint16_t d;
  uint16_t qs[kQKK / 8];
  uint8_t scales[kQKK / 32];
};

// IQ2_S: 10-bit kIQ2SGrid index = qs[4 ib + l] | ((qh[ib] >> 2 l) & 3) << 8; signs are explicit,
// one bit per element (signs[4 ib + l], bit k for element k of group l); scales as IQ2_XS.
struct block_iq2_s {
  uint16_t d;
  uint8_t qs[kQKK / 8];
  uint8_t signs[kQKK / 8];
  uint8_t qh[kQKK / 32];
  uint8_t scales[kQKK / 32];
};

// IQ3_XXS: qs[0..63] index kIQ3XXSGrid (4 elements each, 8 per sub-block); then 8 little-endian
// uint32 (sub-block ib's at qs[64 + 4 ib]) with 4 7-bit sign indices and s in the top 4 bits;
// value = d * (0.5 + s) / 2 * grid * sign.
struct block_iq3_xxs {
  uint16_t d;
  uint8_t qs[3 * kQKK / 8];
};

// IQ3_S: 9-bit kIQ3SGrid index = qs[8 ib + l] | ((qh[ib] >> l) & 1) << 8 (4 elements each);
// explicit sign bits (signs[4 ib + l / 2], bits 4 (l % 2) ..); scales[ib / 2] nibble ib % 2 is s;
// value = d * (1 + 2 s) * grid * sign.
struct block_iq3_s {
  uint16_t d;
  uint8_t qs[kQKK / 4];
  uint8_t qh[kQKK / 32];
  uint8_t signs[kQKK / 8];
  uint8_t scales[kQKK / 64];
};

// IQ1_S: 11-bit kIQ1SGrid index = qs[4 ib + l] | ((qh[ib] >> 3 l) & 7) << 8 (8 elements in
// {-1, 0, 1}); qh[ib] bits 12..14 are s, bit 15 the sign of delta;
// value = d * (2 s + 1) * (grid +- 1/8).
struct block_iq1_s {
  uint16_t d;
  uint8_t qs[kQKK / 8];
  uint16_t qh[kQKK / 32];
};

// IQ1_M: index = qs[4 ib + l] | ((qh[2 ib + l / 2] >> 4 (l % 2)) & 7) << 8, and bit 3 of the same
// nibble is the sign of that group's delta; 16 3-bit s, one per 16 elements, in the low 12 bits
// of the 4 little-endian uint16 of scales (value v at bits 3 (v % 4) of uint16 v / 4); their top
// nibbles together are the f16 d (iq1m_d).
struct block_iq1_m {
  uint8_t qs[kQKK / 8];
  uint8_t qh[kQKK / 16];
  uint8_t scales[kQKK / 32];
};

// IQ1_M's f16 d: the top nibbles of its 4 scale words, first word lowest.
inline uint16_t iq1m_d(const block_iq1_m& b) {
  uint16_t sc[4];
  for (int i = 0; i < 4; ++i) sc[i] = static_cast<uint16_t>(b.scales[2 * i] | b.scales[2 * i + 1] << 8);
  return static_cast<uint16_t>((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) | ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000));
}

// The f16 super-block scale d of a lattice block (IQ1_M keeps it in pieces).
template <typename Block>
inline uint16_t lattice_d(const Block& b) {
  return b.d;
}
template <>
inline uint16_t lattice_d(const block_iq1_m& b) {
  return iq1m_d(b);
}

// Whether t is one of the lattice types (IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S).
inline constexpr bool is_lattice_type(DType t) {
  return t == DType::IQ2_XXS || t == DType::IQ2_XS || t == DType::IQ2_S || t == DType::IQ3_XXS ||
         t == DType::IQ3_S || t == DType::IQ1_S || t == DType::IQ1_M;
}

// The power of two a lattice type's row dot is multiplied by, once, after its super-blocks'
// integer sums (quant_iq123.cpp): its scales are (2 s + 1) / 8 (IQ2, IQ1 with 8 * grid +- 1),
// (2 s + 1) / 4 (IQ3_XXS) or 2 s + 1 (IQ3_S).
inline constexpr float lattice_row_factor(DType t) {
  return t == DType::IQ3_S ? 1.0f : t == DType::IQ3_XXS ? 0.25f : 0.125f;
}

// Sets a lattice block's f16 d (IQ1_M: the top nibbles of its scale words; the others: the
// first two bytes). Every other bit pattern of these blocks is a valid block.
inline void set_lattice_d(DType t, uint8_t* block, uint16_t d) {
  if (t == DType::IQ1_M) {
    for (int w = 0; w < 4; ++w) {
      uint8_t& hi = block[offsetof(block_iq1_m, scales) + 2 * w + 1];
      hi = static_cast<uint8_t>((hi & 0x0F) | ((d >> (4 * w)) & 0xF) << 4);
    }
  } else {
    block[0] = static_cast<uint8_t>(d & 0xFF);
    block[1] = static_cast<uint8_t>(d >> 8);
  }
}

// The 3-bit s of IQ1_M's 16-element group v (0..15).
inline int iq1m_scale(const block_iq1_m& b, int v) {
  const int w = b.scales[2 * (v / 4)] | b.scales[2 * (v / 4) + 1] << 8;
  return (w >> (3 * (v % 4))) & 7;
}

// The 8 sign bits of a 7-bit IQ2_XXS / IQ2_XS / IQ3_XXS sign index: the eighth makes the count
// of negative elements even.
inline constexpr uint8_t iq_signs8(uint32_t idx7) {
  return static_cast<uint8_t>((idx7 & 0x7F) | ((__builtin_popcount(idx7 & 0x7F) & 1) << 7));
}

// iq_signs8 of every 7-bit index, for the SIMD dots.
inline constexpr std::array<uint8_t, 128> kIQSigns = [] {
  std::array<uint8_t, 128> t{};
  for (uint32_t i = 0; i < 128; ++i) t[i] = iq_signs8(i);
  return t;
}();

struct block_q8_K {
  float d;
  int8_t qs[kQKK];
  int16_t bsums[kQKK / 16];
};

static_assert(sizeof(block_q4_0) == 18);
static_assert(sizeof(block_q4_1) == 20);
static_assert(sizeof(block_q5_0) == 22);
static_assert(sizeof(block_q5_1) == 24);
static_assert(sizeof(block_q8_0) == 34);
static_assert(sizeof(block_q8_1) == 36);
static_assert(sizeof(block_q2_K) == 84);
static_assert(sizeof(block_q3_K) == 110);
static_assert(sizeof(block_q4_K) == 144);
static_assert(sizeof(block_q5_K) == 176);
static_assert(sizeof(block_q6_K) == 210);
static_assert(sizeof(block_q8_K) == 292);
static_assert(sizeof(block_iq4_nl) == 18 && sizeof(block_iq4_xs) == 136);
static_assert(sizeof(block_iq2_xxs) == 66 && sizeof(block_iq2_xs) == 74 && sizeof(block_iq2_s) == 82);
static_assert(sizeof(block_iq3_xxs) == 98 && sizeof(block_iq3_s) == 110);
static_assert(sizeof(block_iq1_s) == 50 && sizeof(block_iq1_m) == 56);
static_assert(alignof(block_q4_0) == 2 && alignof(block_q6_K) == 2 && alignof(block_q8_K) == 4);

// Q4_K/Q5_K: 6-bit scale and min of sub-block j (0..7) from the packed 12 bytes.
inline void unpack_scale_min_k4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// Inverse of unpack_scale_min_k4 for all 8 sub-blocks (sc, m < 64).
inline void pack_scale_min_k4(const uint8_t* sc, const uint8_t* m, uint8_t* q) {
  for (int j = 0; j < 4; ++j) {
    q[j] = sc[j];
    q[j + 4] = m[j];
  }
  for (int j = 4; j < 8; ++j) {
    q[j + 4] = static_cast<uint8_t>((sc[j] & 0xf) | ((m[j] & 0xf) << 4));
    q[j - 4] = static_cast<uint8_t>(q[j - 4] | ((sc[j] >> 4) << 6));
    q[j] = static_cast<uint8_t>(q[j] | ((m[j] >> 4) << 6));
  }
}

// Q3_K: signed scale of sub-block i (0..15), already minus 32.
inline int unpack_scale_q3_K(const uint8_t* s, int i) {
  const int lo = (s[i % 8] >> (4 * (i / 8))) & 0xf;
  const int hi = (s[8 + i % 4] >> (2 * (i / 4))) & 3;
  return (lo | (hi << 4)) - 32;
}

}  // namespace autoglm::quant
