// The attention span kernel and the block converters, written once over a 16-lane float
// vector type V16. The including file (attention_kernels.cpp, simd/attention_avx2.cpp,
// simd/attention_avx512.cpp) defines V16 with: zero, set1, load, load_n (first n lanes, rest
// 0), store, store_n, first(n, fill) (lanes >= n replaced by fill), hmax, hsum, exp (lanes
// <= 0; a masked lane may be anything), add, mul, sub, fma(a, b, c) = a * b + c; and
// half_to_float(src, dst, n). This file is included inside the includer's namespace.
//
// Order of operations per query (fixed, so a query's result does not depend on its batch):
// spans in order (attention_kernels.h); in each, scores of a 16-key chunk are four partial sums
// over dims i % 4, added (0+1)+(2+3), then scaled; the span's max raises the running max, and
// the accumulator and sum are multiplied by the vector exp of (old max - new max); the exp
// weights are summed lane by lane over the chunks, then across the lanes, and added to the
// sum; each output dim accumulates the span's keys in slot order.

// Part `part` of `parts` of the next span's prefetch (AttnQueries::prefetch_k/v): its share of
// those blocks' cache lines.
inline void prefetch_share(const AttnQueries& qs, int32_t part, int32_t parts) {
  const int32_t per_block = qs.prefetch_bytes / 64;  // 0 for blocks under a cache line: none asked
  if (qs.prefetch_blocks <= 0 || parts <= 0 || per_block <= 0) return;
  const int32_t lines = per_block * qs.prefetch_blocks;
  const int32_t lo = lines * part / parts, hi = lines * (part + 1) / parts;
  int32_t b = 0, line = lo;  // (no division per line: this runs in the scores' inner loop)
  while (line >= per_block) line -= per_block, ++b;
  for (int32_t i = lo; i < hi; ++i) {
    __builtin_prefetch(static_cast<const char*>(qs.prefetch_k[b]) + 64 * line);
    __builtin_prefetch(static_cast<const char*>(qs.prefetch_v[b]) + 64 * line);
    if (++line == per_block) line = 0, ++b;
  }
}

// Keys [16 c, 16 c + 16) of the span, transposed: load(i * kt_stride) is dim i of the 16 keys
// as floats (F16 converted, I8 dequantized with the 16 slots' parameters as dequant_cols does).
// A chunk never straddles two blocks: several blocks only where block_size is a multiple of 16.
template <typename T>
struct KeyChunk {
  const T* k;
  V16 load(int64_t at) const { return V16::load(k + at); }
};
template <>
struct KeyChunk<int8_t> {
  const int8_t* k;
  V16 scale, zero;
  V16 load(int64_t at) const { return fma(scale, V16::load(k + at), zero); }
};
template <typename T>
inline KeyChunk<T> key_chunk(const AttnSpan<T>& span, int32_t c) {
  int32_t b = 0, first = c * kAttnKeyChunk;
  while (first >= span.block_size) first -= span.block_size, ++b;  // at most kAttnSpanBlocks - 1 steps
  if constexpr (std::is_same_v<T, int8_t>) {
    return {span.kt[b] + first, V16::load(span.k_scale[b] + first), V16::load(span.k_zero[b] + first)};
  } else {
    return {span.kt[b] + first};
  }
}

// One key's value row: load(i) is dims [i, i + 16) as floats (I8: times the slot's scale, as
// dequant_rows does).
template <typename T>
struct ValueRow {
  const T* v;
  V16 load(int32_t i) const { return V16::load(v + i); }
};
template <>
struct ValueRow<int8_t> {
  const int8_t* v;
  V16 scale;
  V16 load(int32_t i) const { return mul(scale, V16::load(v + i)); }
};

// The floats between two queries' rows of span scores: the span's keys, padded.
template <typename T>
inline int64_t scores_stride(const AttnSpan<T>& span) {
  return span.blocks * span.kt_stride;
}

