// CPU backend kernels against naive double-precision references written here.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backends/cpu/kernels.h"
#include "kv/kv_cache.h"
#include "kv/sequence_kv.h"
#include "quant/quant.h"

namespace autoglm::cpu {
namespace {

Tensor random_f32(std::vector<int64_t> shape, uint32_t seed, float scale = 1.0f) {
  Tensor t = Tensor::empty(DType::F32, std::move(shape));
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  for (int64_t i = 0; i < t.numel(); ++i) t.data_as<float>()[i] = d(rng);
  return t;
}

Tensor quantize(const Tensor& f, DType t) {
  Tensor q = Tensor::empty(t, f.shape());
  for (int64_t r = 0; r < f.rows(); ++r) quant::quantize_row(t, f.data_as<float>() + r * f.cols(), q.row_ptr(r), f.cols());
  return q;
}

TEST(CpuKernels, DotF32MatchesNaiveOnOddLengths) {
  for (int64_t n : {0, 1, 7, 8, 31, 33, 64, 100, 1027}) {
    Tensor a = random_f32({n + 1}, 1), b = random_f32({n + 1}, 2);
    double ref = 0;
    for (int64_t i = 0; i < n; ++i) ref += double(a.data_as<float>()[i]) * b.data_as<float>()[i];
    EXPECT_NEAR(dot_f32(a.data_as<float>(), b.data_as<float>(), n), ref, 1e-4 * (1 + std::sqrt(double(n)))) << n;
  }
}

TEST(CpuKernels, MatMulF32MatchesNaive) {
  ThreadPool pool(2);
  for (auto [n, k, m] : std::vector<std::array<int64_t, 3>>{{1, 64, 172}, {5, 172, 64}, {3, 33, 7}, {17, 96, 130}}) {
    Tensor x = random_f32({n, k}, 3), w = random_f32({m, k}, 4);
    Tensor y = Tensor::empty(DType::F32, {n, m});
    ASSERT_TRUE(matmul(x, w, y, pool).ok());
    for (int64_t t = 0; t < n; ++t) {
      for (int64_t r = 0; r < m; ++r) {
        double ref = 0;
        for (int64_t i = 0; i < k; ++i) ref += double(x.data_as<float>()[t * k + i]) * w.data_as<float>()[r * k + i];
        ASSERT_NEAR(y.data_as<float>()[t * m + r], ref, 1e-3) << n << " " << k << " " << m;
      }
    }
  }
}

// Quantized weights: the kernel must equal the reference path exactly (quantize the
// activation to vec_dot_type, reference vec_dot per row) and approximate the float product.
TEST(CpuKernels, MatMulQuantizedEqualsReferencePath) {
  ThreadPool pool(2);
  for (DType t : {DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                  DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    const quant::TypeTraits* tr = quant::type_traits(t);
    ASSERT_NE(tr, nullptr);
    const int64_t n = 3, k = 512, m = 37;
    Tensor x = random_f32({n, k}, 5), wf = random_f32({m, k}, 6);
    Tensor w = quantize(wf, t);
    Tensor y = Tensor::empty(DType::F32, {n, m});
    ASSERT_TRUE(matmul(x, w, y, pool).ok()) << dtype_name(t);
    std::vector<uint8_t> act(row_size(tr->vec_dot_type, k));
    std::vector<float> wrow(static_cast<size_t>(k));
    for (int64_t i = 0; i < n; ++i) {
      const float* xr = x.data_as<float>() + i * k;
      if (tr->vec_dot_type == DType::F32) {
        std::memcpy(act.data(), xr, act.size());
      } else {
        quant::quantize_row(tr->vec_dot_type, xr, act.data(), k);
      }
      for (int64_t r = 0; r < m; ++r) {
        const float ref = quant::vec_dot(t, k, w.row_ptr(r), act.data());
        const float got = y.data_as<float>()[i * m + r];
        // SIMD kernels sum the (exact) per-block integer dots in float, in another order.
        ASSERT_NEAR(got, ref, 1e-3f * (1 + std::fabs(ref))) << dtype_name(t);
        quant::dequantize_row(t, w.row_ptr(r), wrow.data(), k);
        double exact = 0;
        for (int64_t j = 0; j < k; ++j) exact += double(xr[j]) * wrow[static_cast<size_t>(j)];
        // Activation quantization error only (the weights are the dequantized ones).
        ASSERT_NEAR(got, exact, 0.03 * std::sqrt(double(k))) << dtype_name(t);
      }
    }
  }
}

TEST(CpuKernels, RmsNormMatchesNaive) {
  ThreadPool pool(2);
  Tensor x = random_f32({4, 100}, 7), w = random_f32({100}, 8);
  Tensor y = Tensor::empty(DType::F32, {4, 100});
  rms_norm(x, &w, 1e-5f, y, pool);
  for (int64_t r = 0; r < 4; ++r) {
    double ss = 0;
    for (int64_t i = 0; i < 100; ++i) ss += double(x.data_as<float>()[r * 100 + i]) * x.data_as<float>()[r * 100 + i];
    const double inv = 1.0 / std::sqrt(ss / 100 + 1e-5);
    for (int64_t i = 0; i < 100; ++i) {
      EXPECT_NEAR(y.data_as<float>()[r * 100 + i], x.data_as<float>()[r * 100 + i] * inv * w.data_as<float>()[i], 1e-5);
    }
  }
}

TEST(CpuKernels, RopeBothStyles) {
  ThreadPool pool(1);
  const int32_t heads = 2, hd = 8;
  Tensor x = random_f32({3, heads * hd}, 9);
  Tensor pos = Tensor::empty(DType::I32, {3});
  for (int i = 0; i < 3; ++i) pos.data_as<int32_t>()[i] = 5 * i + 1;
  for (auto style : {graph::RopeStyle::kAdjacent, graph::RopeStyle::kNeox}) {
    graph::Attrs a;
    a.n_head = heads;
    a.head_dim = hd;
    a.n_rot = hd;
    a.rope_freq_base = 10000.0f;
    a.rope_style = style;
    Tensor y = Tensor::empty(DType::F32, {3, heads * hd});
    rope(x, pos, a, y, pool);
    for (int t = 0; t < 3; ++t) {
      for (int h = 0; h < heads; ++h) {
        for (int i = 0; i < hd / 2; ++i) {
          const int i0 = style == graph::RopeStyle::kAdjacent ? 2 * i : i;
          const int i1 = style == graph::RopeStyle::kAdjacent ? 2 * i + 1 : i + hd / 2;
          const double th = pos.data_as<int32_t>()[t] * std::pow(10000.0, -2.0 * i / hd);
          const float* xr = x.data_as<float>() + t * heads * hd + h * hd;
          const float* yr = y.data_as<float>() + t * heads * hd + h * hd;
          EXPECT_NEAR(yr[i0], xr[i0] * std::cos(th) - xr[i1] * std::sin(th), 1e-4);
          EXPECT_NEAR(yr[i1], xr[i0] * std::sin(th) + xr[i1] * std::cos(th), 1e-4);
        }
      }
    }
  }
}

// Two sequences in one batch, grouped-query heads, F32 and F16 caches: each query attends
// only to its own sequence's positions up to its own.
TEST(CpuKernels, PagedAttentionMatchesNaive) {
  ThreadPool pool(2);
  const int32_t nh = 4, nkv = 2, hd = 16;
  for (DType kvt : {DType::F32, DType::F16}) {
    kv::KVCacheConfig c;
    c.n_layers = 1;
    c.n_kv_heads = nkv;
    c.head_dim = hd;
    c.block_size = 4;
    c.n_blocks = 16;
    c.dtype = kvt;
    auto cache = kv::KVCache::create(c).value();
    kv::SequenceKV s0, s1;
    // Batch: seq0 positions 0..6, seq1 positions 0..4, interleaved.
    std::vector<int32_t> tok_seq, tok_pos;
    for (int i = 0; i < 7; ++i) { tok_seq.push_back(0); tok_pos.push_back(i); }
    for (int i = 0; i < 5; ++i) { tok_seq.push_back(1); tok_pos.push_back(i); }
    ASSERT_TRUE(s0.reserve(*cache, 7).ok());
    ASSERT_TRUE(s1.reserve(*cache, 5).ok());
    const int64_t n = static_cast<int64_t>(tok_seq.size());
    Tensor q = random_f32({n, nh * hd}, 10), k = random_f32({n, nkv * hd}, 11), v = random_f32({n, nkv * hd}, 12);
    Tensor y = Tensor::empty(DType::F32, {n, nh * hd});
    graph::StepContext step;
    step.cache = cache.get();
    step.seqs = {&s0, &s1};
    step.token_seq = tok_seq;
    step.positions = tok_pos;
    graph::Attrs a;
    a.n_head = nh;
    a.n_head_kv = nkv;
    a.head_dim = hd;
    a.layer = 0;
    ASSERT_TRUE(attention(q, k, v, a, step, y, pool).ok());
    const double tol = kvt == DType::F32 ? 1e-5 : 5e-3;
    for (int64_t t = 0; t < n; ++t) {
      for (int h = 0; h < nh; ++h) {
        const int kvh = h / (nh / nkv);
        std::vector<double> sc;
        std::vector<int64_t> rows;
        for (int64_t j = 0; j < n; ++j) {
          if (tok_seq[size_t(j)] != tok_seq[size_t(t)] || tok_pos[size_t(j)] > tok_pos[size_t(t)]) continue;
          double s = 0;
          for (int i = 0; i < hd; ++i) s += double(q.data_as<float>()[t * nh * hd + h * hd + i]) * k.data_as<float>()[j * nkv * hd + kvh * hd + i];
          sc.push_back(s / std::sqrt(double(hd)));
          rows.push_back(j);
        }
        double mx = -1e30, sum = 0;
        for (double s : sc) mx = std::max(mx, s);
        for (double& s : sc) sum += (s = std::exp(s - mx));
        for (int i = 0; i < hd; ++i) {
          double o = 0;
          for (size_t r = 0; r < rows.size(); ++r) o += sc[r] / sum * v.data_as<float>()[rows[r] * nkv * hd + kvh * hd + i];
          ASSERT_NEAR(y.data_as<float>()[t * nh * hd + h * hd + i], o, tol) << dtype_name(kvt) << " t=" << t << " h=" << h;
        }
      }
    }
  }
}

TEST(CpuKernels, EmbedRejectsOutOfRangeIds) {
  ThreadPool pool(1);
  Tensor table = random_f32({10, 4}, 13);
  Tensor ids = Tensor::empty(DType::I32, {2});
  ids.data_as<int32_t>()[0] = 3;
  ids.data_as<int32_t>()[1] = 10;
  Tensor y = Tensor::empty(DType::F32, {2, 4});
  EXPECT_EQ(embed(table, ids, y, pool).code(), StatusCode::kOutOfRange);
  ids.data_as<int32_t>()[1] = -1;
  EXPECT_EQ(embed(table, ids, y, pool).code(), StatusCode::kOutOfRange);
  ids.data_as<int32_t>()[1] = 9;
  ASSERT_TRUE(embed(table, ids, y, pool).ok());
  EXPECT_EQ(y.data_as<float>()[4], table.data_as<float>()[36]);
}

}  // namespace
}  // namespace autoglm::cpu
