// Paged attention (src/backends/cpu/attention.cpp) on every available ISA against a plain
// double-precision softmax attention: odd head sizes, GQA groups, positions crossing blocks,
// several sequences per step (prefill chunks and decode tokens mixed), f32/f16/int8 caches,
// contexts long enough to be cut into several key segments.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "backends/cpu/attention_kernels.h"
#include "backends/cpu/kernels.h"
#include "kv/kv_cache.h"
#include "kv/sequence_kv.h"
#include "quant/half.h"

namespace autoglm::cpu {
namespace {

Tensor random_tensor(int64_t rows, int64_t cols, std::mt19937& rng, float scale) {
  Tensor t = Tensor::empty(DType::F32, {rows, cols});
  std::uniform_real_distribution<float> d(-scale, scale);
  for (int64_t i = 0; i < rows * cols; ++i) t.data_as<float>()[i] = d(rng);
  return t;
}

struct Shape {
  int32_t head_dim, n_kv, group, block_size;
};

// One engine-like run: sequences fed over several steps; every output is checked against the
// reference over what the cache holds (tight) and over the exact inputs (loose for int8).
class AttentionRun {
 public:
  AttentionRun(Shape s, DType t, const AttnKernels& kern) : s_(s), kern_(kern) {
    kv::KVCacheConfig c;
    c.n_layers = 2;
    c.n_kv_heads = s.n_kv;
    c.head_dim = s.head_dim;
    c.block_size = s.block_size;
    c.n_blocks = 256;
    c.dtype = t;
    cache_ = kv::KVCache::create(c).value();
  }
  ~AttentionRun() {
    for (auto& sq : seqs_) sq.release(*cache_);
  }

  // chunks[i] = number of new tokens of sequence i in this step (0: absent); sequences'
  // tokens are interleaved round-robin so runs of one sequence are short and scattered. Every
  // `check_every`-th token and the last are checked (the reference is slow over long chunks).
  void step(const std::vector<int32_t>& chunks, std::mt19937& rng, const std::string& what, int64_t check_every = 1) {
    const int32_t nh = s_.n_kv * s_.group, hd = s_.head_dim;
    graph::StepContext st;
    st.cache = cache_.get();
    std::vector<int32_t> left = chunks;
    for (size_t i = 0; i < chunks.size(); ++i) {
      st.seqs.push_back(&seqs_[i]);
      ASSERT_TRUE(seqs_[i].reserve(*cache_, seqs_[i].n_cached() + chunks[i]).ok());
    }
    std::vector<int32_t> next(chunks.size());
    for (size_t i = 0; i < chunks.size(); ++i) next[i] = seqs_[i].n_cached();
    for (bool more = true; more;) {
      more = false;
      for (size_t i = 0; i < chunks.size(); ++i) {
        const int32_t take = std::min(left[i], 3);  // runs of up to 3 tokens per sequence
        for (int32_t j = 0; j < take; ++j) {
          st.token_seq.push_back(static_cast<int32_t>(i));
          st.positions.push_back(next[i]++);
        }
        left[i] -= take;
        more = more || left[i] > 0;
      }
    }
    const int64_t n = static_cast<int64_t>(st.positions.size());
    Tensor q = random_tensor(n, int64_t{nh} * hd, rng, 1.5f);
    Tensor k = random_tensor(n, int64_t{s_.n_kv} * hd, rng, 1.5f);
    Tensor v = random_tensor(n, int64_t{s_.n_kv} * hd, rng, 1.0f);
    Tensor y = Tensor::empty(DType::F32, {n, int64_t{nh} * hd});
    graph::Attrs a;
    a.n_head = nh;
    a.n_head_kv = s_.n_kv;
    a.head_dim = hd;
    a.layer = 1;
    ThreadPool pool(2);
    ASSERT_TRUE(attention_with(kern_, q, k, v, a, st, y, pool).ok()) << what;
    for (int64_t t = 0; t < n; ++t) {
      auto& hist = exact_[static_cast<size_t>(st.token_seq[size_t(t)])];
      const size_t pos = static_cast<size_t>(st.positions[size_t(t)]);
      if (hist.size() <= pos) hist.resize(pos + 1);
      hist[pos].assign(k.data_as<float>() + t * k.cols(), k.data_as<float>() + (t + 1) * k.cols());
      hist[pos].insert(hist[pos].end(), v.data_as<float>() + t * v.cols(), v.data_as<float>() + (t + 1) * v.cols());
    }
    for (size_t i = 0; i < chunks.size(); ++i) seqs_[i].set_n_cached(next[i]);
    const bool lossy = cache_->config().dtype != DType::F32;
    const double loose = cache_->config().dtype == DType::I8 ? 0.06 : 5e-3;
    for (int64_t t = 0; t < n; ++t) {
      if (t % check_every != 0 && t != n - 1) continue;
      const size_t si = static_cast<size_t>(st.token_seq[size_t(t)]);
      const int32_t pos = st.positions[size_t(t)];
      for (int32_t h = 0; h < nh; ++h) {
        const int32_t kvh = h / s_.group;
        const float* qh = q.data_as<float>() + t * q.cols() + int64_t{h} * hd;
        const std::vector<double> held = reference(si, pos, kvh, qh, true);
        const float* out = y.data_as<float>() + t * y.cols() + int64_t{h} * hd;
        for (int32_t i = 0; i < hd; ++i) {
          ASSERT_NEAR(out[i], held[size_t(i)], 2e-5) << what << " t=" << t << " h=" << h << " i=" << i;
        }
        if (lossy) {
          const std::vector<double> exact = reference(si, pos, kvh, qh, false);
          for (int32_t i = 0; i < hd; ++i) ASSERT_NEAR(out[i], exact[size_t(i)], loose) << what << " (exact inputs)";
        }
      }
    }
  }

