// F16 / BF16 conversions: exhaustive round trips and rounding against a brute-force reference.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "quant/half.h"

namespace autoglm::quant {
namespace {

bool is_f16_nan(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0; }

// Value of a half from its definition, in double.
double f16_value(uint16_t h) {
  const int e = (h >> 10) & 0x1f;
  const int m = h & 0x3ff;
  const double s = (h & 0x8000) ? -1.0 : 1.0;
  if (e == 0) return s * std::ldexp(m, -24);
  if (e == 31) return m ? std::numeric_limits<double>::quiet_NaN() : s * INFINITY;
  return s * std::ldexp(1024 + m, e - 25);
}

// Nearest half to a finite float by search over the ordered positive halves; ties to even.
uint16_t f16_nearest(float f) {
  const double a = std::fabs(static_cast<double>(f));
  const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  // Halves 0x0000..0x7c00 are increasing in value (0x7c00 = inf, treated as 65536 for rounding).
  auto val = [](uint32_t h) { return h == 0x7c00 ? 65536.0 : f16_value(static_cast<uint16_t>(h)); };
  uint32_t lo = 0, hi = 0x7c00;
  if (a >= 65536.0) return sign | 0x7c00;
  while (hi - lo > 1) {  // invariant: val(lo) <= a < val(hi)
    const uint32_t mid = (lo + hi) / 2;
    if (val(mid) <= a) lo = mid; else hi = mid;
  }
  const double dlo = a - val(lo), dhi = val(hi) - a;
  const uint32_t r = dlo < dhi ? lo : dhi < dlo ? hi : ((lo & 1) ? hi : lo);
  return static_cast<uint16_t>(sign | r);
}

TEST(Half, Fp16ToFp32MatchesDefinitionForAll65536) {
  for (uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<uint16_t>(i);
    const float f = fp16_to_fp32(h);
    if (is_f16_nan(h)) {
      EXPECT_TRUE(std::isnan(f)) << std::hex << i;
    } else {
      EXPECT_EQ(static_cast<double>(f), f16_value(h)) << std::hex << i;
      EXPECT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << i;
    }
  }
}

TEST(Half, Fp16RoundTripIsExactForAll65536IncludingNaNPayloads) {
  for (uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<uint16_t>(i);
    ASSERT_EQ(fp32_to_fp16(fp16_to_fp32(h)), h) << std::hex << i;
  }
}

TEST(Half, Fp32ToFp16RoundsToNearestEvenOnSampledFloats) {
  // A stride co-prime with 2^32 visits every exponent and mantissa pattern class.
  for (uint64_t b = 0; b < (1ull << 32); b += 7919) {
    const float f = std::bit_cast<float>(static_cast<uint32_t>(b));
    if (std::isnan(f)) continue;
    ASSERT_EQ(fp32_to_fp16(f), f16_nearest(f)) << std::hex << b;
  }
}

TEST(Half, Fp32ToFp16HalfwayAndSpecialCases) {
  EXPECT_EQ(fp32_to_fp16(1.0f + 0x1p-11f), 0x3c00);         // tie -> even (down)
  EXPECT_EQ(fp32_to_fp16(1.0f + 3 * 0x1p-11f), 0x3c02);     // tie -> even (up)
  EXPECT_EQ(fp32_to_fp16(1.0f + 0x1p-11f + 0x1p-20f), 0x3c01);  // just above the tie
  EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7bff);
  EXPECT_EQ(fp32_to_fp16(65519.996f), 0x7bff);
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7c00);  // tie between max and "65536" -> inf
  EXPECT_EQ(fp32_to_fp16(-1e9f), 0xfc00);
  EXPECT_EQ(fp32_to_fp16(0x1p-25f), 0x0000);       // tie between 0 and min subnormal -> 0
  EXPECT_EQ(fp32_to_fp16(3 * 0x1p-25f), 0x0002);   // tie between 1 and 2 ulps -> 2
  EXPECT_EQ(fp32_to_fp16(0x1p-24f), 0x0001);
  EXPECT_EQ(fp32_to_fp16(0x1p-14f - 0x1p-25f), 0x0400);  // largest subnormal + half ulp -> min normal
  EXPECT_EQ(fp32_to_fp16(1e-10f), 0x0000);
  EXPECT_EQ(fp32_to_fp16(-0.0f), 0x8000);
  EXPECT_EQ(fp32_to_fp16(INFINITY), 0x7c00);
  EXPECT_EQ(fp32_to_fp16(-INFINITY), 0xfc00);
  EXPECT_TRUE(is_f16_nan(fp32_to_fp16(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_TRUE(is_f16_nan(fp32_to_fp16(std::bit_cast<float>(0x7f800001u))));  // payload below f16 bits
  EXPECT_TRUE(is_f16_nan(fp32_to_fp16(-std::numeric_limits<float>::quiet_NaN())));
}

// The compiler's own half conversion (libgcc / hardware) as a second opinion. GCC 12 has no
// _Float16 in C++ on AArch64 (though it defines __FLT16_MAX__); its __fp16 is the same IEEE type.
#if defined(__aarch64__)
#define AG_COMPILER_HALF __fp16
#elif defined(__FLT16_MAX__)
#define AG_COMPILER_HALF _Float16
#endif
#if defined(AG_COMPILER_HALF)
TEST(Half, Fp32ToFp16AgreesWithCompilerFloat16) {
  for (uint64_t b = 0; b < (1ull << 32); b += 1031) {
    const float f = std::bit_cast<float>(static_cast<uint32_t>(b));
    if (std::isnan(f)) continue;
    const AG_COMPILER_HALF h = static_cast<AG_COMPILER_HALF>(f);
    ASSERT_EQ(fp32_to_fp16(f), std::bit_cast<uint16_t>(h)) << std::hex << b;
  }
}
#endif

// Nearest bf16 by comparing the two truncation neighbours in double; ties to even.
uint16_t bf16_nearest(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t lo = x & 0xffff0000u;
  const double vlo = std::bit_cast<float>(lo);
  if (lo == x) return static_cast<uint16_t>(x >> 16);
  // hi is one bf16 ulp further from zero; from the largest finite value that is infinity.
  const uint32_t hi = lo + 0x10000u;
  const double vhi = (hi & 0x7fffffffu) == 0x7f800000u ? std::copysign(std::ldexp(1.0, 128), f)
                                                          : static_cast<double>(std::bit_cast<float>(hi));
  const double a = f;
  const double dlo = std::fabs(a - vlo), dhi = std::fabs(vhi - a);
  if (dlo < dhi) return static_cast<uint16_t>(lo >> 16);
  if (dhi < dlo) return static_cast<uint16_t>(hi >> 16);
  return static_cast<uint16_t>(((lo >> 16) & 1) ? hi >> 16 : lo >> 16);
}

TEST(Half, Bf16RoundTripForAll65536) {
  for (uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<uint16_t>(i);
    const float f = bf16_to_fp32(h);
    EXPECT_EQ(std::bit_cast<uint32_t>(f), i << 16);
    const uint16_t back = fp32_to_bf16(f);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(bf16_to_fp32(back))) << std::hex << i;
      EXPECT_EQ(back & 0x8000, h & 0x8000);
    } else {
      EXPECT_EQ(back, h) << std::hex << i;
    }
  }
}

TEST(Half, Fp32ToBf16RoundsToNearestEvenOnSampledFloats) {
  for (uint64_t b = 0; b < (1ull << 32); b += 7919) {
    const float f = std::bit_cast<float>(static_cast<uint32_t>(b));
    if (std::isnan(f)) continue;
    ASSERT_EQ(fp32_to_bf16(f), bf16_nearest(f)) << std::hex << b;
  }
}

TEST(Half, Fp32ToBf16HalfwayAndSpecialCases) {
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x3f808000u)), 0x3f80);  // tie -> even (down)
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x3f818000u)), 0x3f82);  // tie -> even (up)
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x3f808001u)), 0x3f81);
  EXPECT_EQ(fp32_to_bf16(std::numeric_limits<float>::max()), 0x7f80);  // rounds past max -> inf
  EXPECT_EQ(fp32_to_bf16(INFINITY), 0x7f80);
  EXPECT_EQ(fp32_to_bf16(-INFINITY), 0xff80);
  EXPECT_EQ(fp32_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x00000001u)), 0x0000);  // smallest subnormal
  // A NaN whose payload sits only in the low 16 bits must not become infinity.
  EXPECT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(std::bit_cast<float>(0x7f800001u)))));
  EXPECT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(std::bit_cast<float>(0xff800001u)))));
}

TEST(Half, RowHelpersMatchScalar) {
  float src[7] = {0.0f, -1.5f, 3.14159f, 65504.0f, 1e-6f, -INFINITY, 123.456f};
  uint16_t h[7], b[7];
  float back_h[7], back_b[7];
  fp32_to_fp16_row(src, h, 7);
  fp32_to_bf16_row(src, b, 7);
  fp16_to_fp32_row(h, back_h, 7);
  bf16_to_fp32_row(b, back_b, 7);
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(h[i], fp32_to_fp16(src[i]));
    EXPECT_EQ(b[i], fp32_to_bf16(src[i]));
    EXPECT_EQ(back_h[i], fp16_to_fp32(h[i]));
    EXPECT_EQ(back_b[i], bf16_to_fp32(b[i]));
  }
}

}  // namespace
}  // namespace autoglm::quant
