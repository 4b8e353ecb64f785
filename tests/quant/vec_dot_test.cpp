// vec_dot(x, y) must equal the dot product of the dequantized rows: the dot is a faster route to
// the same number, never a different definition.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "quant/blocks.h"
#include "quant_test_util.h"

namespace autoglm::quant {
namespace {

using testing::dequantize;
using testing::quantize;
using testing::random_row;

const DType kDotTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0, DType::Q4_1,
                           DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K,
                           DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_NL, DType::IQ4_XS};

struct DotCase {
  double reference;  // sum of dequantized products, in double
  double magnitude;  // sum of |products|: the scale for rounding error
  float got;
};

DotCase run_dot(DType t, const std::vector<float>& xf, const std::vector<float>& yf) {
  const auto n = static_cast<int64_t>(xf.size());
  const TypeTraits* tr = type_traits(t);
  const auto xq = quantize(t, xf);
  const auto yq = quantize(tr->vec_dot_type, yf);
  const auto xd = dequantize(t, xq, n);
  const auto yd = dequantize(tr->vec_dot_type, yq, n);
  DotCase c{0, 0, 0};
  for (int64_t i = 0; i < n; ++i) {
    const double p = static_cast<double>(xd[static_cast<size_t>(i)]) * yd[static_cast<size_t>(i)];
    c.reference += p;
    c.magnitude += std::fabs(p);
  }
  c.got = vec_dot(t, n, xq.data(), yq.data());
  EXPECT_EQ(c.got, tr->vec_dot(n, xq.data(), yq.data()));  // wrapper == table entry
  return c;
}

// The lattice types have no quantizer: random blocks, activations quantized as usual. Their
// dots are exact integer sums per super-block, so only the float products and the final sum round.
TEST(QuantVecDot, LatticeTypesMatchDotOfDequantizedRows) {
  for (DType t : testing::kLatticeTypes) {
    SCOPED_TRACE(dtype_name(t));
    std::mt19937 rng(static_cast<uint32_t>(t));
    for (int64_t nb : {1, 2, 5}) {
      const int64_t n = nb * kQKK;
      const auto xq = testing::random_lattice_row(t, nb, rng);
      const auto yq = quantize(DType::Q8_K, random_row(n, static_cast<uint32_t>(nb)));
      const auto xd = dequantize(t, xq, n), yd = dequantize(DType::Q8_K, yq, n);
      double ref = 0, mag = 0;
      for (size_t i = 0; i < xd.size(); ++i) {
        ref += static_cast<double>(xd[i]) * yd[i];
        mag += std::fabs(static_cast<double>(xd[i]) * yd[i]);
      }
      const float got = vec_dot(t, n, xq.data(), yq.data());
      EXPECT_NEAR(got, ref, 1e-6 * mag + 1e-30) << "blocks " << nb;
      EXPECT_GT(mag, 0.0);
    }
  }
}

TEST(QuantVecDot, MatchesDotOfDequantizedRows) {
  for (DType t : kDotTypes) {
    SCOPED_TRACE(dtype_name(t));
    const int64_t bs = dtype_info(t).block_size;
    for (int64_t blocks : {1, 3, 7}) {
      const int64_t n = bs == 1 ? 257 * blocks : bs * blocks;
      for (uint32_t seed = 1; seed <= 3; ++seed) {
        const auto c = run_dot(t, random_row(n, seed), random_row(n, seed + 100));
        // Only the final float rounding and double summation order separate the two.
        EXPECT_NEAR(c.got, c.reference, 1e-6 * c.magnitude + 1e-30) << "blocks " << blocks;
      }
    }
  }
}

TEST(QuantVecDot, ZeroRowsGiveZero) {
  for (DType t : kDotTypes) {
    SCOPED_TRACE(dtype_name(t));
    const int64_t n = dtype_info(t).block_size * 3;
    const std::vector<float> zero(static_cast<size_t>(n), 0.0f);
    const auto other = random_row(n, 4);
    EXPECT_EQ(run_dot(t, zero, other).got, 0.0f);
    EXPECT_EQ(run_dot(t, other, zero).got, 0.0f);
  }
}

// The asymmetric formats' min term uses the activation sums (Q8_K bsums for K-quants); a row with
// a large common offset exercises it.
TEST(QuantVecDot, OffsetRowsExerciseMinTerms) {
  for (DType t : {DType::Q4_1, DType::Q5_1, DType::Q2_K, DType::Q4_K, DType::Q5_K}) {
    SCOPED_TRACE(dtype_name(t));
    const int64_t n = dtype_info(t).block_size * 5;
    auto x = random_row(n, 8);
    auto y = random_row(n, 9);
    for (auto& v : x) v = std::fabs(v) - 3.0f;
    for (auto& v : y) v = v + 2.0f;
    const auto c = run_dot(t, x, y);
    EXPECT_NEAR(c.got, c.reference, 1e-6 * c.magnitude);
  }
}

TEST(QuantVecDot, ApproximatesFloatDot) {
  // End to end: quantized dot vs the exact float dot of the original rows, relative to the
  // rows' norms; bounds follow each format's resolution.
  const struct {
    DType t;
    double tol;
  } cases[] = {{DType::F16, 1e-3}, {DType::BF16, 5e-3}, {DType::Q8_0, 0.02}, {DType::Q4_0, 0.1},
               {DType::Q5_1, 0.06}, {DType::Q4_K, 0.1}, {DType::Q6_K, 0.03}, {DType::Q2_K, 0.3},
               {DType::IQ4_NL, 0.1}, {DType::IQ4_XS, 0.1}};
  for (const auto& c : cases) {
    SCOPED_TRACE(dtype_name(c.t));
    const int64_t n = 256 * 8;
    const auto x = random_row(n, 31);
    const auto y = random_row(n, 32);
    double exact = 0, nx = 0, ny = 0;
    for (int64_t i = 0; i < n; ++i) {
      exact += static_cast<double>(x[static_cast<size_t>(i)]) * y[static_cast<size_t>(i)];
      nx += static_cast<double>(x[static_cast<size_t>(i)]) * x[static_cast<size_t>(i)];
      ny += static_cast<double>(y[static_cast<size_t>(i)]) * y[static_cast<size_t>(i)];
    }
    const auto r = run_dot(c.t, x, y);
    EXPECT_NEAR(r.got, exact, c.tol * std::sqrt(nx * ny) / std::sqrt(static_cast<double>(n)) * 4);
  }
}

}  // namespace
}  // namespace autoglm::quant
