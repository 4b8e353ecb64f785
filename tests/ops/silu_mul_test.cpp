// silu_mul (the SwiGLU activation with a polynomial exp) against the std::exp reference on
// every ISA's path, over ordinary values, the clamp range ends, signed zeros and odd tails.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "backends/cpu/kernels.h"

namespace autoglm::cpu {
namespace {

TEST(OpsSiluMul, MatchesReferenceWithinUlps) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 4.0f);
  for (int64_t n : {1, 7, 15, 16, 17, 33, 1000}) {
    std::vector<float> g(static_cast<size_t>(n)), u(static_cast<size_t>(n)), ref(g.size()), got(g.size());
    for (auto& v : g) v = nd(rng);
    for (auto& v : u) v = nd(rng);
    const float specials[] = {0.0f, -0.0f, 88.0f, -88.0f, 100.0f, -100.0f, 1e-30f, -1e-30f, 20.0f, -20.0f};
    for (size_t i = 0; i < g.size() && i < std::size(specials); ++i) g[i] = specials[i];
    silu_mul_reference(g.data(), u.data(), ref.data(), n);
    silu_mul(g.data(), u.data(), got.data(), n);
    for (size_t i = 0; i < g.size(); ++i) {
      // A few ulp of the result, or absolutely tiny where silu underflows (g << 0).
      const float tol = 4e-7f * std::fabs(ref[i]) + 1e-30f;
      ASSERT_NEAR(got[i], ref[i], tol) << "n=" << n << " g=" << g[i] << " u=" << u[i];
    }
  }
}

// An element's result does not depend on where it sits in the call: the fused gate/up product
// runs silu_mul on 16-row slices, the unfused op on whole rows, and the two must agree exactly.
TEST(OpsSiluMul, ResultDoesNotDependOnPositionInTheCall) {
  std::mt19937 rng(9);
  std::normal_distribution<float> nd(0.0f, 4.0f);
  const int64_t n = 43;
  std::vector<float> g(static_cast<size_t>(n)), u(g.size()), whole(g.size()), part(g.size());
  for (auto& v : g) v = nd(rng);
  for (auto& v : u) v = nd(rng);
  silu_mul(g.data(), u.data(), whole.data(), n);
  for (int64_t start : {1, 3, 5, 8, 13, 16, 40}) {
    for (int64_t len = 1; start + len <= n; len += 3) {
      silu_mul(g.data() + start, u.data() + start, part.data(), len);
      for (int64_t i = 0; i < len; ++i) {
        ASSERT_EQ(part[static_cast<size_t>(i)], whole[static_cast<size_t>(start + i)]) << start << "+" << i;
      }
    }
  }
}

}  // namespace
}  // namespace autoglm::cpu
