// 16-row packed weights (backends/cpu/packed.h): packing loses nothing, every ISA's packed
// kernel equals the scalar packed reference bit for bit, and packed matmul / matmul_swiglu agree
// with the row layout's reference dot products, on odd sizes and token counts around the tiles.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <tuple>
#include <random>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/packed.h"
#include "ops_test_util.h"
#include "packed_test_util.h"
#include "quant/quant.h"

namespace autoglm::cpu {
namespace {

using testing::quantized;
using testing::expect_isa_kernels_equal_reference;
using testing::random_rows;

// The 32-column types with a packed layout.
const DType kTypes[] = {DType::Q8_0, DType::Q4_0, DType::Q5_0, DType::Q4_1, DType::Q5_1, DType::IQ4_NL};

bool has_min(DType t) { return t == DType::Q4_1 || t == DType::Q5_1; }

// Raw bytes covering every value, -128 included (a hostile file may hold it), valid f16 scales
// (and mins, either sign).
Tensor random_blocks(DType t, int64_t m, int64_t k, uint32_t seed) {
  Tensor w = Tensor::empty(t, {m, k});
  std::mt19937 rng(seed);
  auto* p = static_cast<uint8_t*>(w.data());
  const size_t block = dtype_info(t).type_size;
  for (size_t i = 0; i < w.nbytes(); ++i) p[i] = static_cast<uint8_t>(rng());
  for (size_t b = 0; b < w.nbytes() / block; ++b) {  // scale in [2^-10, 2^-5)
    const uint16_t h = static_cast<uint16_t>(0x1400 + rng() % 0x1400);
    std::memcpy(p + b * block, &h, 2);
    if (has_min(t)) {
      const uint16_t mn = static_cast<uint16_t>((rng() % 2 ? 0x8000 : 0) | (0x1400 + rng() % 0x1400));
      std::memcpy(p + b * block + 2, &mn, 2);
    }
  }
  return w;
}

// Every packed layout has a kernel on each x86 SIMD ISA built here: a layout without one makes
// should_pack keep its matrices in rows there, whose row dots prefill several times slower.
TEST(OpsPacked, EveryLayoutHasX86Kernels) {
  const DType packed[] = {DType::Q8_0_R16, DType::Q4_0_R16, DType::Q5_0_R16, DType::Q4_1_R16, DType::Q5_1_R16,
                          DType::Q2_K_R16, DType::Q3_K_R16, DType::Q4_K_R16, DType::Q5_K_R16, DType::Q6_K_R16, DType::IQ4_NL_R16,
                          DType::IQ4_XS_R16, DType::F32_R16, DType::F16_R16, DType::BF16_R16};
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    if (!isa_available(isa)) continue;
    for (DType p : packed) {
      ASSERT_TRUE(is_packed_type(p)) << dtype_name(p);
      EXPECT_NE(packed_gemm_for(p, isa), nullptr) << dtype_name(p) << " " << isa_name(isa);
    }
  }
}

// Where the CPU runs AMX, the layouts whose AMX tile beat their VNNI one have an AMX form and the
// engine runs it (docs/BENCHMARKS.md: Q8_0 and Q3_K stayed on VNNI); elsewhere none has one.
TEST(OpsPacked, AmxFormsWhereTheyPay) {
  const DType with[] = {DType::Q4_0_R16, DType::Q5_0_R16, DType::Q4_1_R16, DType::Q5_1_R16, DType::IQ4_NL_R16,
                        DType::Q4_K_R16, DType::Q5_K_R16, DType::Q6_K_R16, DType::IQ4_XS_R16};
  const DType without[] = {DType::Q8_0_R16, DType::Q2_K_R16, DType::Q3_K_R16, DType::F16_R16, DType::BF16_R16};
  const bool amx = packed_amx_gemm_for(DType::Q4_K_R16) != nullptr;
  for (DType p : with) {
    EXPECT_EQ(packed_amx_gemm_for(p) != nullptr, amx) << dtype_name(p);
    if (packed_amx_active()) {
      EXPECT_EQ(packed_gemm_active(p), packed_amx_gemm_for(p)) << dtype_name(p);
    }
  }
  for (DType p : without) {
    EXPECT_EQ(packed_amx_gemm_for(p), nullptr) << dtype_name(p);
    if (!packed_avx_vnni_active()) {  // the active ISA's kernel, or the scalar one where it has none (NEON)
      const PackedGemmFn isa = packed_gemm_for(p, active_isa());
      EXPECT_EQ(packed_gemm_active(p), isa != nullptr ? isa : packed_gemm_for(p, Isa::kScalar)) << dtype_name(p);
    }
  }
}

// Where the CPU has AVX-VNNI beside AVX2, every integer layout (the 32-column ones, the K-quants,
// IQ4_XS) has a vpdpbusd form of its AVX2 kernel, and the engine runs it when AVX2 is the active
// ISA (an AVX-512 CPU keeps its own kernels); the float layouts have none. Elsewhere no layout
// has one.
TEST(OpsPacked, AvxVnniFormsWhereTheyExist) {
  const DType with[] = {DType::Q8_0_R16, DType::Q4_0_R16, DType::Q5_0_R16, DType::Q4_1_R16, DType::Q5_1_R16,
                        DType::IQ4_NL_R16, DType::Q2_K_R16, DType::Q3_K_R16, DType::Q4_K_R16, DType::Q5_K_R16,
                        DType::Q6_K_R16, DType::IQ4_XS_R16};
  const DType without[] = {DType::F32_R16, DType::F16_R16, DType::BF16_R16};
  const bool vnni = packed_avx_vnni_gemm_for(DType::Q4_0_R16) != nullptr;
  EXPECT_EQ(packed_avx_vnni_active(), vnni && active_isa() == Isa::kAvx2 &&
                                          !(std::getenv("AUTOGLM_AVX_VNNI") != nullptr &&
                                            std::string(std::getenv("AUTOGLM_AVX_VNNI")) == "0"));
  for (DType p : with) {
    EXPECT_EQ(packed_avx_vnni_gemm_for(p) != nullptr, vnni) << dtype_name(p);
    if (packed_avx_vnni_active()) {
      EXPECT_EQ(packed_gemm_active(p), packed_avx_vnni_gemm_for(p)) << dtype_name(p);
    }
  }
  for (DType p : without) EXPECT_EQ(packed_avx_vnni_gemm_for(p), nullptr) << dtype_name(p);
}

TEST(OpsPacked, PackingKeepsEveryRow) {
  for (DType t : kTypes) {
    for (int64_t k : {32, 96, 576}) {
      Tensor w = random_blocks(t, 48, k, 7);
      Tensor p = pack_matrix(w);
      ASSERT_TRUE(is_packed_type(p.dtype()));
      EXPECT_EQ(source_of_packed(p.dtype()), t);
      EXPECT_EQ(p.nbytes(), w.nbytes());  // same bytes per row as the source format
      std::vector<float> a(static_cast<size_t>(k)), b(static_cast<size_t>(k));
      for (int64_t r = 0; r < w.rows(); ++r) {
        quant::dequantize_row(t, w.row_ptr(r), a.data(), k);
        dequantize_packed_row(p, r, b.data());
        ASSERT_EQ(a, b) << dtype_name(t) << " k=" << k << " row " << r;
      }
    }
  }
}

// The extremes the kernels' int16 steps must hold without saturating (AVX2 vpmaddubsw): every
// weight at its most negative or largest value, every activation at +-127, same sign or not.
TEST(OpsPacked, IsaKernelsExactAtExtremeValues) {
  ThreadPool pool(2);
  const int64_t m = 16, k = 64, n = 18;  // tokens 1-17 fill an AMX tile and leave a tail
  for (DType t : kTypes) {
    for (uint8_t fill : {uint8_t{0x80}, uint8_t{0x7F}, uint8_t{0xFF}, uint8_t{0x00}}) {
      Tensor w = random_blocks(t, m, k, 1);
      const size_t block = dtype_info(t).type_size;
      auto* p = static_cast<uint8_t*>(w.data());
      const size_t head = has_min(t) ? 4 : 2;  // scale (and min) stay valid
      for (size_t b = 0; b < w.nbytes() / block; ++b) std::memset(p + b * block + head, fill, block - head);
      Tensor packed = pack_matrix(w);
      Tensor x = Tensor::empty(DType::F32, {n, k});
      for (int64_t i = 0; i < n * k; ++i) x.data_as<float>()[i] = (i / k) % 2 == 0 ? 1.0f : -1.0f;
      PackedActivations act;
      ASSERT_TRUE(prepare_packed_activations(x, act, pool, packed.dtype()).ok());
      expect_isa_kernels_equal_reference(packed, act, "fill " + std::to_string(int{fill}));
    }
  }
}

TEST(OpsPacked, IsaKernelsEqualReferenceBitForBit) {
  ThreadPool pool(2);
  for (DType t : kTypes) {
    const int64_t m = 32, k = 160;  // 5 blocks: the AMX kernels' four and one more
    Tensor w = pack_matrix(random_blocks(t, m, k, 3));
    for (int64_t n : {1, 3, 7, 8, 9, 17, 34}) {  // 34: two 16-token AMX tiles from token 1, one left
      Tensor x = random_rows(n, k, static_cast<uint32_t>(n));
      PackedActivations act;
      ASSERT_TRUE(prepare_packed_activations(x, act, pool, w.dtype()).ok());
      expect_isa_kernels_equal_reference(w, act, "random");
    }
  }
}

TEST(OpsPacked, MatmulMatchesRowLayoutReference) {
  ThreadPool pool(2);
  for (DType t : kTypes) {
    for (auto [n, m, k] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{{1, 16, 32}, {1, 64, 64}, {1, 512, 64}, {2, 48, 576}, {9, 64, 96}, {33, 32, 1536}}) {
      Tensor x = random_rows(n, k, 11), w = quantized(t, random_rows(m, k, 12));
      Tensor p = pack_matrix(w);
      Tensor y = Tensor::empty(DType::F32, {n, m});
      ASSERT_TRUE(matmul(x, p, y, pool).ok());
      const quant::TypeTraits* tr = quant::type_traits(t);
      std::vector<uint8_t> act(row_size(tr->vec_dot_type, k));
      for (int64_t i = 0; i < n; ++i) {
        quant::quantize_row(tr->vec_dot_type, x.data_as<float>() + i * k, act.data(), k);
        for (int64_t r = 0; r < m; ++r) {
          const float ref = tr->vec_dot(k, w.row_ptr(r), act.data());
          ASSERT_NEAR(y.data_as<float>()[i * m + r], ref, 1e-4f * (1.0f + std::fabs(ref)))
              << dtype_name(t) << " n=" << n << " m=" << m << " k=" << k << " at " << i << "," << r;
        }
      }
    }
  }
}

TEST(OpsPacked, FusedSwigluMatchesUnpacked) {
  ThreadPool pool(2);
  for (DType t : kTypes) {
    for (int64_t n : {1, 5, 40}) {
      const int64_t m = 48, k = 192;
      Tensor x = random_rows(n, k, 21);
      Tensor g = quantized(t, random_rows(m, k, 22)), u = quantized(t, random_rows(m, k, 23));
      Tensor y0 = Tensor::empty(DType::F32, {n, m}), y1 = Tensor::empty(DType::F32, {n, m});
      ASSERT_TRUE(matmul_swiglu(x, g, u, y0, pool).ok());
      ASSERT_TRUE(matmul_swiglu(x, pack_matrix(g), pack_matrix(u), y1, pool).ok());
      for (int64_t i = 0; i < n * m; ++i) {
        const float a = y0.data_as<float>()[i];
        ASSERT_NEAR(y1.data_as<float>()[i], a, 1e-3f * (1.0f + std::fabs(a))) << dtype_name(t) << " n=" << n << " at " << i;
      }
    }
  }
}

TEST(OpsPacked, PairedSwigluEqualsSeparateWeights) {
  // One packed matrix holding gate and up in pairs of row groups gives exactly the fused
  // product of the two packed matrices, fused or as matmul + swiglu_paired; the unpacked
  // fallback equals the unpacked pair.
  ThreadPool pool(2);
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q5_0, DType::Q4_1, DType::Q5_1, DType::Q4_K}) {
    for (int64_t n : {1, 3, 9, 40}) {
      const int64_t m = 48, k = 256;
      Tensor x = random_rows(n, k, 41);
      Tensor g = quantized(t, random_rows(m, k, 42)), u = quantized(t, random_rows(m, k, 43));
      Tensor both = pair_row_groups(g, u);
      Tensor sep = Tensor::empty(DType::F32, {n, m}), fused = Tensor::empty(DType::F32, {n, m}),
             unfused = Tensor::empty(DType::F32, {n, m}), plain = Tensor::empty(DType::F32, {n, m}),
             plain_pair = Tensor::empty(DType::F32, {n, m}), mid = Tensor::empty(DType::F32, {n, 2 * m});
      ASSERT_TRUE(matmul_swiglu(x, pack_matrix(g), pack_matrix(u), sep, pool).ok());
      const Tensor pair = pack_matrix(both);
      ASSERT_TRUE(matmul_swiglu_paired(x, pair, fused, pool).ok());
      ASSERT_TRUE(matmul(x, pair, mid, pool).ok());
      swiglu_paired(mid, unfused, pool);
      ASSERT_TRUE(matmul_swiglu(x, g, u, plain, pool).ok());
      ASSERT_TRUE(matmul_swiglu_paired(x, both, plain_pair, pool).ok());
      for (int64_t i = 0; i < n * m; ++i) {
        ASSERT_EQ(fused.data_as<float>()[i], sep.data_as<float>()[i]) << dtype_name(t) << " n=" << n << " at " << i;
        ASSERT_EQ(unfused.data_as<float>()[i], sep.data_as<float>()[i]) << dtype_name(t) << " n=" << n << " at " << i;
        const float a = plain.data_as<float>()[i];
        ASSERT_NEAR(plain_pair.data_as<float>()[i], a, 1e-5f * (1.0f + std::fabs(a))) << dtype_name(t) << " at " << i;
      }
    }
  }
}

TEST(OpsPacked, TiedEmbeddingLooksUpPackedRows) {
  ThreadPool pool(1);
  Tensor w = quantized(DType::Q8_0, random_rows(32, 64, 31));
  Tensor p = pack_matrix(w);
  Tensor ids = Tensor::empty(DType::I32, {3});
  ids.data_as<int32_t>()[0] = 0;
  ids.data_as<int32_t>()[1] = 17;
  ids.data_as<int32_t>()[2] = 31;
  Tensor y0 = Tensor::empty(DType::F32, {3, 64}), y1 = Tensor::empty(DType::F32, {3, 64});
  ASSERT_TRUE(embed(w, ids, y0, pool).ok());
  ASSERT_TRUE(embed(p, ids, y1, pool).ok());
  for (int64_t i = 0; i < 3 * 64; ++i) ASSERT_EQ(y0.data_as<float>()[i], y1.data_as<float>()[i]);
  ids.data_as<int32_t>()[1] = 32;
  EXPECT_FALSE(embed(p, ids, y1, pool).ok());  // out of range stays an error
}

}  // namespace
}  // namespace autoglm::cpu
