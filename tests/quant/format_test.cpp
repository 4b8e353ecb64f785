// Layout facts: struct sizes against the DType table, the traits table, and exact dequantization
// of hand-built blocks that pin down where each element lives.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/quant.h"

namespace autoglm::quant {
namespace {

constexpr uint16_t kHalfOne = 0x3c00;

template <typename Block>
std::vector<float> deq(DType t, const Block& b) {
  std::vector<float> out(static_cast<size_t>(dtype_info(t).block_size));
  dequantize_row(t, &b, out.data(), static_cast<int64_t>(out.size()));
  return out;
}

TEST(QuantFormat, BlockSizesMatchDTypeTable) {
  EXPECT_EQ(sizeof(block_q4_0), dtype_info(DType::Q4_0).type_size);
  EXPECT_EQ(sizeof(block_q4_1), dtype_info(DType::Q4_1).type_size);
  EXPECT_EQ(sizeof(block_q5_0), dtype_info(DType::Q5_0).type_size);
  EXPECT_EQ(sizeof(block_q5_1), dtype_info(DType::Q5_1).type_size);
  EXPECT_EQ(sizeof(block_q8_0), dtype_info(DType::Q8_0).type_size);
  EXPECT_EQ(sizeof(block_q8_1), dtype_info(DType::Q8_1).type_size);
  EXPECT_EQ(sizeof(block_q2_K), dtype_info(DType::Q2_K).type_size);
  EXPECT_EQ(sizeof(block_q3_K), dtype_info(DType::Q3_K).type_size);
  EXPECT_EQ(sizeof(block_q4_K), dtype_info(DType::Q4_K).type_size);
  EXPECT_EQ(sizeof(block_q5_K), dtype_info(DType::Q5_K).type_size);
  EXPECT_EQ(sizeof(block_q6_K), dtype_info(DType::Q6_K).type_size);
  EXPECT_EQ(sizeof(block_q8_K), dtype_info(DType::Q8_K).type_size);
  EXPECT_EQ(sizeof(block_iq4_nl), dtype_info(DType::IQ4_NL).type_size);
  EXPECT_EQ(sizeof(block_iq4_xs), dtype_info(DType::IQ4_XS).type_size);
  EXPECT_EQ(dtype_info(DType::IQ4_NL).block_size, kQK);
  EXPECT_EQ(dtype_info(DType::IQ4_XS).block_size, kQKK);
  EXPECT_EQ(sizeof(block_iq2_xxs), dtype_info(DType::IQ2_XXS).type_size);
  EXPECT_EQ(sizeof(block_iq2_xs), dtype_info(DType::IQ2_XS).type_size);
  EXPECT_EQ(sizeof(block_iq2_s), dtype_info(DType::IQ2_S).type_size);
  EXPECT_EQ(sizeof(block_iq3_xxs), dtype_info(DType::IQ3_XXS).type_size);
  EXPECT_EQ(sizeof(block_iq3_s), dtype_info(DType::IQ3_S).type_size);
  EXPECT_EQ(sizeof(block_iq1_s), dtype_info(DType::IQ1_S).type_size);
  EXPECT_EQ(sizeof(block_iq1_m), dtype_info(DType::IQ1_M).type_size);
  for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q8_1}) {
    EXPECT_EQ(dtype_info(t).block_size, kQK);
  }
  for (DType t : {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::Q8_K}) {
    EXPECT_EQ(dtype_info(t).block_size, kQKK);
  }
}