// f(key, row) for the span's keys [from, to) in order, row the key's values (a ValueRow).
template <typename T, class F>
inline void for_value_rows(const AttnSpan<T>& span, int32_t head_dim, int32_t from, int32_t to, F&& f) {
  const int32_t bs = span.block_size;
  for (int32_t b = 0, start = 0; start < to; ++b, start += bs) {
    const int32_t lo = std::max(from, start), hi = std::min(to, start + bs);
    const T* row = span.v[b] + static_cast<int64_t>(lo - start) * head_dim;
    for (int32_t k = lo; k < hi; ++k, row += head_dim) {
      if constexpr (std::is_same_v<T, int8_t>) {
        f(k, ValueRow<int8_t>{row, V16::set1(span.v_scale[b][k - start])});
      } else {
        f(k, ValueRow<T>{row});
      }
    }
  }
}

// exp(x) as the ISA's vector exp gives it, for a lone query's rescale factor: attend_group
// computes its queries' factors as lanes of one vector exp, and lanes do not interact, so both
// give the same bits.
inline float exp_lane(float x) {
  float r[kAttnKeyChunk];
  V16::set1(x).exp().store(r);
  return r[0];
}

// The exp weights of one query's span scores (scaled, masked to -inf past nv) in place, given
// its running max m (already raised for this span); returns their sum.
inline float softmax_weights(int32_t nv, float m, float* scores) {
  const int32_t chunks = (nv + kAttnKeyChunk - 1) / kAttnKeyChunk;
  const V16 mv = V16::set1(m);
  V16 sum = V16::zero();
  for (int32_t c = 0; c < chunks; ++c) {
    const V16 p = sub(V16::load(scores + c * kAttnKeyChunk), mv).exp().first(nv - c * kAttnKeyChunk, 0.0f);
    p.store(scores + c * kAttnKeyChunk);
    sum = add(sum, p);  // lane by lane, one sum across the lanes at the end
  }
  return sum.hsum();
}

// The softmax update of one query from its span scores: new running max, accumulator and sum
// rescaled by exp(old max - new max), exp weights in place, their sum added to l.
inline void softmax_update(const AttnQueries& qs, int32_t qi, int32_t nv, float block_max, float* scores) {
  const int32_t hd = qs.head_dim;
  float& m = qs.m[qi];
  float& l = qs.l[qi];
  float* acc = qs.acc + static_cast<int64_t>(qi) * hd;
  if (block_max > m) {
    const float corr = exp_lane(m - block_max);  // ~0 on the first block (m = -inf), where acc and l are 0
    for (int32_t i = 0; i < hd; i += kAttnKeyChunk) {
      const int32_t w = std::min(kAttnKeyChunk, hd - i);
      mul(V16::load_n(acc + i, w), V16::set1(corr)).store_n(acc + i, w);
    }
    l *= corr;
    m = block_max;
  }
  l += softmax_weights(nv, m, scores);
}

