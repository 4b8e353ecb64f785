// Quantize -> dequantize error bounds for every format with a reference quantizer, on odd block
// counts, zero rows, constant rows and extreme magnitudes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "quant/blocks.h"
#include "quant/half.h"
#include "quant_test_util.h"

namespace autoglm::quant {
namespace {

using testing::dequantize;
using testing::quantize;
using testing::random_row;

const DType kAllQuantizable[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0, DType::Q4_1,
                                 DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q8_1, DType::Q2_K,
                                 DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::Q8_K,
                                 DType::IQ4_NL, DType::IQ4_XS};

// Odd block counts so no code path silently assumes pairs of blocks.
int64_t odd_row_length(DType t) { return dtype_info(t).block_size == 1 ? 333 : dtype_info(t).block_size * 7; }

double relative_rmse(const std::vector<float>& x, const std::vector<float>& y) {
  double se = 0, sx = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    se += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
    sx += static_cast<double>(x[i]) * x[i];
  }
  return std::sqrt(se / sx);
}

struct RmseBound {
  DType t;
  double bound;  // measured values are ~25% below these (Gaussian rows with varying group scale)
};

TEST(QuantRoundTrip, RelativeRmseWithinFormatBounds) {
  const RmseBound bounds[] = {
      {DType::F32, 0.0},    {DType::F16, 3e-4},   {DType::BF16, 2.2e-3}, {DType::Q4_0, 0.11},
      {DType::Q4_1, 0.10},  {DType::Q5_0, 0.055}, {DType::Q5_1, 0.05},   {DType::Q8_0, 0.007},
      {DType::Q8_1, 0.007}, {DType::Q2_K, 0.33},  {DType::Q3_K, 0.18},   {DType::Q4_K, 0.09},
      {DType::Q5_K, 0.045}, {DType::Q6_K, 0.022}, {DType::Q8_K, 0.011}, {DType::IQ4_NL, 0.1},
      {DType::IQ4_XS, 0.1},
  };
  for (const auto& b : bounds) {
    SCOPED_TRACE(dtype_name(b.t));
    for (uint32_t seed = 1; seed <= 3; ++seed) {
      const int64_t n = dtype_info(b.t).block_size == 1 ? 4096 : 256 * 17;
      const auto x = random_row(n, seed);
      const auto y = dequantize(b.t, quantize(b.t, x), n);
      EXPECT_LE(relative_rmse(x, y), b.bound);
    }
  }
}

TEST(QuantRoundTrip, HalfAndBf16PerElementRelativeError) {
  const auto x = random_row(4096, 7);
  const auto h = dequantize(DType::F16, quantize(DType::F16, x), 4096);
  const auto b = dequantize(DType::BF16, quantize(DType::BF16, x), 4096);
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::fabs(x[i]) >= 0x1p-14f) {
      EXPECT_LE(std::fabs(h[i] - x[i]), std::fabs(x[i]) * 0x1p-11f) << i;
    }
    EXPECT_LE(std::fabs(b[i] - x[i]), std::fabs(x[i]) * 0x1p-8f) << i;
  }
}

// Per-block absolute error bounds that follow from each legacy recipe. d is the stored f16 scale;
// the small extra terms cover the scale's own f16 rounding.
TEST(QuantRoundTrip, LegacyPerBlockMaxError) {
  const int64_t n = 32 * 41;
  for (uint32_t seed = 10; seed < 13; ++seed) {
    const auto x = random_row(n, seed);
    for (DType t : {DType::Q4_0, DType::Q5_0, DType::Q8_0, DType::Q4_1, DType::Q5_1}) {
      SCOPED_TRACE(dtype_name(t));
      const auto q = quantize(t, x);
      const auto y = dequantize(t, q, n);
      const size_t bs = dtype_info(t).type_size;
      for (int64_t blk = 0; blk < n / 32; ++blk) {
        const uint8_t* p = q.data() + static_cast<size_t>(blk) * bs;
        uint16_t dh, mh = 0;
        std::memcpy(&dh, p, 2);
        if (t == DType::Q4_1 || t == DType::Q5_1) std::memcpy(&mh, p + 2, 2);
        const float d = std::fabs(fp16_to_fp32(dh));
        const float m = std::fabs(fp16_to_fp32(mh));
        // Q4_0/Q5_0 map the extreme value to -8/-16 exactly; the opposite side can clip by one
        // step. Q8_0 and the _1 formats round to nearest.
        const int levels = t == DType::Q4_0 || t == DType::Q4_1 ? 16 : t == DType::Q8_0 ? 128 : 32;
        const float step_err = (t == DType::Q4_0 || t == DType::Q5_0) ? d : d * 0.5f;
        const float bound = step_err + (static_cast<float>(levels) * d + m) * 0x1p-10f + 1e-30f;
        for (int j = 0; j < 32; ++j) {
          const size_t i = static_cast<size_t>(blk * 32 + j);
          ASSERT_LE(std::fabs(x[i] - y[i]), bound) << "block " << blk << " elem " << j;
        }
      }
    }
  }
}

TEST(QuantRoundTrip, Q8_KErrorAndBsums) {
  const int64_t n = 256 * 5;
  const auto x = random_row(n, 21);
  const auto q = quantize(DType::Q8_K, x);
  const auto y = dequantize(DType::Q8_K, q, n);
  const auto* b = reinterpret_cast<const block_q8_K*>(q.data());
  for (int64_t blk = 0; blk < n / 256; ++blk) {
    float amax = 0;
    for (int j = 0; j < 256; ++j) amax = std::max(amax, std::fabs(x[static_cast<size_t>(blk * 256 + j)]));
    EXPECT_FLOAT_EQ(std::fabs(b[blk].d), amax / 127.0f);
    for (int j = 0; j < 256; ++j) {
      const size_t i = static_cast<size_t>(blk * 256 + j);
      ASSERT_LE(std::fabs(x[i] - y[i]), std::fabs(b[blk].d) * 0.5001f);
    }
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += b[blk].qs[16 * g + l];
      EXPECT_EQ(b[blk].bsums[g], sum);
    }
  }
}

