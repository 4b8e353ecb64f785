// Causal attention over the paged KV cache, FlashAttention style: one pass over the cached
// positions with an online softmax, so the score matrix is never materialised.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "core/check.h"

namespace autoglm::cpu {

Status attention(const Tensor& q, const Tensor& k, const Tensor& v, const graph::Attrs& a,
                 graph::StepContext& step, Tensor& y, ThreadPool& pool) {
  const int64_t n_tok = q.rows();
  const int32_t hd = a.head_dim, nh = a.n_head, nkv = a.n_head_kv;
  AG_CHECK(nkv > 0 && nh % nkv == 0 && step.cache != nullptr);
  AG_CHECK(static_cast<int64_t>(step.token_seq.size()) == n_tok && static_cast<int64_t>(step.positions.size()) == n_tok);
  kv::KVCache& cache = *step.cache;
  const auto& cc = cache.config();
  AG_CHECK(cc.n_kv_heads == nkv && cc.head_dim == hd);

  // 1. Store this step's keys and values at their positions.
  for (int64_t t = 0; t < n_tok; ++t) {
    const kv::SequenceKV& seq = *step.seqs[static_cast<size_t>(step.token_seq[static_cast<size_t>(t)])];
    const int32_t pos = step.positions[static_cast<size_t>(t)];
    if (pos < 0 || pos >= seq.capacity(cache)) {
      return Internal("attention: position " + std::to_string(pos) + " has no KV block reserved");
    }
    auto [block, slot] = seq.locate(cache, pos);
    cache.store(a.layer, block, slot, k.data_as<float>() + t * k.cols(), v.data_as<float>() + t * v.cols());
  }

  // 2. Each (token, head) attends over positions [0, pos] of its own sequence.
  const float scale = a.attn_scale > 0 ? a.attn_scale : 1.0f / std::sqrt(static_cast<float>(hd));
  const int32_t group = nh / nkv;
  const bool f32 = cc.dtype == DType::F32;
  pool.parallel_for(n_tok * nh, [&](int64_t b, int64_t e) {
    std::vector<float> acc(static_cast<size_t>(hd)), kbuf(static_cast<size_t>(hd)), vbuf(static_cast<size_t>(hd));
    for (int64_t job = b; job < e; ++job) {
      const int64_t t = job / nh;
      const int32_t h = static_cast<int32_t>(job % nh), kvh = h / group;
      const kv::SequenceKV& seq = *step.seqs[static_cast<size_t>(step.token_seq[static_cast<size_t>(t)])];
      const int32_t pos = step.positions[static_cast<size_t>(t)];
      const float* qh = q.data_as<float>() + t * q.cols() + static_cast<int64_t>(h) * hd;
      float m = -std::numeric_limits<float>::infinity(), l = 0.0f;
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int32_t p = 0; p <= pos; ++p) {
        auto [block, slot] = seq.locate(cache, p);
        const float* kr;
        const float* vr;
        if (f32) {
          kr = cache.k_row_f32(a.layer, block, slot) + static_cast<int64_t>(kvh) * hd;
          vr = cache.v_row_f32(a.layer, block, slot) + static_cast<int64_t>(kvh) * hd;
        } else {
          cache.load_k(a.layer, block, slot, kvh, kbuf.data());
          cache.load_v(a.layer, block, slot, kvh, vbuf.data());
          kr = kbuf.data();
          vr = vbuf.data();
        }
        const float s = dot_f32(qh, kr, hd) * scale;
        if (s > m) {
          const float corr = std::exp(m - s);  // exp(-inf) == 0 on the first position
          for (int32_t i = 0; i < hd; ++i) acc[static_cast<size_t>(i)] *= corr;
          l *= corr;
          m = s;
        }
        const float pw = std::exp(s - m);
        l += pw;
        for (int32_t i = 0; i < hd; ++i) acc[static_cast<size_t>(i)] += pw * vr[i];
      }
      float* out = y.data_as<float>() + t * y.cols() + static_cast<int64_t>(h) * hd;
      const float inv = 1.0f / l;
      for (int32_t i = 0; i < hd; ++i) out[i] = acc[static_cast<size_t>(i)] * inv;
    }
  }, grain_for(2 * static_cast<int64_t>(hd) * (step.positions.empty() ? 1 : step.positions.back() + 1)));
  return Status::OK();
}

}  // namespace autoglm::cpu