 private:
  // softmax(q.K^T / sqrt(hd)) V over positions [0, pos] in double, with K/V as the cache
  // holds them (from_cache) or as they were given.
  std::vector<double> reference(size_t si, int32_t pos, int32_t kvh, const float* qh, bool from_cache) const {
    const int32_t hd = s_.head_dim;
    std::vector<float> kr(static_cast<size_t>(hd)), vr(static_cast<size_t>(hd));
    std::vector<double> scores, out(size_t(hd), 0.0);
    std::vector<std::vector<float>> vs;
    double mx = -1e300;
    for (int32_t p = 0; p <= pos; ++p) {
      if (from_cache) {
        auto [block, slot] = seqs_[si].locate(*cache_, p);
        cache_->load_k(1, block, slot, kvh, kr.data());
        cache_->load_v(1, block, slot, kvh, vr.data());
      } else {
        const std::vector<float>& row = exact_[si][size_t(p)];
        std::copy(row.begin() + kvh * hd, row.begin() + (kvh + 1) * hd, kr.begin());
        const size_t voff = size_t(s_.n_kv) * size_t(hd) + size_t(kvh) * size_t(hd);
        std::copy(row.begin() + long(voff), row.begin() + long(voff) + hd, vr.begin());
      }
      double sc = 0;
      for (int32_t i = 0; i < hd; ++i) sc += double(qh[i]) * kr[size_t(i)];
      scores.push_back(sc / std::sqrt(double(hd)));
      mx = std::max(mx, scores.back());
      vs.push_back(vr);
    }
    double sum = 0;
    for (double& sc : scores) sum += (sc = std::exp(sc - mx));
    for (size_t p = 0; p < scores.size(); ++p) {
      for (int32_t i = 0; i < hd; ++i) out[size_t(i)] += scores[p] / sum * vs[p][size_t(i)];
    }
    return out;
  }

