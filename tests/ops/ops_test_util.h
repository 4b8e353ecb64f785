// Random activations and weights shared by the ops tests.
#pragma once

#include <cstdint>
#include <random>

#include "core/tensor.h"
#include "quant/quant.h"

namespace autoglm::cpu::testing {

// rows x cols of N(0, 1) values, reproducible from the seed.
inline Tensor random_rows(int64_t rows, int64_t cols, uint32_t seed) {
  Tensor t = Tensor::empty(DType::F32, {rows, cols});
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int64_t i = 0; i < rows * cols; ++i) t.data_as<float>()[i] = nd(rng);
  return t;
}

// wf quantized row by row with src/quant's reference quantizer.
inline Tensor quantized(DType type, const Tensor& wf) {
  Tensor w = Tensor::empty(type, wf.shape());
  for (int64_t r = 0; r < wf.rows(); ++r) {
    quant::quantize_row(type, wf.data_as<float>() + r * wf.cols(), w.row_ptr(r), wf.cols());
  }
  return w;
}

}  // namespace autoglm::cpu::testing
