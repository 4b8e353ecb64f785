// cpu::matmul (activation quantization, dispatch, row/token tiling and threading) against the
// reference per-row path: quantize each activation row with src/quant, reference vec_dot.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backends/cpu/kernels.h"
#include "ops_test_util.h"
#include "quant/quant.h"

namespace autoglm::cpu {
namespace {

using testing::random_rows;

TEST(OpsMatMul, BatchesMatchReferencePath) {
  ThreadPool pool(2);
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q5_0, DType::Q4_1, DType::Q5_1, DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K,
                  DType::Q6_K}) {
    const quant::TypeTraits* tr = quant::type_traits(t);
    // Token counts around the tile size (32) and row counts around the row tile (16).
    for (auto [n, m] : std::vector<std::pair<int64_t, int64_t>>{{1, 45}, {2, 17}, {33, 31}, {70, 50}}) {
      const int64_t k = 512;
      Tensor x = random_rows(n, k, 1), wf = random_rows(m, k, 2);
      Tensor w = Tensor::empty(t, {m, k});
      for (int64_t r = 0; r < m; ++r) quant::quantize_row(t, wf.data_as<float>() + r * k, w.row_ptr(r), k);
      Tensor y = Tensor::empty(DType::F32, {n, m});
      ASSERT_TRUE(matmul(x, w, y, pool).ok());
      std::vector<uint8_t> act(row_size(tr->vec_dot_type, k));
      for (int64_t i = 0; i < n; ++i) {
        quant::quantize_row(tr->vec_dot_type, x.data_as<float>() + i * k, act.data(), k);
        for (int64_t r = 0; r < m; ++r) {
          const float ref = tr->vec_dot(k, w.row_ptr(r), act.data());
          ASSERT_NEAR(y.data_as<float>()[i * m + r], ref, 1e-4f * (1.0f + std::fabs(ref)))
              << dtype_name(t) << " n=" << n << " m=" << m << " at " << i << "," << r;
        }
      }
    }
  }
}

}  // namespace
}  // namespace autoglm::cpu
