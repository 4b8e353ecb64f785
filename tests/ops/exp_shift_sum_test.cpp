// exp_shift_sum (the sampler's softmax exp and sum): every ISA's kernel gives the reference's
// bits, values and sums, on odd lengths and tails; the values are within a few ulp of std::exp;
// -inf and anything below the floor give exactly 0.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "backends/cpu/kernels.h"

namespace autoglm::cpu {
namespace {

std::vector<float> Logits(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 6.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = nd(rng);
  const float specials[] = {0.0f, -0.0f, -87.0f, -87.33654f, -87.4f, -200.0f,
                            -std::numeric_limits<float>::infinity(), 30.0f, -1e-30f};
  for (size_t i = 0; i < x.size() && i < std::size(specials); ++i) x[i * 3 % x.size()] = specials[i];
  return x;
}

bool SameBits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(OpsExpShiftSum, EveryIsaGivesTheReferenceBits) {
  int tested = 0;
  for (int i = 0; i < kNumIsas; ++i) {
    const ExpShiftSumFn f = exp_shift_sum_for(static_cast<Isa>(i));
    if (f == nullptr) continue;
    ++tested;
    for (int64_t n : {1, 5, 15, 16, 17, 31, 33, 1000, 151936}) {
      std::vector<float> ref = Logits(n, static_cast<uint32_t>(n)), got = ref;
      const float shift = 2.5f;
      const float sum_ref = exp_shift_sum_reference(ref.data(), n, shift);
      const float sum_got = f(got.data(), n, shift);
      ASSERT_TRUE(SameBits(sum_got, sum_ref)) << isa_name(static_cast<Isa>(i)) << " n=" << n << " " << sum_got << " vs " << sum_ref;
      for (size_t k = 0; k < ref.size(); ++k) {
        ASSERT_TRUE(SameBits(got[k], ref[k])) << isa_name(static_cast<Isa>(i)) << " n=" << n << " k=" << k;
      }
    }
  }
  EXPECT_GE(tested, 1);
}

TEST(OpsExpShiftSum, ValuesAreExpWithinUlpsAndZeroBelowTheFloor) {
  const int64_t n = 4099;
  const std::vector<float> x = Logits(n, 7);
  std::vector<float> y = x;
  const float shift = 1.25f;
  const float sum = exp_shift_sum(y.data(), n, shift);
  double expect_sum = 0;
  for (size_t k = 0; k < x.size(); ++k) {
    const float arg = x[k] - shift;
    if (!(arg >= -87.33654f)) {
      EXPECT_EQ(y[k], 0.0f) << arg;  // -inf (a banned token) must have probability exactly 0
      continue;
    }
    const double e = std::exp(static_cast<double>(arg));
    expect_sum += e;
    EXPECT_NEAR(y[k], e, 4e-7 * e) << "arg=" << arg;
  }
  EXPECT_NEAR(sum, expect_sum, 1e-5 * expect_sum);
}

}  // namespace
}  // namespace autoglm::cpu
