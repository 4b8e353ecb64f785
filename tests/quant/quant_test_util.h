// Helpers shared by the quant tests: deterministic random rows and whole-row conversions.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "quant/quant.h"

namespace autoglm::quant::testing {

// Gaussian values with a different random magnitude per 32-element group, like real weights.
inline std::vector<float> random_row(int64_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> mag(0.25f, 4.0f);
  std::vector<float> x(static_cast<size_t>(n));
  float group_scale = 1.0f;
  for (int64_t i = 0; i < n; ++i) {
    if (i % 32 == 0) group_scale = mag(rng);
    x[static_cast<size_t>(i)] = sigma * group_scale * normal(rng);
  }
  return x;
}

inline std::vector<uint8_t> quantize(DType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(row_size(t, static_cast<int64_t>(x.size())));
  quantize_row(t, x.data(), q.data(), static_cast<int64_t>(x.size()));
  return q;
}

inline std::vector<float> dequantize(DType t, const std::vector<uint8_t>& q, int64_t n) {
  std::vector<float> y(static_cast<size_t>(n));
  dequantize_row(t, q.data(), y.data(), n);
  return y;
}

}  // namespace autoglm::quant::testing
