// Helpers shared by the quant tests: deterministic random rows and whole-row conversions.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "quant/blocks.h"
#include "quant/half.h"
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

// The lattice types (IQ1_S, IQ1_M, IQ2_*, IQ3_*), which this engine reads but does not write.
inline constexpr DType kLatticeTypes[] = {DType::IQ2_XXS, DType::IQ2_XS, DType::IQ2_S, DType::IQ3_XXS,
                                          DType::IQ3_S,   DType::IQ1_S,  DType::IQ1_M};

// nb random blocks of a lattice type: every index, sign and factor bit random, f16 scales finite
// (random sign, 2^-12 .. 2^3). Every bit pattern of those fields is a valid block.
inline std::vector<uint8_t> random_lattice_row(DType t, int64_t nb, std::mt19937& rng) {
  const size_t bytes = dtype_info(t).type_size;
  std::vector<uint8_t> row(bytes * static_cast<size_t>(nb));
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> expo(-12.0f, 3.0f);
  for (auto& b : row) b = static_cast<uint8_t>(byte(rng));
  for (int64_t i = 0; i < nb; ++i) {
    uint8_t* blk = row.data() + bytes * static_cast<size_t>(i);
    const float mag = std::exp2(expo(rng));
    set_lattice_d(t, blk, fp32_to_fp16(byte(rng) & 1 ? -mag : mag));
  }
  return row;
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