TEST(QuantFormat, TraitsTable) {
  struct Expect {
    DType t;
    DType dot;
    bool has_dot;
  };
  const Expect table[] = {
      {DType::F32, DType::F32, true},   {DType::F16, DType::F32, true},   {DType::BF16, DType::F32, true},
      {DType::Q4_0, DType::Q8_0, true}, {DType::Q4_1, DType::Q8_0, true}, {DType::Q5_0, DType::Q8_0, true},
      {DType::Q5_1, DType::Q8_0, true}, {DType::Q8_0, DType::Q8_0, true}, {DType::Q8_1, DType::F32, false},
      {DType::Q2_K, DType::Q8_K, true}, {DType::Q3_K, DType::Q8_K, true}, {DType::Q4_K, DType::Q8_K, true},
      {DType::Q5_K, DType::Q8_K, true}, {DType::Q6_K, DType::Q8_K, true}, {DType::Q8_K, DType::F32, false},
      {DType::IQ4_NL, DType::Q8_0, true}, {DType::IQ4_XS, DType::Q8_K, true},
  };
  for (const auto& e : table) {
    const TypeTraits* tr = type_traits(e.t);
    ASSERT_NE(tr, nullptr) << dtype_name(e.t);
    EXPECT_EQ(tr->type, e.t);
    EXPECT_NE(tr->to_float, nullptr);
    EXPECT_NE(tr->from_float, nullptr);
    EXPECT_EQ(tr->vec_dot != nullptr, e.has_dot) << dtype_name(e.t);
    if (e.has_dot) {
      EXPECT_EQ(tr->vec_dot_type, e.dot) << dtype_name(e.t);
    }
  }
  // The lattice types are read-only: a dot with Q8_K, no quantizer.
  for (DType t : {DType::IQ2_XXS, DType::IQ2_XS, DType::IQ2_S, DType::IQ3_XXS, DType::IQ3_S, DType::IQ1_S, DType::IQ1_M}) {
    const TypeTraits* tr = type_traits(t);
    ASSERT_NE(tr, nullptr) << dtype_name(t);
    EXPECT_NE(tr->to_float, nullptr);
    EXPECT_EQ(tr->from_float, nullptr);
    EXPECT_EQ(tr->vec_dot_type, DType::Q8_K);
  }
  for (DType t : {DType::I8, DType::I16, DType::I32, DType::I64, DType::F64}) EXPECT_EQ(type_traits(t), nullptr);
}

TEST(QuantFormat, Q4_0NibbleOrder) {
  block_q4_0 b{};
  b.d = fp32_to_fp16(0.5f);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  const auto y = deq(DType::Q4_0, b);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], (j - 8) * 0.5f);
    EXPECT_EQ(y[j + 16], (15 - j - 8) * 0.5f);
  }
}

TEST(QuantFormat, Q4_1ScaleAndMin) {
  block_q4_1 b{};
  b.d = fp32_to_fp16(0.25f);
  b.m = fp32_to_fp16(-1.0f);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | (3 << 4));
  const auto y = deq(DType::Q4_1, b);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], j * 0.25f - 1.0f);
    EXPECT_EQ(y[j + 16], 3 * 0.25f - 1.0f);
  }
}

TEST(QuantFormat, Q5HighBitsComeFromLittleEndianQh) {
  block_q5_0 b{};
  b.d = kHalfOne;
  // bit 0 -> element 0, bit 15 -> element 15, bit 16 -> element 16, bit 31 -> element 31.
  b.qh[0] = 0x01;
  b.qh[1] = 0x80;
  b.qh[2] = 0x01;
  b.qh[3] = 0x80;
  const auto y = deq(DType::Q5_0, b);
  for (int j = 0; j < 32; ++j) {
    const bool high = j == 0 || j == 15 || j == 16 || j == 31;
    EXPECT_EQ(y[j], high ? 0.0f : -16.0f) << j;
  }
  block_q5_1 c{};
  c.d = kHalfOne;
  c.m = fp32_to_fp16(0.5f);
  std::memcpy(c.qh, b.qh, 4);
  for (int j = 0; j < 16; ++j) c.qs[j] = 0xff;
  const auto z = deq(DType::Q5_1, c);
  for (int j = 0; j < 32; ++j) {
    const bool high = j == 0 || j == 15 || j == 16 || j == 31;
    EXPECT_EQ(z[j], (high ? 31.0f : 15.0f) + 0.5f) << j;
  }
}

