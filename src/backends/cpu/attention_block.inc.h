// The attention block kernel and the block converters, written once over a 16-lane float
// vector type V16. The including file (attention_kernels.cpp, simd/attention_avx2.cpp,
// simd/attention_avx512.cpp) defines V16 with: zero, set1, load, load_n (first n lanes, rest
// 0), store, store_n, first(n, fill) (lanes >= n replaced by fill), hmax, hsum, exp (lanes
// <= 0; a masked lane may be anything), add, mul, sub, fma(a, b, c) = a * b + c; and
// half_to_float(src, dst, n). This file is included inside the includer's namespace.
//
// Order of operations per query (fixed, so a query's result does not depend on its batch):
// scores of a 16-key chunk are four partial sums over dims i % 4, added (0+1)+(2+3), then
// scaled; the block's max updates the running max; exp weights are summed chunk by chunk;
// each output dim accumulates the block's keys in slot order.

inline void attend_block(const AttnQueries& qs, const int32_t* visible, const float* kt, int64_t kt_stride,
                         const float* v, float scale, float* scores) {
  const int32_t hd = qs.head_dim;
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  for (int32_t qi = 0; qi < qs.n; ++qi) {
    const int32_t nv = visible[qi];
    if (nv <= 0) continue;
    const float* q = qs.q + static_cast<int64_t>(qi) * hd;
    const int32_t chunks = (nv + kAttnKeyChunk - 1) / kAttnKeyChunk;
    float block_max = kNegInf;
    for (int32_t c = 0; c < chunks; ++c) {
      const float* k = kt + static_cast<int64_t>(c) * kAttnKeyChunk;
      V16 a0 = V16::zero(), a1 = V16::zero(), a2 = V16::zero(), a3 = V16::zero();
      int32_t i = 0;
      for (; i + 4 <= hd; i += 4) {
        a0 = fma(V16::set1(q[i]), V16::load(k + i * kt_stride), a0);
        a1 = fma(V16::set1(q[i + 1]), V16::load(k + (i + 1) * kt_stride), a1);
        a2 = fma(V16::set1(q[i + 2]), V16::load(k + (i + 2) * kt_stride), a2);
        a3 = fma(V16::set1(q[i + 3]), V16::load(k + (i + 3) * kt_stride), a3);
      }
      for (; i < hd; ++i) a0 = fma(V16::set1(q[i]), V16::load(k + i * kt_stride), a0);
      const V16 s = mul(add(add(a0, a1), add(a2, a3)), V16::set1(scale)).first(nv - c * kAttnKeyChunk, kNegInf);
      s.store(scores + c * kAttnKeyChunk);
      block_max = std::max(block_max, s.hmax());
    }
    float& m = qs.m[qi];
    float& l = qs.l[qi];
    float* acc = qs.acc + static_cast<int64_t>(qi) * hd;
    if (block_max > m) {
      const float corr = std::exp(m - block_max);  // exp(-inf) == 0 on the first block
      for (int32_t i = 0; i < hd; i += kAttnKeyChunk) {
        const int32_t w = std::min(kAttnKeyChunk, hd - i);
        mul(V16::load_n(acc + i, w), V16::set1(corr)).store_n(acc + i, w);
      }
      l *= corr;
      m = block_max;
    }
    const V16 mv = V16::set1(m);
    float sum = 0.0f;
    for (int32_t c = 0; c < chunks; ++c) {
      const V16 p = sub(V16::load(scores + c * kAttnKeyChunk), mv).exp().first(nv - c * kAttnKeyChunk, 0.0f);
      p.store(scores + c * kAttnKeyChunk);
      sum += p.hsum();
    }
    l += sum;
    if (hd % kAttnKeyChunk == 0 && hd <= kAttnMaxRegDims) {
      // Keys outer, dims inner, the accumulators in registers: hd / 16 independent fma chains
      // instead of one chain per 16 dims (latency-bound). Each lane still sums keys in slot order.
      constexpr int kMaxChunks = kAttnMaxRegDims / kAttnKeyChunk;
      const int32_t nc = hd / kAttnKeyChunk;
      V16 a[kMaxChunks];
      for (int32_t c = 0; c < nc; ++c) a[c] = V16::load(acc + c * kAttnKeyChunk);
      for (int32_t j = 0; j < nv; ++j) {
        const V16 p = V16::set1(scores[j]);
        const float* vj = v + static_cast<int64_t>(j) * hd;
        for (int32_t c = 0; c < nc; ++c) a[c] = fma(p, V16::load(vj + c * kAttnKeyChunk), a[c]);
      }
      for (int32_t c = 0; c < nc; ++c) a[c].store(acc + c * kAttnKeyChunk);
      continue;
    }
    for (int32_t i = 0; i < hd; i += kAttnKeyChunk) {
      const int32_t w = std::min(kAttnKeyChunk, hd - i);
      V16 a = V16::load_n(acc + i, w);
      if (w == kAttnKeyChunk) {
        for (int32_t j = 0; j < nv; ++j) a = fma(V16::set1(scores[j]), V16::load(v + static_cast<int64_t>(j) * hd + i), a);
      } else {
        for (int32_t j = 0; j < nv; ++j) a = fma(V16::set1(scores[j]), V16::load_n(v + static_cast<int64_t>(j) * hd + i, w), a);
      }
      a.store_n(acc + i, w);
    }
  }
}

inline void dequant_cols(const int8_t* q, int64_t q_stride, const float* scale, const float* zero, int32_t rows,
                         int32_t cols, float* dst, int64_t dst_stride) {
  for (int32_t i = 0; i < rows; ++i) {
    const int8_t* src = q + i * q_stride;
    float* d = dst + i * dst_stride;
    if (zero != nullptr) {
      for (int32_t j = 0; j < cols; ++j) d[j] = scale[j] * static_cast<float>(src[j]) + zero[j];
    } else {
      for (int32_t j = 0; j < cols; ++j) d[j] = scale[j] * static_cast<float>(src[j]);
    }
  }
}

inline void dequant_rows(const int8_t* q, const float* scale, int32_t rows, int32_t cols, float* dst) {
  for (int32_t i = 0; i < rows; ++i) {
    const int8_t* src = q + static_cast<int64_t>(i) * cols;
    float* d = dst + static_cast<int64_t>(i) * cols;
    const float s = scale[i];
    for (int32_t j = 0; j < cols; ++j) d[j] = s * static_cast<float>(src[j]);
  }
}

inline const AttnKernels& kernels() {
  static const AttnKernels k = {&attend_block, &half_to_float, &dequant_cols, &dequant_rows};
  return k;
}