// One query against the span, alone. T: float, or uint16_t / int8_t (F16 / I8 read in place;
// then only the register path below, which the caller guarantees: head_dim % 16 == 0, <=
// kAttnMaxRegDims).
template <typename T>
inline void attend_one(const AttnQueries& qs, int32_t qi, int32_t nv, const AttnSpan<T>& span, float scale,
                       float* scores) {
  const int64_t kt_stride = span.kt_stride;
  const int32_t hd = qs.head_dim;
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  const float* q = qs.q + static_cast<int64_t>(qi) * hd;
  const int32_t chunks = (nv + kAttnKeyChunk - 1) / kAttnKeyChunk;
  float block_max = kNegInf;
  for (int32_t c = 0; c < chunks; ++c) {
    const KeyChunk<T> k = key_chunk(span, c);
    V16 a0 = V16::zero(), a1 = V16::zero(), a2 = V16::zero(), a3 = V16::zero();
    int32_t i = 0;
    for (; i + 4 <= hd; i += 4) {
      prefetch_share(qs, c * (hd / 4) + i / 4, chunks * (hd / 4));
      a0 = fma(V16::set1(q[i]), k.load(i * kt_stride), a0);
      a1 = fma(V16::set1(q[i + 1]), k.load((i + 1) * kt_stride), a1);
      a2 = fma(V16::set1(q[i + 2]), k.load((i + 2) * kt_stride), a2);
      a3 = fma(V16::set1(q[i + 3]), k.load((i + 3) * kt_stride), a3);
    }
    for (; i < hd; ++i) a0 = fma(V16::set1(q[i]), k.load(i * kt_stride), a0);
    const V16 s = mul(add(add(a0, a1), add(a2, a3)), V16::set1(scale)).first(nv - c * kAttnKeyChunk, kNegInf);
    s.store(scores + c * kAttnKeyChunk);
    block_max = std::max(block_max, s.hmax());
  }
  softmax_update(qs, qi, nv, block_max, scores);
  float* acc = qs.acc + static_cast<int64_t>(qi) * hd;
  if (hd % kAttnKeyChunk == 0 && hd <= kAttnMaxRegDims) {
    // Keys outer, dims inner, the accumulators in registers: hd / 16 independent fma chains
    // instead of one chain per 16 dims (latency-bound). Each lane still sums keys in slot order.
    constexpr int kMaxChunks = kAttnMaxRegDims / kAttnKeyChunk;
    const int32_t nc = hd / kAttnKeyChunk;
    V16 a[kMaxChunks];
    for (int32_t c = 0; c < nc; ++c) a[c] = V16::load(acc + c * kAttnKeyChunk);
    for_value_rows(span, hd, 0, nv, [&](int32_t j, const ValueRow<T>& vj) {
      const V16 p = V16::set1(scores[j]);
      for (int32_t c = 0; c < nc; ++c) a[c] = fma(p, vj.load(c * kAttnKeyChunk), a[c]);
    });
    for (int32_t c = 0; c < nc; ++c) a[c].store(acc + c * kAttnKeyChunk);
    return;
  }
  if constexpr (std::is_same_v<T, float>) {
    for (int32_t i = 0; i < hd; i += kAttnKeyChunk) {
      const int32_t w = std::min(kAttnKeyChunk, hd - i);
      V16 a = V16::load_n(acc + i, w);
      for_value_rows(span, hd, 0, nv, [&](int32_t j, const ValueRow<float>& vj) {
        a = fma(V16::set1(scores[j]), w == kAttnKeyChunk ? vj.load(i) : V16::load_n(vj.v + i, w), a);
      });
      a.store_n(acc + i, w);
    }
  }
}

// f(std::integral_constant<int, 0>{}), ..., f(<N - 1>): a loop whose index must be a constant.
template <int N, class F>
inline void for_each_const(F&& f) {
  [&]<int... I>(std::integer_sequence<int, I...>) { (f(std::integral_constant<int, I>{}), ...); }(
      std::make_integer_sequence<int, N>{});
}