TEST(QuantFormat, Q8_0AndQ8_1) {
  block_q8_0 b{};
  block_q8_1 c{};
  b.d = c.d = fp32_to_fp16(2.0f);
  for (int j = 0; j < 32; ++j) b.qs[j] = c.qs[j] = static_cast<int8_t>(j * 8 - 128);
  const auto y = deq(DType::Q8_0, b);
  const auto z = deq(DType::Q8_1, c);
  for (int j = 0; j < 32; ++j) {
    EXPECT_EQ(y[j], (j * 8 - 128) * 2.0f);
    EXPECT_EQ(z[j], y[j]);
  }
}

// Sets one element's quant bits in an otherwise zero block and checks that exactly that output
// element changes: pins the element order documented in blocks.h.
TEST(QuantFormat, Q4_KElementPositions) {
  for (int e : {0, 31, 32, 63, 64, 100, 200, 255}) {
    block_q4_K b{};
    b.d = kHalfOne;
    const uint8_t sc[8] = {1, 1, 1, 1, 1, 1, 1, 1}, m[8] = {};
    pack_scale_min_k4(sc, m, b.scales);
    const int c = e / 64, hi = (e % 64) / 32, l = e % 32;
    b.qs[32 * c + l] = static_cast<uint8_t>(5 << (4 * hi));
    const auto y = deq(DType::Q4_K, b);
    for (int i = 0; i < 256; ++i) EXPECT_EQ(y[i], i == e ? 5.0f : 0.0f) << e << " " << i;
  }
}

TEST(QuantFormat, Q4_KScaleMinPacking) {
  block_q4_K b{};
  b.d = kHalfOne;
  b.dmin = fp32_to_fp16(0.5f);
  const uint8_t sc[8] = {1, 63, 17, 32, 5, 48, 63, 33}, m[8] = {0, 2, 63, 31, 60, 7, 1, 40};
  pack_scale_min_k4(sc, m, b.scales);
  for (int j = 0; j < 8; ++j) {
    uint8_t s2, m2;
    unpack_scale_min_k4(j, b.scales, &s2, &m2);
    EXPECT_EQ(s2, sc[j]);
    EXPECT_EQ(m2, m[j]);
  }
  for (int i = 0; i < 128; ++i) b.qs[i] = 0x21;  // low nibble 1, high nibble 2
  const auto y = deq(DType::Q4_K, b);
  for (int e = 0; e < 256; ++e) {
    const int j = e / 32;
    const float q = ((e % 64) < 32) ? 1.0f : 2.0f;
    EXPECT_EQ(y[e], static_cast<float>(sc[j]) * q - 0.5f * static_cast<float>(m[j])) << e;
  }
}

TEST(QuantFormat, Q5_KHighBits) {
  for (int e : {0, 33, 64, 127, 130, 192, 255}) {
    block_q5_K b{};
    b.d = kHalfOne;
    const uint8_t sc[8] = {1, 1, 1, 1, 1, 1, 1, 1}, m[8] = {};
    pack_scale_min_k4(sc, m, b.scales);
    const int c = e / 64, hi = (e % 64) / 32, l = e % 32;
    b.qh[l] = static_cast<uint8_t>(1 << (2 * c + hi));
    const auto y = deq(DType::Q5_K, b);
    for (int i = 0; i < 256; ++i) EXPECT_EQ(y[i], i == e ? 16.0f : 0.0f) << e << " " << i;
  }
}