  Shape s_;
  const AttnKernels& kern_;
  std::unique_ptr<kv::KVCache> cache_;
  std::vector<kv::SequenceKV> seqs_ = std::vector<kv::SequenceKV>(3);
  std::vector<std::vector<std::vector<float>>> exact_ = std::vector<std::vector<std::vector<float>>>(3);
};

std::vector<Isa> available_isas() {
  std::vector<Isa> r;
  for (int i = 0; i < kNumIsas; ++i) {
    if (isa_available(static_cast<Isa>(i))) r.push_back(static_cast<Isa>(i));
  }
  return r;
}

TEST(PagedAttention, MatchesReferenceOnEveryIsaShapeAndCacheType) {
  const std::vector<Shape> shapes = {{8, 4, 2, 16}, {64, 2, 3, 16}, {80, 1, 7, 16}, {128, 2, 1, 16},
                                     {64, 3, 4, 5},  {8, 1, 3, 7},   {80, 2, 2, 32}};
  for (Isa isa : available_isas()) {
    for (const Shape& s : shapes) {
      for (DType t : {DType::F32, DType::F16, DType::I8}) {
        const std::string what = std::string(isa_name(isa)) + " hd=" + std::to_string(s.head_dim) + " group=" +
                                 std::to_string(s.group) + " bs=" + std::to_string(s.block_size) + " " + dtype_name(t);
        std::mt19937 rng(static_cast<uint32_t>(s.head_dim * 131 + s.group * 7 + s.block_size));
        AttentionRun run(s, t, attn_kernels(isa));
        // Step 1: prefill of three sequences (lengths crossing one and several blocks).
        run.step({21, 5, 37}, rng, what + " step1");
        // Step 2: decode for two sequences, a chunk crossing a block boundary for the third.
        run.step({1, 14, 1}, rng, what + " step2");
        // Step 3: decode only.
        run.step({1, 1, 1}, rng, what + " step3");
        // Steps 4-5: long chunks, then decode, past several segments of keys (attention.cpp's
        // kSegmentKeys, where the kv heads do not divide among the 2 threads), whose softmax
        // states are merged.
        run.step({530, 0, 0}, rng, what + " step4", 41);
        run.step({1, 1, 1}, rng, what + " step5");
        if (HasFatalFailure()) return;
      }
    }
  }
}

// A token's output must not depend on what else is in the batch: a prompt run as one step,
// one token per step, and interleaved with another sequence give bit-identical rows.
TEST(PagedAttention, BatchCompositionDoesNotChangeResults) {
  // 3 kv heads on 2 threads and 600 positions: several of attention.cpp's key segments.
  const int32_t hd = 64, nkv = 3, group = 2, nh = nkv * group, n = 600;
  for (DType t : {DType::F32, DType::F16, DType::I8}) {
    std::mt19937 rng(5);
    Tensor q = random_tensor(n, nh * hd, rng, 1.5f), k = random_tensor(n, nkv * hd, rng, 1.5f);
    Tensor v = random_tensor(n, nkv * hd, rng, 1.0f), other = random_tensor(n, nh * hd, rng, 1.0f);
    graph::Attrs a;
    a.n_head = nh;
    a.n_head_kv = nkv;
    a.head_dim = hd;
    a.layer = 0;
    kv::KVCacheConfig c;
    c.n_layers = 1;
    c.n_kv_heads = nkv;
    c.head_dim = hd;
    c.n_blocks = 96;
    c.dtype = t;
    ThreadPool pool(2);
    auto run = [&](int mode) {
      auto cache = kv::KVCache::create(c).value();
      kv::SequenceKV s0, s1;
      EXPECT_TRUE(s0.reserve(*cache, n).ok());
      EXPECT_TRUE(s1.reserve(*cache, n).ok());
      Tensor y = Tensor::empty(DType::F32, {n, nh * hd});
      auto rows = [](const Tensor& x, int64_t r0, int64_t r1) {
        Tensor r = Tensor::empty(DType::F32, {r1 - r0, x.cols()});
        std::memcpy(r.data_as<float>(), x.data_as<float>() + r0 * x.cols(), size_t((r1 - r0) * x.cols()) * sizeof(float));
        return r;
      };
      const int64_t step_len = mode == 0 ? n : 1;
      for (int64_t t0 = 0; t0 < n; t0 += step_len) {
        graph::StepContext st;
        st.cache = cache.get();
        st.seqs = {&s0, &s1};
        Tensor qs = rows(q, t0, t0 + step_len), ks = rows(k, t0, t0 + step_len), vs = rows(v, t0, t0 + step_len);
        for (int64_t i = 0; i < step_len; ++i) {
          st.token_seq.push_back(0);
          st.positions.push_back(static_cast<int32_t>(t0 + i));
        }
        if (mode == 2) {  // the other sequence's token first in the batch
          auto cat = [&](const Tensor& extra, const Tensor& x) {
            Tensor r = Tensor::empty(DType::F32, {2, x.cols()});
            std::memcpy(r.data_as<float>(), extra.data_as<float>() + t0 * extra.cols(), size_t(x.cols()) * sizeof(float));
            std::memcpy(r.data_as<float>() + x.cols(), x.data_as<float>(), size_t(x.cols()) * sizeof(float));
            return r;
          };
          qs = cat(other, qs);
          ks = cat(other, ks);
          vs = cat(other, vs);
          st.token_seq.insert(st.token_seq.begin(), 1);
          st.positions.insert(st.positions.begin(), static_cast<int32_t>(t0));
        }
        Tensor ys = Tensor::empty(DType::F32, {qs.rows(), nh * hd});
        EXPECT_TRUE(attention(qs, ks, vs, a, st, ys, pool).ok());
        const int64_t off = mode == 2 ? 1 : 0;
        std::memcpy(y.data_as<float>() + t0 * y.cols(), ys.data_as<float>() + off * ys.cols(),
                    size_t(step_len * y.cols()) * sizeof(float));
      }
      s0.release(*cache);
      s1.release(*cache);
      return std::vector<float>(y.data_as<float>(), y.data_as<float>() + n * nh * hd);
    };
    const std::vector<float> batched = run(0), single = run(1), mixed = run(2);
    EXPECT_EQ(batched, single) << dtype_name(t);
    EXPECT_EQ(batched, mixed) << dtype_name(t);
  }
}

// The F16 and I8 span kernels read keys and values in place; they must give the bits of
// converting the blocks to f32 first (half_to_float, dequant_cols / dequant_rows) and running the
// f32 kernel, on every ISA, for lone queries and groups, over spans of one block and of several.
template <typename T>
void expect_in_place_equals_converted() {
  for (Isa isa : available_isas()) {
    const AttnKernels& kern = attn_kernels(isa);
    ASSERT_NE(kern.span_f16, nullptr) << isa_name(isa);
    ASSERT_NE(kern.span_i8, nullptr) << isa_name(isa);
    for (int32_t hd : {64, 128}) {
      for (int32_t nb : {1, 2, kAttnSpanBlocks}) {
        for (int32_t nq : {1, 2, 3, 4, 5, 6, 7, 13}) {
          std::mt19937 rng(static_cast<uint32_t>(hd * 100 + nb * 10 + nq));
          std::normal_distribution<float> nd(0.0f, 1.0f);
          std::uniform_int_distribution<int> byte(-127, 127);
          const int32_t bs = kAttnSpanKeys / kAttnSpanBlocks, keys = nb * bs;
          std::vector<T> kq(size_t(nb) * hd * bs), vq(size_t(nb) * bs * hd);
          // I8: the cache's per-slot parameters (key scale and zero, value scale).
          std::vector<float> k_scale(size_t(nb) * bs), k_zero(size_t(nb) * bs), v_scale(size_t(nb) * bs);
          for (size_t i = 0; i < k_scale.size(); ++i) {
            k_scale[i] = std::abs(nd(rng)) / 64.0f;
            k_zero[i] = nd(rng);
            v_scale[i] = std::abs(nd(rng)) / 64.0f;
          }
          for (auto* blk : {&kq, &vq}) {
            for (auto& x : *blk) {
              if constexpr (std::is_same_v<T, int8_t>) {
                x = static_cast<int8_t>(byte(rng));
              } else {
                x = quant::fp32_to_fp16(nd(rng));
              }
            }
          }
          std::vector<float> kf(kq.size()), vf(vq.size());
          for (int32_t b = 0; b < nb; ++b) {
            const size_t o = size_t(b) * hd * bs, so = size_t(b) * bs;
            if constexpr (std::is_same_v<T, int8_t>) {
              kern.dequant_cols(kq.data() + o, bs, k_scale.data() + so, k_zero.data() + so, hd, bs, kf.data() + o, bs);
              kern.dequant_rows(vq.data() + o, v_scale.data() + so, bs, hd, vf.data() + o);
            } else {
              kern.half_to_float(kq.data() + o, kf.data() + o, int64_t(hd) * bs);
              kern.half_to_float(vq.data() + o, vf.data() + o, int64_t(hd) * bs);
            }
          }
          std::vector<float> q(size_t(nq) * hd);
          for (auto& x : q) x = nd(rng);
          std::vector<int32_t> visible(static_cast<size_t>(nq));
          for (int32_t i = 0; i < nq; ++i) visible[size_t(i)] = (i * 7) % (keys + 1);  // 0 (skipped) up to all
          AttnSpan<T> sq;
          AttnSpan<float> sf;
          sq.blocks = sf.blocks = nb;
          sq.block_size = sf.block_size = bs;
          sq.kt_stride = sf.kt_stride = bs;
          for (int32_t b = 0; b < nb; ++b) {
            sq.kt[b] = kq.data() + size_t(b) * hd * bs;
            sq.v[b] = vq.data() + size_t(b) * bs * hd;
            sq.k_scale[b] = k_scale.data() + size_t(b) * bs;
            sq.k_zero[b] = k_zero.data() + size_t(b) * bs;
            sq.v_scale[b] = v_scale.data() + size_t(b) * bs;
            sf.kt[b] = kf.data() + size_t(b) * hd * bs;
            sf.v[b] = vf.data() + size_t(b) * bs * hd;
          }
          auto run = [&](bool in_place) {
            std::vector<float> m(size_t(nq), 0.5f), l(size_t(nq), 2.0f), acc(size_t(nq) * hd, 0.25f);
            std::vector<float> scores(size_t(kAttnQueryBatch) * keys);
            AttnQueries qs;
            qs.n = nq;
            qs.head_dim = hd;
            qs.q = q.data();
            qs.m = m.data();
            qs.l = l.data();
            qs.acc = acc.data();
            if (!in_place) {
              kern.span(qs, visible.data(), sf, 0.125f, scores.data());
            } else if constexpr (std::is_same_v<T, int8_t>) {
              kern.span_i8(qs, visible.data(), sq, 0.125f, scores.data());
            } else {
              kern.span_f16(qs, visible.data(), sq, 0.125f, scores.data());
            }
            acc.insert(acc.end(), m.begin(), m.end());
            acc.insert(acc.end(), l.begin(), l.end());
            return acc;
          };
          const std::vector<float> a = run(true), b = run(false);
          ASSERT_EQ(a.size(), b.size());
          EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)))
              << isa_name(isa) << " hd=" << hd << " blocks=" << nb << " nq=" << nq;
        }
      }
    }
  }
}

