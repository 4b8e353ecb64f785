// Inner kernels of paged attention (attention.cpp drives them): a span of keys/values of one
// kv head (a few cache blocks) against a set of queries, each query keeping its own
// online-softmax state, and the converters that turn an F16 / I8 cache block into f32 once for
// all those queries.
// One implementation (attention_block.inc.h) is compiled per ISA: portable, AVX2, AVX-512, NEON.
//
// Every query's arithmetic depends only on its own row, its visible keys and the span
// boundaries, never on which other queries share the call, so batching does not change results.
#pragma once

#include <cstdint>

#include "backends/cpu/kernels.h"

namespace autoglm::cpu {

// Keys are scored in chunks of this many slots (one AVX-512 register, two AVX2 ones).
inline constexpr int32_t kAttnKeyChunk = 16;
// Head sizes up to this keep their V accumulators in registers (8 x 16 lanes).
inline constexpr int32_t kAttnMaxRegDims = 128;
// Queries one pass over a span may take together (attend_group; the ISA's registers may allow
// fewer).
inline constexpr int kAttnQueryBatch = 6;
// Keys of a span: each query's softmax takes its max and rescales its sums once per span, so
// the per-span work (a reduction, a rescale, the output accumulators' load and store) is spread
// over this many keys however small the cache's blocks. Spans start at multiples of it, so a
// key's span never depends on the batch. A cache block longer than this is a span of its own.
inline constexpr int32_t kAttnSpanKeys = 64;
// Blocks of a span at most (blocks of 16 slots).
inline constexpr int32_t kAttnSpanBlocks = kAttnSpanKeys / kAttnKeyChunk;

// Online-softmax state of n queries of one kv head.
struct AttnQueries {
  int32_t n = 0;
  int32_t head_dim = 0;
  const float* q = nullptr;  // [n][head_dim]
  float* m = nullptr;        // [n] running max of the scaled scores (start at -inf)
  float* l = nullptr;        // [n] running sum of exp(score - m) (start at 0)
  float* acc = nullptr;      // [n][head_dim] running sum of exp(score - m) * v (start at 0)
  // The next span's blocks (prefetch_blocks of them, keys and values each `prefetch_bytes`
  // long): the kernel asks for them a few lines at a time while it scores this span, so the
  // requests overlap arithmetic instead of queueing all at once ahead of it.
  const void* prefetch_k[kAttnSpanBlocks] = {};
  const void* prefetch_v[kAttnSpanBlocks] = {};
  int32_t prefetch_blocks = 0;
  int32_t prefetch_bytes = 0;
};

// A span: `blocks` consecutive cache blocks of one kv head, their keys one run of
// blocks * block_size. Block b's keys kt[b] are [head_dim][kt_stride] (transposed; kt_stride a
// multiple of kAttnKeyChunk, >= block_size), its values v[b] [block_size][head_dim]. Several
// blocks only where block_size == kt_stride. I8 blocks (T = int8_t) also carry the cache's
// per-slot parameters: key = fma(k_scale, q, k_zero) (dequant_cols), value = v_scale * q.
template <typename T>
struct AttnSpan {
  const T* kt[kAttnSpanBlocks] = {};
  const T* v[kAttnSpanBlocks] = {};
  const float* k_scale[kAttnSpanBlocks] = {};  // I8 only: [block_size] each
  const float* k_zero[kAttnSpanBlocks] = {};
  const float* v_scale[kAttnSpanBlocks] = {};
  int32_t blocks = 1;
  int32_t block_size = 0;
  int64_t kt_stride = 0;
};

// One span against the queries: query i sees the span's keys [0, visible[i]) (0: the span is
// skipped for it). scores is scratch of kAttnQueryBatch * blocks * kt_stride floats.
using AttnSpanFn = void (*)(const AttnQueries& qs, const int32_t* visible, const AttnSpan<float>& span, float scale,
                            float* scores);
// The same with F16 keys and values read in place (converted as they are loaded, the same
// values as converting first): head_dim a multiple of 16 up to kAttnMaxRegDims.
using AttnSpanF16Fn = void (*)(const AttnQueries& qs, const int32_t* visible, const AttnSpan<uint16_t>& span,
                               float scale, float* scores);
// The same with I8 keys and values read in place, dequantized as they are loaded (the values
// dequant_cols / dequant_rows give): head_dim a multiple of 16 up to kAttnMaxRegDims.
using AttnSpanI8Fn = void (*)(const AttnQueries& qs, const int32_t* visible, const AttnSpan<int8_t>& span,
                              float scale, float* scores);
// dst[i] = f16 src[i].
using HalfToFloatFn = void (*)(const uint16_t* src, float* dst, int64_t n);
// dst[i * dst_stride + j] = fma(scale[j], q[i * q_stride + j], zero[j]) (or the product alone
// without zero) for i < rows, j < cols: the I8 key block (zero points) and value block (rows =
// slots, no zero).
using DequantI8Fn = void (*)(const int8_t* q, int64_t q_stride, const float* scale, const float* zero, int32_t rows,
                             int32_t cols, float* dst, int64_t dst_stride);
// Same for a value block, whose scale is per row: dst[i][j] = scale[i] * q[i][j].
using DequantI8RowsFn = void (*)(const int8_t* q, const float* scale, int32_t rows, int32_t cols, float* dst);

// One query's output from the softmax states of its n key segments (attention.cpp): acc[s] is
// segment s's [head_dim] accumulator, m[s] / l[s] its running max / sum (l == 0: the segment
// held no key the query sees, and adds nothing). out = sum_s exp(m_s - M) acc_s divided by
// sum_s exp(m_s - M) l_s, M the largest m_s. w: scratch of n floats rounded up to 16.
using AttnMergeFn = void (*)(int32_t n, const float* const* acc, const float* m, const float* l, int32_t head_dim,
                             float* w, float* out);

struct AttnKernels {
  AttnSpanFn span = nullptr;
  AttnSpanF16Fn span_f16 = nullptr;
  AttnSpanI8Fn span_i8 = nullptr;
  HalfToFloatFn half_to_float = nullptr;
  DequantI8Fn dequant_cols = nullptr;
  DequantI8RowsFn dequant_rows = nullptr;
  AttnMergeFn merge = nullptr;
};

// The kernels of an ISA (must be available: isa_available()); attn_kernels() is the active ISA's.
const AttnKernels& attn_kernels(Isa isa);
const AttnKernels& attn_kernels();

// attention() (kernels.h) with the given kernels instead of the active ISA's (tests).
Status attention_with(const AttnKernels& kern, const Tensor& q, const Tensor& k, const Tensor& v,
                      const graph::Attrs& a, graph::StepContext& step, Tensor& y, ThreadPool& pool);

namespace simd {
const AttnKernels& avx2_attn_kernels();    // simd/attention_avx2.cpp
const AttnKernels& avx512_attn_kernels();  // simd/attention_avx512.cpp
const AttnKernels& neon_attn_kernels();    // simd/attention_neon.cpp (AArch64)
}  // namespace simd

}  // namespace autoglm::cpu
