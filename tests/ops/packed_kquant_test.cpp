// Q2_K_R16, Q3_K_R16, Q4_K_R16, Q5_K_R16, Q6_K_R16 and IQ4_XS_R16 (backends/cpu/packed_q2k.h,
// packed_q3k.h, packed_q4k.h, packed_q6k.h, packed_iq4xs.h), the 256-column layouts: packing loses nothing, every
// ISA's kernel equals the scalar packed reference bit for bit, and packed matmul / matmul_swiglu /
// matmul_cat / tied embedding lookups agree with the row layout, on odd token counts around the
// tiles.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <tuple>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/packed.h"
#include "backends/cpu/packed_iq4xs.h"
#include "backends/cpu/packed_q2k.h"
#include "backends/cpu/packed_q3k.h"
#include "backends/cpu/packed_q4k.h"
#include "backends/cpu/packed_q6k.h"
#include "quant/blocks.h"
#include "ops_test_util.h"
#include "packed_test_util.h"
#include "quant/quant.h"

namespace autoglm::cpu {
namespace {

using testing::expect_isa_kernels_equal_reference;
using testing::random_rows;

// The 256-column types with a packed layout.
const DType kTypes[] = {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_XS};

// Each one's packed type, bytes per row and super-block (as the source's), and bytes per packed
// super-block of 16 rows.
struct PackedShape {
  DType packed;
  size_t row_bytes, sb_bytes;
};
PackedShape packed_shape(DType t) {
  switch (t) {
    case DType::Q2_K: return {DType::Q2_K_R16, 84, kQ2KR16Bytes};
    case DType::Q3_K: return {DType::Q3_K_R16, 110, kQ3KR16Bytes};
    case DType::Q4_K: return {DType::Q4_K_R16, 144, kQ4KR16Bytes};
    case DType::Q5_K: return {DType::Q5_K_R16, 176, kQ5KR16Bytes};
    case DType::Q6_K: return {DType::Q6_K_R16, 210, kQ6KR16Bytes};
    default: return {DType::IQ4_XS_R16, 136, kIQ4XSR16Bytes};
  }
}

// Raw bytes: every nibble and 6-bit value, every scale and min (Q4_K's 63, Q6_K's -128..127),
// valid f16 d (and dmin).
Tensor random_blocks(DType t, int64_t m, int64_t k, uint32_t seed) {
  Tensor w = Tensor::empty(t, {m, k});
  std::mt19937 rng(seed);
  auto* p = static_cast<uint8_t*>(w.data());
  for (size_t i = 0; i < w.nbytes(); ++i) p[i] = static_cast<uint8_t>(rng());
  const auto scale = [&] { return static_cast<uint16_t>(0x1400 + rng() % 0x1400); };  // in [2^-10, 2^-5)
  if (t == DType::Q4_K) {
    auto* b = static_cast<quant::block_q4_K*>(w.data());
    for (size_t i = 0; i < w.nbytes() / sizeof(quant::block_q4_K); ++i) {
      b[i].d = scale();
      b[i].dmin = scale();
    }
  } else if (t == DType::Q5_K) {
    auto* b = static_cast<quant::block_q5_K*>(w.data());
    for (size_t i = 0; i < w.nbytes() / sizeof(quant::block_q5_K); ++i) {
      b[i].d = scale();
      b[i].dmin = scale();
    }
  } else if (t == DType::Q3_K) {
    auto* b = static_cast<quant::block_q3_K*>(w.data());
    for (size_t i = 0; i < w.nbytes() / sizeof(quant::block_q3_K); ++i) b[i].d = scale();
  } else if (t == DType::Q2_K) {
    auto* b = static_cast<quant::block_q2_K*>(w.data());
    for (size_t i = 0; i < w.nbytes() / sizeof(quant::block_q2_K); ++i) {
      b[i].d = scale();
      b[i].dmin = scale();
    }
  } else if (t == DType::IQ4_XS) {
    auto* b = static_cast<quant::block_iq4_xs*>(w.data());
    for (size_t i = 0; i < w.nbytes() / sizeof(quant::block_iq4_xs); ++i) b[i].d = scale();
  } else {
    auto* b = static_cast<quant::block_q6_K*>(w.data());
    for (size_t i = 0; i < w.nbytes() / sizeof(quant::block_q6_K); ++i) b[i].d = scale();
  }
  return w;
}

TEST(OpsPackedKQuant, ScalesRoundTripThroughTheir192Bytes) {
  std::mt19937 rng(3);
  for (int round = 0; round < 50; ++round) {
    uint8_t u[256], back[256];
    for (int i = 0; i < 256; ++i) u[i] = static_cast<uint8_t>(round == 0 ? 63 : rng() % 64);
    std::vector<uint8_t> sb(kQ4KR16Bytes, 0xEE);
    pack_q4_K_r16_scales(u, sb.data());
    unpack_q4_K_r16_scales(sb.data(), back);
    ASSERT_EQ(std::memcmp(u, back, 256), 0) << round;
    // Only bytes [64, 256) are written: d, dmin and the nibbles are untouched.
    for (size_t i = 0; i < sb.size(); ++i) {
      if (i < kQ4KR16ScalesOff || i >= kQ4KR16QOff) {
        ASSERT_EQ(sb[i], 0xEE) << i;
      }
    }
  }
}

TEST(OpsPackedKQuant, PackingKeepsEveryRow) {
  for (DType t : kTypes) {
    const PackedShape shape = packed_shape(t);
    for (int64_t k : {256, 768}) {
      Tensor w = random_blocks(t, 48, k, 7);
      Tensor p = pack_matrix(w);
      ASSERT_EQ(p.dtype(), shape.packed);
      EXPECT_EQ(source_of_packed(p.dtype()), t);
      EXPECT_EQ(p.nbytes(), static_cast<size_t>(48 * k / 256) * shape.row_bytes);
      EXPECT_EQ(packed_group_bytes(p.dtype(), k), static_cast<size_t>(k / 256) * shape.sb_bytes);
      std::vector<float> a(static_cast<size_t>(k)), b(static_cast<size_t>(k));
      for (int64_t r = 0; r < w.rows(); ++r) {
        quant::dequantize_row(t, w.row_ptr(r), a.data(), k);
        dequantize_packed_row(p, r, b.data());
        ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0)
            << dtype_name(t) << " k=" << k << " row " << r;
      }
    }
  }
}

// The bounds the kernels' integer sums rely on (AVX2 vpmaddubsw's int16, int32 for Q6_K, the
// AVX-512 chains' int16 for Q2_K / Q3_K / Q4_K / Q6_K): every weight at its largest, then (`low`)
// the Q3_K / Q6_K weights at their most negative (-4, -32: the widest offset dots), every scale at
// its extreme (Q4_K / Q5_K 63, Q6_K -128, IQ4_XS -32 with every weight -127), activations at +-127
// (the AMX kernels' exact f32 sums too).
TEST(OpsPackedKQuant, IsaKernelsExactAtExtremeValues) {
  ThreadPool pool(2);
  const int64_t m = 16, k = 256, n = 18;  // tokens 1-17 fill an AMX tile and leave a tail
  for (int low = 0; low < 2; ++low)
  for (DType t : kTypes) {
    if (low && t != DType::Q3_K && t != DType::Q6_K) continue;
    const int fill = low ? 0x00 : 0xFF;
    Tensor w = random_blocks(t, m, k, 1);
    for (int64_t r = 0; r < m; ++r) {
      if (t == DType::Q4_K) {
        auto& b = static_cast<quant::block_q4_K*>(w.data())[r];
        std::memset(b.scales, 0xFF, sizeof b.scales);
        std::memset(b.qs, 0xFF, sizeof b.qs);
      } else if (t == DType::Q5_K) {
        auto& b = static_cast<quant::block_q5_K*>(w.data())[r];
        std::memset(b.scales, 0xFF, sizeof b.scales);
        std::memset(b.qs, 0xFF, sizeof b.qs);
        std::memset(b.qh, 0xFF, sizeof b.qh);
      } else if (t == DType::Q3_K) {  // every value 3 (bits 11, hmask set), scales 0 -> -32
        auto& b = static_cast<quant::block_q3_K*>(w.data())[r];
        std::memset(b.scales, 0x00, sizeof b.scales);
        std::memset(b.qs, fill, sizeof b.qs);
        std::memset(b.hmask, fill, sizeof b.hmask);
      } else if (t == DType::Q2_K) {  // every value 3, scales and mins 15
        auto& b = static_cast<quant::block_q2_K*>(w.data())[r];
        std::memset(b.scales, 0xFF, sizeof b.scales);
        std::memset(b.qs, 0xFF, sizeof b.qs);
      } else if (t == DType::IQ4_XS) {
        auto& b = static_cast<quant::block_iq4_xs*>(w.data())[r];
        b.scales_h = 0;
        std::memset(b.scales_l, 0x00, sizeof b.scales_l);
        std::memset(b.qs, 0x00, sizeof b.qs);
      } else {
        auto& b = static_cast<quant::block_q6_K*>(w.data())[r];
        std::memset(b.scales, 0x80, sizeof b.scales);
        std::memset(b.ql, fill, sizeof b.ql);
        std::memset(b.qh, fill, sizeof b.qh);
      }
    }
    Tensor packed = pack_matrix(w);
    Tensor x = Tensor::empty(DType::F32, {n, k});
    for (int64_t i = 0; i < n * k; ++i) x.data_as<float>()[i] = (i / k) % 2 == 0 ? 1.0f : -1.0f;
    PackedActivations act;
    ASSERT_TRUE(prepare_packed_activations(x, act, pool, packed.dtype()).ok());
    expect_isa_kernels_equal_reference(packed, act, low ? "extreme values, lowest weights" : "extreme values");
  }
}

TEST(OpsPackedKQuant, IsaKernelsEqualReferenceBitForBit) {
  ThreadPool pool(2);
  const int64_t m = 32, k = 512;
  for (DType t : kTypes) {
    Tensor w = pack_matrix(random_blocks(t, m, k, 3));
    int checked = 0;
    for (int64_t n : {1, 3, 7, 8, 9, 17, 34}) {  // 34: two 16-token AMX tiles from token 1, one left
      Tensor x = random_rows(n, k, static_cast<uint32_t>(n));
      PackedActivations act;
      ASSERT_TRUE(prepare_packed_activations(x, act, pool, w.dtype()).ok());
      ASSERT_EQ(act.nb, k / 256);
      checked += expect_isa_kernels_equal_reference(w, act, "random");
    }
    EXPECT_GE(checked, 6);  // the scalar reference at least
  }
}

// The row layout's reference: quant's vec_dot of w's type against its Q8_K activations.
void expect_matches_rows(const Tensor& x, const Tensor& w, const float* y, int64_t ldy, const char* what) {
  const int64_t n = x.rows(), k = x.cols(), m = w.rows();
  const quant::TypeTraits* tr = quant::type_traits(w.dtype());
  std::vector<uint8_t> act(row_size(tr->vec_dot_type, k));
  for (int64_t i = 0; i < n; ++i) {
    quant::quantize_row(tr->vec_dot_type, x.data_as<float>() + i * k, act.data(), k);
    for (int64_t r = 0; r < m; ++r) {
      const float ref = tr->vec_dot(k, w.row_ptr(r), act.data());
      ASSERT_NEAR(y[i * ldy + r], ref, 1e-4f * (1.0f + std::fabs(ref)))
          << what << " " << dtype_name(w.dtype()) << " n=" << n << " m=" << m << " k=" << k << " at " << i << "," << r;
    }
  }
}

TEST(OpsPackedKQuant, MatmulMatchesRowLayoutReference) {
  ThreadPool pool(2);
  for (DType t : kTypes) {
    for (auto [n, m, k] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{{1, 16, 256}, {2, 48, 768}, {9, 64, 256}, {33, 32, 1536}}) {
      Tensor x = random_rows(n, k, 11), w = testing::quantized(t, random_rows(m, k, 12));
      Tensor y = Tensor::empty(DType::F32, {n, m});
      ASSERT_TRUE(matmul(x, pack_matrix(w), y, pool).ok());
      expect_matches_rows(x, w, y.data_as<float>(), m, "matmul");
    }
  }
}

TEST(OpsPackedKQuant, MatmulCatMatchesRowLayoutReference) {
  ThreadPool pool(2);
  for (DType t : kTypes) {
    for (int64_t n : {1, 7, 19}) {
      const int64_t k = 512;
      Tensor x = random_rows(n, k, 41);
      Tensor a = testing::quantized(t, random_rows(32, k, 42)), b = testing::quantized(t, random_rows(16, k, 43));
      Tensor pa = pack_matrix(a), pb = pack_matrix(b);
      Tensor y = Tensor::empty(DType::F32, {n, 48});
      ASSERT_TRUE(matmul_cat(x, {&pa, &pb}, y, pool).ok());
      expect_matches_rows(x, a, y.data_as<float>(), 48, "matmul_cat a");
      expect_matches_rows(x, b, y.data_as<float>() + 32, 48, "matmul_cat b");
    }
  }
}

TEST(OpsPackedKQuant, FusedSwigluMatchesUnpacked) {
  ThreadPool pool(2);
  for (DType t : kTypes) {
    for (int64_t n : {1, 5, 40}) {
      const int64_t m = 48, k = 512;
      Tensor x = random_rows(n, k, 21);
      Tensor g = testing::quantized(t, random_rows(m, k, 22)), u = testing::quantized(t, random_rows(m, k, 23));
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

TEST(OpsPackedKQuant, TiedEmbeddingLooksUpPackedRows) {
  ThreadPool pool(1);
  for (DType t : kTypes) {
    Tensor w = testing::quantized(t, random_rows(32, 256, 31));
    Tensor p = pack_matrix(w);
    Tensor ids = Tensor::empty(DType::I32, {3});
    ids.data_as<int32_t>()[0] = 0;
    ids.data_as<int32_t>()[1] = 17;
    ids.data_as<int32_t>()[2] = 31;
    Tensor y0 = Tensor::empty(DType::F32, {3, 256}), y1 = Tensor::empty(DType::F32, {3, 256});
    ASSERT_TRUE(embed(w, ids, y0, pool).ok());
    ASSERT_TRUE(embed(p, ids, y1, pool).ok());
    for (int64_t i = 0; i < 3 * 256; ++i) ASSERT_EQ(y0.data_as<float>()[i], y1.data_as<float>()[i]);
    ids.data_as<int32_t>()[1] = 32;
    EXPECT_FALSE(embed(p, ids, y1, pool).ok());  // out of range stays an error
  }
}

}  // namespace
}  // namespace autoglm::cpu