TEST(PagedAttention, F16InPlaceEqualsConvertedBlocks) { expect_in_place_equals_converted<uint16_t>(); }
TEST(PagedAttention, I8InPlaceEqualsConvertedBlocks) { expect_in_place_equals_converted<int8_t>(); }

TEST(PagedAttention, PositionWithoutBlockIsAnError) {
  kv::KVCacheConfig c;
  c.n_layers = 1;
  c.n_kv_heads = 1;
  c.head_dim = 8;
  c.block_size = 4;
  c.n_blocks = 2;
  auto cache = kv::KVCache::create(c).value();
  kv::SequenceKV s;
  ASSERT_TRUE(s.reserve(*cache, 4).ok());
  graph::StepContext st;
  st.cache = cache.get();
  st.seqs = {&s};
  st.token_seq = {0};
  st.positions = {4};  // block 1 not reserved
  std::mt19937 rng(1);
  Tensor q = random_tensor(1, 8, rng, 1.0f), k = random_tensor(1, 8, rng, 1.0f), v = random_tensor(1, 8, rng, 1.0f);
  Tensor y = Tensor::empty(DType::F32, {1, 8});
  graph::Attrs a;
  a.n_head = 1;
  a.n_head_kv = 1;
  a.head_dim = 8;
  a.layer = 0;
  ThreadPool pool(1);
  EXPECT_EQ(attention(q, k, v, a, st, y, pool).code(), StatusCode::kInternal);
  s.release(*cache);
}

}  // namespace
}  // namespace autoglm::cpu