TEST(QuantFormat, Q6_KElementPositionsAndScales) {
  block_q6_K z{};
  z.d = fp32_to_fp16(0.5f);
  for (int s = 0; s < 16; ++s) z.scales[s] = static_cast<int8_t>(s - 8);
  const auto y0 = deq(DType::Q6_K, z);
  for (int e = 0; e < 256; ++e) EXPECT_EQ(y0[e], 0.5f * static_cast<float>(e / 16 - 8) * -32.0f) << e;
  for (int e : {0, 31, 32, 64, 96, 127, 128, 200, 255}) {
    block_q6_K b{};
    b.d = kHalfOne;
    for (int s = 0; s < 16; ++s) b.scales[s] = 1;
    // Make element e equal to q = 32 + 17 (value 17): low nibble 1, high bits 01.
    const int h = e / 128, g = (e % 128) / 32, l = e % 32;
    for (int i = 0; i < 128; ++i) b.ql[i] = 0;
    for (int i = 0; i < 64; ++i) b.qh[i] = 0xaa;  // high bits "10" everywhere: q = 32 -> value 0
    b.ql[64 * h + 32 * (g & 1) + l] = static_cast<uint8_t>(1 << (4 * (g >> 1)));
    b.qh[32 * h + l] = static_cast<uint8_t>((0xaa & ~(3 << (2 * g))) | (3 << (2 * g)));
    const auto y = deq(DType::Q6_K, b);
    for (int i = 0; i < 256; ++i) EXPECT_EQ(y[i], i == e ? 17.0f : 0.0f) << e << " " << i;
  }
}

TEST(QuantFormat, Q2_KLayout) {
  block_q2_K b{};
  b.d = kHalfOne;
  b.dmin = fp32_to_fp16(0.25f);
  for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<uint8_t>((s & 0xf) | ((15 - s) << 4));
  for (int e : {0, 16, 40, 100, 130, 255}) {
    block_q2_K c = b;
    const int h = e / 128, g = (e % 128) / 32, l = e % 32;
    c.qs[32 * h + l] = static_cast<uint8_t>(3 << (2 * g));
    const auto y = deq(DType::Q2_K, c);
    for (int i = 0; i < 256; ++i) {
      const int s = i / 16;
      const float expect = static_cast<float>(s) * (i == e ? 3.0f : 0.0f) - 0.25f * static_cast<float>(15 - s);
      EXPECT_EQ(y[i], expect) << e << " " << i;
    }
  }
}

TEST(QuantFormat, Q3_KLayout) {
  block_q3_K b{};
  b.d = kHalfOne;
  // All-zero bits: scales are 0 - 32 = -32 and every q is 0 - 4 (high bit clear), so 128.
  const auto y0 = deq(DType::Q3_K, b);
  for (int e = 0; e < 256; ++e) EXPECT_EQ(y0[e], 128.0f) << e;
  // Scale i = 6 bits: low nibble in scales[i % 8] (half i / 8), top 2 bits in scales[8 + i % 4].
  for (int s = 0; s < 16; ++s) {
    const int v = 32 + s;  // signed scale s
    b.scales[s % 8] = static_cast<uint8_t>(b.scales[s % 8] | ((v & 0xf) << (4 * (s / 8))));
    b.scales[8 + s % 4] = static_cast<uint8_t>(b.scales[8 + s % 4] | ((v >> 4) << (2 * (s / 4))));
  }
  for (int s = 0; s < 16; ++s) EXPECT_EQ(unpack_scale_q3_K(b.scales, s), s);
  for (int i = 0; i < 32; ++i) b.hmask[i] = 0xff;  // no -4 anywhere: q = low bits = 0
  for (int e : {0, 17, 32, 100, 128, 255}) {
    block_q3_K c = b;
    const int h = e / 128, g = (e % 128) / 32, l = e % 32;
    c.qs[32 * h + l] = static_cast<uint8_t>(2 << (2 * g));
    c.hmask[l] = static_cast<uint8_t>(0xff & ~(1 << (e / 32)));  // clear: q = 2 - 4 = -2
    const auto y = deq(DType::Q3_K, c);
    for (int i = 0; i < 256; ++i) {
      EXPECT_EQ(y[i], i == e ? static_cast<float>(i / 16) * -2.0f : 0.0f) << e << " " << i;
    }
  }
}

TEST(QuantFormat, Q8_KDequantize) {
  block_q8_K b{};
  b.d = 0.125f;
  for (int j = 0; j < 256; ++j) b.qs[j] = static_cast<int8_t>(j - 128);
  const auto y = deq(DType::Q8_K, b);
  for (int j = 0; j < 256; ++j) EXPECT_EQ(y[j], 0.125f * static_cast<float>(j - 128));
}

}  // namespace
}  // namespace autoglm::quant
