// F32_R16, F16_R16, BF16_R16 and BF16_R16P (backends/cpu/packed_float.h): packing loses nothing, every
// ISA's kernel equals the scalar packed reference bit for bit (on token counts around the tiles
// and from a token offset), and packed matmul / matmul_swiglu / tied embedding lookups agree with
// the row layout (BF16_R16P: with the activations rounded to bf16, and within that rounding of
// the f32 products).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/packed.h"
#include "backends/cpu/packed_float.h"
#include "backends/cpu/simd/simd.h"
#include "ops_test_util.h"
#include "packed_test_util.h"
#include "quant/quant.h"

namespace autoglm::cpu {
namespace {

using testing::expect_isa_kernels_equal_reference;
using testing::quantized;
using testing::random_rows;

const DType kTypes[] = {DType::F32, DType::F16, DType::BF16};
// Every float layout and its source, whichever of BF16's two this CPU packs with.
struct Layout {
  DType source, packed;
};
const Layout kLayouts[] = {{DType::F32, DType::F32_R16}, {DType::F16, DType::F16_R16}, {DType::BF16, DType::BF16_R16}, {DType::BF16, DType::BF16_R16P}};

// x's rows rounded to bf16 and back: what BF16_R16P multiplies.
Tensor bf16_rounded(const Tensor& x) {
  Tensor r = Tensor::empty(DType::F32, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    r.data_as<float>()[i] = quant::bf16_to_fp32(quant::fp32_to_bf16(x.data_as<float>()[i]));
  }
  return r;
}

TEST(OpsPackedFloat, PackingKeepsEveryRow) {
  for (DType t : kTypes) {
    Tensor w = quantized(t, random_rows(48, 96, 1));
    ASSERT_TRUE(should_pack(w) || active_isa() == Isa::kScalar || active_isa() == Isa::kNeon);
    EXPECT_EQ(source_of_packed(pack_matrix(w).dtype()), t);
  }
  for (const Layout& l : kLayouts) {
    Tensor w = quantized(l.source, random_rows(48, 96, 1));
    Tensor p = pack_float_r16(w, l.packed);
    EXPECT_EQ(p.dtype(), l.packed);
    EXPECT_EQ(p.nbytes(), w.nbytes());
    std::vector<float> a(96), b(96);
    for (int64_t r = 0; r < 48; ++r) {
      quant::dequantize_row(l.source, w.row_ptr(r), a.data(), 96);
      dequantize_packed_row(p, r, b.data());
      ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << dtype_name(l.packed) << " row " << r;
    }
  }
}

// BF16 packs for vdpbf16ps where the CPU runs it at full rate, unless AUTOGLM_EXACT_BF16 is 1;
// AUTOGLM_EXACT_BF16=0 asks for it wherever the CPU has it.
TEST(OpsPackedFloat, Bf16PacksForTheDotWhereItIsFast) {
  const Tensor w = quantized(DType::BF16, random_rows(16, 64, 4));
  if (!should_pack(w)) GTEST_SKIP() << "no packed BF16 kernel on " << isa_name(active_isa());
  const char* env = std::getenv("AUTOGLM_EXACT_BF16");
  const std::string exact = env != nullptr ? env : "";
  const bool has_pairs = packed_gemm_for(DType::BF16_R16P, Isa::kAvx512) != nullptr && active_isa() == Isa::kAvx512;
  const bool want_pairs = has_pairs && exact != "1" && (exact == "0" || simd::cpu_has_full_rate_bf16_dot());
  EXPECT_EQ(pack_matrix(w).dtype(), want_pairs ? DType::BF16_R16P : DType::BF16_R16);
}

TEST(OpsPackedFloat, ColumnsNotAMultipleOf32StayInRows) {
  EXPECT_FALSE(should_pack(quantized(DType::F16, random_rows(16, 40, 2))));
  EXPECT_FALSE(should_pack(quantized(DType::F16, random_rows(24, 64, 2))));  // rows % 16 != 0
}

TEST(OpsPackedFloat, IsaKernelsEqualReferenceBitForBit) {
  ThreadPool pool(2);
  const int64_t m = 32, k = 160;
  for (const Layout& l : kLayouts) {
    Tensor w = pack_float_r16(quantized(l.source, random_rows(m, k, 3)), l.packed);
    int checked = 0;
    for (int64_t n : {1, 2, 3, 7, 8, 9, 16, 17, 33}) {
      Tensor x = random_rows(n, k, static_cast<uint32_t>(n));
      PackedActivations act;
      ASSERT_TRUE(prepare_packed_activations(x, act, pool, w.dtype()).ok());
      ASSERT_EQ(act.nb, k);
      checked += expect_isa_kernels_equal_reference(w, act, "random");
    }
    EXPECT_GE(checked, 9);  // the scalar reference at least
  }
}

// The pair kernels (two adjacent row groups, prefill) against the scalar reference of each group,
// bit for bit: groups 1 and 2 of three, token counts around the 12-token tile, odd columns too.
TEST(OpsPackedFloat, PairKernelsEqualReferenceBitForBit) {
  ThreadPool pool(1);
  int checked = 0;
  for (const Layout& l : kLayouts) {
    const PackedGemmPairFn pair = packed_pair_gemm_for(l.packed, Isa::kAvx512);
    if (pair == nullptr) continue;
    for (int64_t k : {160, 97}) {
      const int64_t m = 48;
      Tensor w = pack_float_r16(quantized(l.source, random_rows(m, k, 7)), l.packed);
      const size_t gbytes = packed_group_bytes(l.packed, k);
      for (int64_t n : {1, 5, 12, 13, 25, 40}) {
        Tensor x = random_rows(n + 3, k, static_cast<uint32_t>(n + k));
        PackedActivations act;
        ASSERT_TRUE(prepare_packed_activations(x, act, pool, l.packed).ok());
        const int64_t ldy = 40, t0 = 3 % (n + 3);
        std::vector<float> want(static_cast<size_t>(n * ldy), -1.0f), got(want);
        const uint8_t* g1 = static_cast<const uint8_t*>(w.data()) + gbytes;
        packed_gemm_reference(l.packed, k, g1, act, t0, n, want.data(), ldy);
        packed_gemm_reference(l.packed, k, g1 + gbytes, act, t0, n, want.data() + 20, ldy);
        pair(k, g1, act, t0, n, got.data(), got.data() + 20, ldy);
        ASSERT_EQ(std::memcmp(want.data(), got.data(), want.size() * sizeof(float)), 0)
            << dtype_name(l.packed) << " k " << k << " n " << n;
        ++checked;
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no pair kernel on this CPU";
  EXPECT_EQ(checked, 3 * 2 * 6);
}

// A token's outputs do not depend on its batch: matmul, matmul_cat and the paired gate/up of 40
// tokens (prefill: the pair kernels, passes of token blocks) equal each token's alone (decode:
// one group at a time), bit for bit. 7 and 4 groups per matrix on one thread, so the pairs run
// and one group is left alone.
TEST(OpsPackedFloat, PrefillEqualsTokenByTokenBitForBit) {
  ThreadPool pool(1);
  for (DType t : kTypes) {
    const int64_t n = 40, k = 256, m = 112;
    const Tensor x = random_rows(n, k, 31);
    const Tensor a = pack_matrix(quantized(t, random_rows(m, k, 32)));
    const Tensor b = pack_matrix(quantized(t, random_rows(64, k, 33)));
    const Tensor gu = pack_matrix(pair_row_groups(quantized(t, random_rows(m, k, 34)), quantized(t, random_rows(m, k, 35))));
    ASSERT_TRUE(is_packed_type(a.dtype()) && is_packed_type(gu.dtype())) << dtype_name(t);
    const auto run = [&](const Tensor& xs, std::vector<float>& mm, std::vector<float>& cat, std::vector<float>& sw) {
      const int64_t rows = xs.rows();
      Tensor y = Tensor::empty(DType::F32, {rows, m}), yc = Tensor::empty(DType::F32, {rows, m + 64});
      Tensor ys = Tensor::empty(DType::F32, {rows, m});
      ASSERT_TRUE(matmul(xs, a, y, pool).ok());
      ASSERT_TRUE(matmul_cat(xs, {&a, &b}, yc, pool).ok());
      ASSERT_TRUE(matmul_swiglu_paired(xs, gu, ys, pool).ok());
      mm.insert(mm.end(), y.data_as<float>(), y.data_as<float>() + rows * m);
      cat.insert(cat.end(), yc.data_as<float>(), yc.data_as<float>() + rows * (m + 64));
      sw.insert(sw.end(), ys.data_as<float>(), ys.data_as<float>() + rows * m);
    };
    std::vector<float> mm, cat, sw, mm1, cat1, sw1;
    run(x, mm, cat, sw);
    for (int64_t i = 0; i < n; ++i) {
      Tensor xi = Tensor::empty(DType::F32, {1, k});
      std::memcpy(xi.data(), x.data_as<float>() + i * k, static_cast<size_t>(k) * sizeof(float));
      run(xi, mm1, cat1, sw1);
    }
    EXPECT_EQ(std::memcmp(mm.data(), mm1.data(), mm.size() * sizeof(float)), 0) << dtype_name(t) << " matmul";
    EXPECT_EQ(std::memcmp(cat.data(), cat1.data(), cat.size() * sizeof(float)), 0) << dtype_name(t) << " matmul_cat";
    EXPECT_EQ(std::memcmp(sw.data(), sw1.data(), sw.size() * sizeof(float)), 0) << dtype_name(t) << " swiglu";
  }
}

// vdpbf16ps reads bf16 subnormals as zero and flushes f32 subnormal sums to zero; the
// reference does the same, so tiny and huge values match bit for bit too.
TEST(OpsPackedFloat, Bf16PairsEdgeValuesEqualReference) {
  if (packed_gemm_for(DType::BF16_R16P, Isa::kAvx512) == nullptr) GTEST_SKIP() << "no AVX512_BF16 on this CPU";
  ThreadPool pool(1);
  const int64_t m = 16, k = 128, n = 5;
  Tensor w = Tensor::empty(DType::BF16, {m, k});
  std::mt19937 rng(17);
  // Exponent fields 0 (subnormal), 1 (smallest normal), around 1.0 and near the top.
  const uint16_t exps[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xf0};
  for (int64_t i = 0; i < m * k; ++i) {
    const uint16_t e = exps[rng() % 6];
    w.data_as<uint16_t>()[i] = static_cast<uint16_t>((rng() & 0x8000u) | (e << 7) | (rng() & 0x7fu));
  }
  Tensor x = Tensor::empty(DType::F32, {n, k});
  const float mags[] = {1e-39f, 1.2e-38f, 3e-38f, 1.0f, 0.5f, 1e30f};
  for (int64_t i = 0; i < n * k; ++i) x.data_as<float>()[i] = mags[rng() % 6] * (rng() % 2 ? 1.0f : -1.0f) * (1 + (rng() % 7) / 8.0f);
  Tensor p = pack_float_r16(w, DType::BF16_R16P);
  PackedActivations act;
  ASSERT_TRUE(prepare_packed_activations(x, act, pool, DType::BF16_R16P).ok());
  EXPECT_GE(expect_isa_kernels_equal_reference(p, act, "edge values"), 2);  // the reference and AVX-512
}

// Against the row layout's reference dot (src/quant), which sums in another order. `packed`:
// what y was computed with; BF16_R16P's products are of the bf16-rounded activations, and
// within that rounding (2^-9 of each product) of the f32 ones.
void expect_matches_rows(const Tensor& x, const Tensor& w, DType packed, const float* y, int64_t ldy) {
  const quant::TypeTraits* tr = quant::type_traits(w.dtype());
  const bool pairs = packed == DType::BF16_R16P;
  const Tensor xr = pairs ? bf16_rounded(x) : x;
  std::vector<float> wr(static_cast<size_t>(w.cols()));
  for (int64_t i = 0; i < x.rows(); ++i) {
    for (int64_t r = 0; r < w.rows(); ++r) {
      const float ref = tr->vec_dot(x.cols(), w.row_ptr(r), xr.data_as<float>() + i * x.cols());
      ASSERT_NEAR(y[i * ldy + r], ref, 1e-4f * (1.0f + std::fabs(ref))) << dtype_name(packed) << " at " << i << "," << r;
      if (!pairs) continue;
      quant::dequantize_row(w.dtype(), w.row_ptr(r), wr.data(), w.cols());
      double exact = 0.0, mass = 0.0;
      for (int64_t c = 0; c < w.cols(); ++c) {
        exact += static_cast<double>(wr[c]) * x.data_as<float>()[i * x.cols() + c];
        mass += std::fabs(static_cast<double>(wr[c]) * x.data_as<float>()[i * x.cols() + c]);
      }
      ASSERT_NEAR(y[i * ldy + r], exact, mass / 512 + 1e-5 * mass) << "at " << i << "," << r;
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
      const Tensor p = pack_matrix(w);
      ASSERT_TRUE(matmul(x, p, y, pool).ok());
      expect_matches_rows(x, w, p.dtype(), y.data_as<float>(), m);
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
      const Tensor pg = pack_matrix(g), pu = pack_matrix(u);
      // BF16_R16P multiplies bf16-rounded activations: the row layout gets the same ones.
      ASSERT_TRUE(matmul_swiglu(pg.dtype() == DType::BF16_R16P ? bf16_rounded(x) : x, g, u, y0, pool).ok());
      ASSERT_TRUE(matmul_swiglu(x, pg, pu, y1, pool).ok());
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
