// The lattice types' matrix products (matmul, matmul_cat, matmul_swiglu) against their scalar
// row dots: one token (row dots), a few (the several-token form) and batches (LATTICE_R16 groups
// on AVX-512) must all give the reference's bits.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "../quant/quant_test_util.h"
#include "backends/cpu/kernels.h"
#include "backends/cpu/packed_lattice.h"
#include "ops_test_util.h"
#include "quant/quant.h"

namespace autoglm::cpu {
namespace {

using testing::random_rows;

Tensor lattice_matrix(DType t, int64_t rows, int64_t cols, uint32_t seed) {
  Tensor w = Tensor::empty(t, {rows, cols});
  std::mt19937 rng(seed);
  const std::vector<uint8_t> bytes = quant::testing::random_lattice_row(t, rows * cols / quant::kQKK, rng);
  std::memcpy(w.data(), bytes.data(), bytes.size());
  return w;
}

// y[t, r] = the scalar reference dot of row r with token t's Q8_K row.
std::vector<float> reference_product(const Tensor& x, const Tensor& w) {
  const int64_t n = x.rows(), k = x.cols(), m = w.rows();
  std::vector<uint8_t> q(row_size(DType::Q8_K, k));
  std::vector<float> y(static_cast<size_t>(n * m));
  for (int64_t t = 0; t < n; ++t) {
    quant::quantize_row(DType::Q8_K, x.data_as<float>() + t * k, q.data(), k);
    for (int64_t r = 0; r < m; ++r) y[static_cast<size_t>(t * m + r)] = quant::vec_dot(w.dtype(), k, w.row_ptr(r), q.data());
  }
  return y;
}

bool same_bits(const float* a, const float* b, size_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

TEST(OpsLattice, MatmulEqualsRowDotsBitForBit) {
  ThreadPool pool(2);
  for (DType t : quant::testing::kLatticeTypes) {
    for (int64_t m : {32, 40}) {  // 40 rows are not whole groups of 16: that matrix keeps the row dots
      const Tensor w = lattice_matrix(t, m, 512, static_cast<uint32_t>(t) + static_cast<uint32_t>(m));
      for (int64_t n : {1, 3, 8, 9, 17, 33}) {
        const Tensor x = random_rows(n, 512, static_cast<uint32_t>(n));
        Tensor y = Tensor::empty(DType::F32, {n, m});
        ASSERT_TRUE(matmul(x, w, y, pool).ok());
        const std::vector<float> ref = reference_product(x, w);
        EXPECT_TRUE(same_bits(y.data_as<float>(), ref.data(), ref.size()))
            << dtype_name(t) << " m=" << m << " n=" << n << (lattice_tiles_for(t) ? " (groups)" : "");
      }
    }
  }
}

TEST(OpsLattice, CatAndSwigluEqualSeparateProducts) {
  ThreadPool pool(2);
  for (DType t : {DType::IQ2_XXS, DType::IQ3_S, DType::IQ1_M}) {
    const Tensor a = lattice_matrix(t, 32, 256, 1), b = lattice_matrix(t, 16, 256, 2);
    for (int64_t n : {2, 8, 21}) {
      const Tensor x = random_rows(n, 256, static_cast<uint32_t>(n + 7));
      Tensor ya = Tensor::empty(DType::F32, {n, 32}), yb = Tensor::empty(DType::F32, {n, 16});
      ASSERT_TRUE(matmul(x, a, ya, pool).ok());
      ASSERT_TRUE(matmul(x, b, yb, pool).ok());
      Tensor cat = Tensor::empty(DType::F32, {n, 48});
      ASSERT_TRUE(matmul_cat(x, {&a, &b}, cat, pool).ok());
      for (int64_t i = 0; i < n; ++i) {
        EXPECT_TRUE(same_bits(cat.data_as<float>() + i * 48, ya.data_as<float>() + i * 32, 32)) << dtype_name(t) << " n=" << n;
        EXPECT_TRUE(same_bits(cat.data_as<float>() + i * 48 + 32, yb.data_as<float>() + i * 16, 16)) << dtype_name(t);
      }
      const Tensor up = lattice_matrix(t, 32, 256, 3);
      Tensor yu = Tensor::empty(DType::F32, {n, 32}), sw = Tensor::empty(DType::F32, {n, 32});
      ASSERT_TRUE(matmul(x, up, yu, pool).ok());
      ASSERT_TRUE(matmul_swiglu(x, a, up, sw, pool).ok());
      std::vector<float> want(static_cast<size_t>(n * 32));
      for (int64_t i = 0; i < n; ++i) silu_mul(ya.data_as<float>() + i * 32, yu.data_as<float>() + i * 32, want.data() + i * 32, 32);
      EXPECT_TRUE(same_bits(sw.data_as<float>(), want.data(), want.size())) << dtype_name(t) << " n=" << n;
    }
  }
}

}  // namespace
}  // namespace autoglm::cpu