// QB queries [q0, q0 + QB) with head_dim 16 * NC, all with nv > 0, against the span together:
// each key / value chunk is loaded once for all of them and their fma chains interleave, so
// the FMA units stay busy where one query's chains wait on latency (decode: a token's GQA
// group). Every query's operations and their order are attend_one's: the same bits.
template <int QB, int NC, typename T>
inline void attend_group(const AttnQueries& qs, int32_t q0, const int32_t* visible, const AttnSpan<T>& span,
                         float scale, float* scores) {
  const int64_t kt_stride = span.kt_stride, ss = scores_stride(span);
  constexpr int32_t hd = NC * kAttnKeyChunk;
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  int32_t nv[QB];
  int32_t max_nv = 0, min_nv = std::numeric_limits<int32_t>::max();
  const float* q[QB];
  float block_max[QB];
  for (int j = 0; j < QB; ++j) {
    nv[j] = visible[q0 + j];
    max_nv = std::max(max_nv, nv[j]);
    min_nv = std::min(min_nv, nv[j]);
    q[j] = qs.q + static_cast<int64_t>(q0 + j) * hd;
    block_max[j] = kNegInf;
  }
  const int32_t chunks = (max_nv + kAttnKeyChunk - 1) / kAttnKeyChunk;
  for (int32_t c = 0; c < chunks; ++c) {
    const KeyChunk<T> k = key_chunk(span, c);
    V16 a[QB][4];
    for (int j = 0; j < QB; ++j) a[j][0] = a[j][1] = a[j][2] = a[j][3] = V16::zero();
    for (int32_t i = 0; i < hd; i += 4) {
      prefetch_share(qs, c * (hd / 4) + i / 4, chunks * (hd / 4));
      const V16 k0 = k.load(i * kt_stride), k1 = k.load((i + 1) * kt_stride);
      const V16 k2 = k.load((i + 2) * kt_stride), k3 = k.load((i + 3) * kt_stride);
      for (int j = 0; j < QB; ++j) {
        a[j][0] = fma(V16::set1(q[j][i]), k0, a[j][0]);
        a[j][1] = fma(V16::set1(q[j][i + 1]), k1, a[j][1]);
        a[j][2] = fma(V16::set1(q[j][i + 2]), k2, a[j][2]);
        a[j][3] = fma(V16::set1(q[j][i + 3]), k3, a[j][3]);
      }
    }
    for (int j = 0; j < QB; ++j) {
      if (c * kAttnKeyChunk >= nv[j]) continue;  // past this query's keys: attend_one stops here
      const V16 s = mul(add(add(a[j][0], a[j][1]), add(a[j][2], a[j][3])), V16::set1(scale)).first(nv[j] - c * kAttnKeyChunk, kNegInf);
      s.store(scores + j * ss + c * kAttnKeyChunk);
      block_max[j] = std::max(block_max[j], s.hmax());
    }
  }
  // The softmax: the rescale factors of the queries whose max grew as lanes of one vector exp
  // (none if no max grew), each folded into its accumulators as they are loaded.
  float corr[kAttnKeyChunk];
  bool grew = false;
  for (int j = 0; j < QB; ++j) {
    float& m = qs.m[q0 + j];
    const bool up = block_max[j] > m;
    corr[j] = up ? m - block_max[j] : 0.0f;
    if (up) m = block_max[j];
    grew = grew || up;
  }
  if (grew) V16::load_n(corr, QB).exp().store(corr);  // exp(0) is exactly 1: no change where m held
  for (int j = 0; j < QB; ++j) {
    float& l = qs.l[q0 + j];
    if (grew) l *= corr[j];
    l += softmax_weights(nv[j], qs.m[q0 + j], scores + j * ss);
  }
  // (After the softmax, whose exp needs registers of its own.)
  V16 a[QB][NC];
  for (int j = 0; j < QB; ++j) {
    const float* acc = qs.acc + static_cast<int64_t>(q0 + j) * hd;
    for (int c = 0; c < NC; ++c) a[j][c] = V16::load(acc + c * kAttnKeyChunk);
    if (!grew) continue;
    const V16 cj = V16::set1(corr[j]);
    for (int c = 0; c < NC; ++c) a[j][c] = mul(a[j][c], cj);
  }
  for_value_rows(span, hd, 0, min_nv, [&](int32_t key, const ValueRow<T>& vj) {
    V16 vc[NC];
    for (int c = 0; c < NC; ++c) vc[c] = vj.load(c * kAttnKeyChunk);
    for (int j = 0; j < QB; ++j) {
      const V16 p = V16::set1(scores[j * ss + key]);
      for (int c = 0; c < NC; ++c) a[j][c] = fma(p, vc[c], a[j][c]);
    }
  });
  // Keys only some of the queries see (prefill's diagonal): a loop per query, its index a
  // constant so that the accumulators stay in registers.
  for_each_const<QB>([&](auto jc) {
    constexpr int j = decltype(jc)::value;
    for_value_rows(span, hd, min_nv, nv[j], [&](int32_t kk, const ValueRow<T>& vj) {
      const V16 p = V16::set1(scores[j * ss + kk]);
      for (int c = 0; c < NC; ++c) a[j][c] = fma(p, vj.load(c * kAttnKeyChunk), a[j][c]);
    });
  });
  for (int j = 0; j < QB; ++j) {
    for (int c = 0; c < NC; ++c) a[j][c].store(qs.acc + static_cast<int64_t>(q0 + j) * hd + c * kAttnKeyChunk);
  }
}

