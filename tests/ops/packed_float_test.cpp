// F16_R16 and BF16_R16 (backends/cpu/packed_float.h): packing loses nothing, every ISA's kernel
// equals the scalar packed reference bit for bit (on token counts around the tiles and from a
// token offset), and packed matmul / matmul_swiglu / tied embedding lookups agree with the row
// layout.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/packed.h"
#include "backends/cpu/packed_float.h"
#include "ops_test_util.h"
#include "quant/quant.h"

namespace autoglm::cpu {
namespace {

using testing::quantized;
using testing::random_rows;

const DType kTypes[] = {DType::F16, DType::BF16};

TEST(OpsPackedFloat, PackingKeepsEveryRow) {
  for (DType t : kTypes) {
    Tensor w = quantized(t, random_rows(48, 96, 1));
    ASSERT_TRUE(should_pack(w) || active_isa() == Isa::kScalar || active_isa() == Isa::kNeon);
    Tensor p = pack_matrix(w);
    EXPECT_EQ(p.dtype(), t == DType::F16 ? DType::F16_R16 : DType::BF16_R16);
    EXPECT_EQ(source_of_packed(p.dtype()), t);
    EXPECT_EQ(p.nbytes(), w.nbytes());
    std::vector<float> a(96), b(96);
    for (int64_t r = 0; r < 48; ++r) {
      quant::dequantize_row(t, w.row_ptr(r), a.data(), 96);
      dequantize_packed_row(p, r, b.data());
      ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << dtype_name(t) << " row " << r;
    }
  }
}

TEST(OpsPackedFloat, ColumnsNotAMultipleOf32StayInRows) {
  EXPECT_FALSE(should_pack(quantized(DType::F16, random_rows(16, 40, 2))));
  EXPECT_FALSE(should_pack(quantized(DType::F16, random_rows(24, 64, 2))));  // rows % 16 != 0
}

TEST(OpsPackedFloat, IsaKernelsEqualReferenceBitForBit) {
  ThreadPool pool(2);
  const int64_t m = 32, k = 160;
  for (DType t : kTypes) {
    Tensor w = pack_matrix(quantized(t, random_rows(m, k, 3)));
    int checked = 0;
    for (int64_t n : {1, 2, 3, 7, 8, 9, 16, 17, 33}) {
      Tensor x = random_rows(n, k, static_cast<uint32_t>(n));
      PackedActivations act;
      ASSERT_TRUE(prepare_packed_activations(x, act, pool, w.dtype()).ok());
      ASSERT_EQ(act.nb, k);
      const size_t gb = packed_group_bytes(w.dtype(), k);
      const auto* wp = static_cast<const uint8_t*>(w.data());
      std::vector<float> ref(static_cast<size_t>(n * m)), got(static_cast<size_t>(n * m));
      for (int64_t g = 0; g < m / kPackRows; ++g) {
        packed_gemm_reference(w.dtype(), act.nb, wp + g * gb, act, 0, n, ref.data() + g * kPackRows, m);
      }
      for (int i = 0; i < kNumIsas; ++i) {
        const PackedGemmFn f = packed_gemm_for(w.dtype(), static_cast<Isa>(i));
        if (f == nullptr) continue;
        ++checked;
        std::fill(got.begin(), got.end(), -1.0f);
        for (int64_t g = 0; g < m / kPackRows; ++g) {
          f(act.nb, wp + g * gb, act, 0, 1, got.data() + g * kPackRows, m);
          if (n > 1) f(act.nb, wp + g * gb, act, 1, n - 1, got.data() + m + g * kPackRows, m);
        }
        ASSERT_EQ(std::memcmp(got.data(), ref.data(), got.size() * sizeof(float)), 0)
            << dtype_name(t) << " isa " << isa_name(static_cast<Isa>(i)) << " n=" << n;
      }
    }
    EXPECT_GE(checked, 9);  // the scalar reference at least
  }
}

// Against the row layout's reference dot (src/quant), which sums in another order.
void expect_matches_rows(const Tensor& x, const Tensor& w, const float* y, int64_t ldy) {
  const quant::TypeTraits* tr = quant::type_traits(w.dtype());
  for (int64_t i = 0; i < x.rows(); ++i) {
    for (int64_t r = 0; r < w.rows(); ++r) {
      const float ref = tr->vec_dot(x.cols(), w.row_ptr(r), x.data_as<float>() + i * x.cols());
      ASSERT_NEAR(y[i * ldy + r], ref, 1e-4f * (1.0f + std::fabs(ref))) << dtype_name(w.dtype()) << " at " << i << "," << r;
    }
  }
}

TEST(OpsPackedFloat, MatmulMatchesRowLayoutReference) {
  ThreadPool pool(2);
  for (DType t : kTypes) {
    for (int64_t n : {1, 5, 40}) {
      const int64_t m = 48, k = 256;
      Tensor x = random_rows(n, k, 11), w = quantized(t, random_rows(m, k, 12));
      Tensor y = Tensor::empty(DType::F32, {n, m});
      ASSERT_TRUE(matmul(x, pack_matrix(w), y, pool).ok());
      expect_matches_rows(x, w, y.data_as<float>(), m);
    }
  }
}

TEST(OpsPackedFloat, FusedSwigluMatchesUnpacked) {
  ThreadPool pool(2);
  for (DType t : kTypes) {
    for (int64_t n : {1, 19}) {
      const int64_t m = 32, k = 128;
      Tensor x = random_rows(n, k, 21);
      Tensor g = quantized(t, random_rows(m, k, 22)), u = quantized(t, random_rows(m, k, 23));
      Tensor y0 = Tensor::empty(DType::F32, {n, m}), y1 = Tensor::empty(DType::F32, {n, m});
      ASSERT_TRUE(matmul_swiglu(x, g, u, y0, pool).ok());
      ASSERT_TRUE(matmul_swiglu(x, pack_matrix(g), pack_matrix(u), y1, pool).ok());
      for (int64_t i = 0; i < n * m; ++i) {
        const float a = y0.data_as<float>()[i];
        ASSERT_NEAR(y1.data_as<float>()[i], a, 1e-4f * (1.0f + std::fabs(a))) << dtype_name(t) << " at " << i;
      }
    }
  }
}

TEST(OpsPackedFloat, TiedEmbeddingLooksUpPackedRows) {
  ThreadPool pool(1);
  for (DType t : kTypes) {
    Tensor w = quantized(t, random_rows(32, 64, 31));
    Tensor p = pack_matrix(w);
    Tensor ids = Tensor::empty(DType::I32, {2});
    ids.data_as<int32_t>()[0] = 3;
    ids.data_as<int32_t>()[1] = 30;
    Tensor y0 = Tensor::empty(DType::F32, {2, 64}), y1 = Tensor::empty(DType::F32, {2, 64});
    ASSERT_TRUE(embed(w, ids, y0, pool).ok());
    ASSERT_TRUE(embed(p, ids, y1, pool).ok());
    for (int64_t i = 0; i < 2 * 64; ++i) ASSERT_EQ(y0.data_as<float>()[i], y1.data_as<float>()[i]);
  }
}

}  // namespace
}  // namespace autoglm::cpu