TEST(QuantRoundTrip, ZeroRowsStayExactlyZero) {
  for (DType t : kAllQuantizable) {
    SCOPED_TRACE(dtype_name(t));
    const int64_t n = odd_row_length(t);
    const std::vector<float> x(static_cast<size_t>(n), 0.0f);
    const auto y = dequantize(t, quantize(t, x), n);
    for (float v : y) ASSERT_EQ(v, 0.0f);
  }
}

TEST(QuantRoundTrip, ConstantRowsAreCloseAndFinite) {
  for (DType t : kAllQuantizable) {
    SCOPED_TRACE(dtype_name(t));
    const int64_t n = odd_row_length(t);
    for (float c : {1.0f, -3.5f, 0.01f}) {
      const std::vector<float> x(static_cast<size_t>(n), c);
      const auto y = dequantize(t, quantize(t, x), n);
      for (float v : y) {
        ASSERT_TRUE(std::isfinite(v));
        ASSERT_NEAR(v, c, std::fabs(c) * 0.02f) << c;
      }
    }
  }
}

TEST(QuantRoundTrip, OddBlockCountsDoNotTouchBytesPastTheRow) {
  for (DType t : kAllQuantizable) {
    SCOPED_TRACE(dtype_name(t));
    const int64_t n = odd_row_length(t);
    const auto x = random_row(n, 5);
    const size_t bytes = row_size(t, n);
    std::vector<uint8_t> q(bytes + 64, 0xcd);
    quantize_row(t, x.data(), q.data(), n);
    for (size_t i = bytes; i < q.size(); ++i) ASSERT_EQ(q[i], 0xcd);
    std::vector<float> y(static_cast<size_t>(n) + 16, 7.0f);
    dequantize_row(t, q.data(), y.data(), n);
    for (size_t i = static_cast<size_t>(n); i < y.size(); ++i) ASSERT_EQ(y[i], 7.0f);
  }
}

// Wide dynamic range inside a row: a large block next to a small one, and single outliers. The
// result must stay finite and each block's error must scale with that block's own magnitude.
// (Much smaller blocks hit the f16 super-scale's subnormal range, a limit of the formats.)
TEST(QuantRoundTrip, ExtremeMagnitudes) {
  for (DType t : kAllQuantizable) {
    SCOPED_TRACE(dtype_name(t));
    const int64_t bs = std::max<int64_t>(dtype_info(t).block_size, 32);
    const int64_t n = bs * 3;
    std::vector<float> x = random_row(n, 9);
    for (int64_t i = 0; i < bs; ++i) x[static_cast<size_t>(i)] *= 1000.0f;         // big block
    for (int64_t i = bs; i < 2 * bs; ++i) x[static_cast<size_t>(i)] *= 1e-3f;     // small block
    x[static_cast<size_t>(2 * bs + 3)] = 4000.0f;                                  // outlier
    const auto y = dequantize(t, quantize(t, x), n);
    for (int64_t blk = 0; blk < 3; ++blk) {
      float amax = 0;
      for (int64_t i = blk * bs; i < (blk + 1) * bs; ++i) amax = std::max(amax, std::fabs(x[static_cast<size_t>(i)]));
      for (int64_t i = blk * bs; i < (blk + 1) * bs; ++i) {
        const auto k = static_cast<size_t>(i);
        ASSERT_TRUE(std::isfinite(y[k])) << i;
        ASSERT_LE(std::fabs(y[k] - x[k]), amax * 1.01f) << i;
      }
    }
    // The largest value of a block with an outlier is reproduced to within a few percent.
    EXPECT_NEAR(y[static_cast<size_t>(2 * bs + 3)], 4000.0f, 4000.0f * 0.05f);
  }
}

// Non-finite input is garbage in, but must not be undefined behaviour (float->int casts are
// clamped) and must not spill into neighbouring blocks.
TEST(QuantRoundTrip, NonFiniteInputStaysInItsBlock) {
  for (DType t : kAllQuantizable) {
    SCOPED_TRACE(dtype_name(t));
    const int64_t bs = std::max<int64_t>(dtype_info(t).block_size, 32);
    for (float bad : {NAN, INFINITY, -INFINITY}) {
      auto x = random_row(bs * 2, 13);
      x[5] = bad;
      const auto y = dequantize(t, quantize(t, x), bs * 2);
      const auto clean = dequantize(t, quantize(t, std::vector<float>(x.begin() + bs, x.end())), bs);
      for (int64_t i = 0; i < bs; ++i) ASSERT_EQ(y[static_cast<size_t>(bs + i)], clean[static_cast<size_t>(i)]);
    }
  }
}

TEST(QuantRoundTrip, RequantizingDequantizedLegacyDataIsStable) {
  // Dequantized Q8_0 values lie on the grid, so quantizing them again reproduces the bytes.
  const int64_t n = 32 * 9;
  const auto x = random_row(n, 3);
  const auto q1 = quantize(DType::Q8_0, x);
  const auto q2 = quantize(DType::Q8_0, dequantize(DType::Q8_0, q1, n));
  EXPECT_EQ(q1, q2);
}

}  // namespace
}  // namespace autoglm::quant