// Runs of up to QB consecutive queries that see keys in this span go through attend_group;
// lone ones through attend_one. QB * 4 (scores) and QB * NC (outputs) accumulators must fit in
// the ISA's registers: kAttnV16Registers, set by the includer.
template <int NC, typename T>
inline int32_t attend_groups(const AttnQueries& qs, int32_t qi, const int32_t* visible, const AttnSpan<T>& span,
                             float scale, float* scores) {
  constexpr int kQB = std::min(kAttnQueryBatch, std::min(kAttnV16Registers / 4 - 2, kAttnV16Registers / NC - 2));
  int32_t run = 0;
  while (run < kQB && qi + run < qs.n && visible[qi + run] > 0) ++run;
  int32_t done = 0;
  for_each_const<(kQB >= 2 ? kQB + 1 : 0)>([&](auto qb) {
    constexpr int kRun = decltype(qb)::value;
    if constexpr (kRun >= 2) {
      if (run == kRun) {
        attend_group<kRun, NC, T>(qs, qi, visible, span, scale, scores);
        done = kRun;
      }
    }
  });
  return done;
}

template <typename T>
inline void attend_span_of(const AttnQueries& qs, const int32_t* visible, const AttnSpan<T>& span, float scale,
                           float* scores) {
  const int32_t hd = qs.head_dim;
  // The next span is asked for during the first query group's scores only (prefill tiles make
  // several passes over this span; one request each is enough).
  AttnQueries rest = qs;
  rest.prefetch_blocks = 0;
  bool asked = qs.prefetch_blocks == 0;
  for (int32_t qi = 0; qi < qs.n;) {
    const AttnQueries& cur = asked ? rest : qs;
    int32_t done = 0;
    if (hd == 4 * kAttnKeyChunk) done = attend_groups<4, T>(cur, qi, visible, span, scale, scores);
    if (hd == 8 * kAttnKeyChunk) done = attend_groups<8, T>(cur, qi, visible, span, scale, scores);
    if (done > 0) {
      qi += done;
      asked = true;
      continue;
    }
    if (visible[qi] > 0) {
      attend_one<T>(cur, qi, visible[qi], span, scale, scores);
      asked = true;
    }
    ++qi;
  }
  if (!asked) prefetch_share(qs, 0, 1);  // no query saw this span
}

inline void dequant_cols(const int8_t* q, int64_t q_stride, const float* scale, const float* zero, int32_t rows,
                         int32_t cols, float* dst, int64_t dst_stride) {
  for (int32_t i = 0; i < rows; ++i) {
    const int8_t* src = q + i * q_stride;
    float* d = dst + i * dst_stride;
    if (zero != nullptr) {  // one rounding, as span_i8's keys (KeyChunk)
      for (int32_t j = 0; j < cols; ++j) d[j] = std::fma(scale[j], static_cast<float>(src[j]), zero[j]);
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

// One query's output from its segments' softmax states (attention.cpp's key segments): with M
// the largest m_s of the segments that saw a key (l_s > 0), w_s = exp(m_s - M),
// out = (sum_s w_s acc_s) * (1 / sum_s w_s l_s), segments added in order. w holds n floats of
// scratch (rounded up to 16).
inline void merge_segments(int32_t n, const float* const* acc, const float* m, const float* l, int32_t head_dim,
                           float* w, float* out) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int32_t s = 0; s < n; ++s) {
    if (l[s] > 0.0f) mx = std::max(mx, m[s]);
  }
  for (int32_t s = 0; s < n; s += kAttnKeyChunk) {
    const int32_t c = std::min(kAttnKeyChunk, n - s);
    sub(V16::load_n(m + s, c), V16::set1(mx)).exp().store(w + s);
  }
  float sum = 0.0f;
  for (int32_t s = 0; s < n; ++s) {
    if (l[s] > 0.0f) sum += w[s] * l[s];
  }
  const V16 inv = V16::set1(1.0f / sum);
  for (int32_t i = 0; i < head_dim; i += kAttnKeyChunk) {
    const int32_t c = std::min(kAttnKeyChunk, head_dim - i);
    V16 a = V16::zero();
    for (int32_t s = 0; s < n; ++s) {
      if (l[s] > 0.0f) a = fma(V16::set1(w[s]), V16::load_n(acc[s] + i, c), a);
    }
    mul(a, inv).store_n(out + i, c);
  }
}

inline const AttnKernels& kernels() {
  static const AttnKernels k = {&attend_span_of<float>, &attend_span_of<uint16_t>, &attend_span_of<int8_t>,
                                &half_to_float, &dequant_cols, &dequant_rows, &merge_segments};
  return k;
}
