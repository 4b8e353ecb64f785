// Inner kernels of paged attention (attention.cpp drives them): one block of keys/values of
// one kv head against a set of queries, each query keeping its own online-softmax state, and
// the converters that turn an F16 / I8 cache block into f32 once for all those queries.
// One implementation (attention_block.inc.h) is compiled per ISA: portable, AVX2, AVX-512, NEON.
//
// Every query's arithmetic depends only on its own row, its visible keys and the block
// boundaries, never on which other queries share the call, so batching does not change results.
#pragma once

#include <cstdint>

#include "backends/cpu/kernels.h"

namespace autoglm::cpu {

// Keys are scored in chunks of this many slots (one AVX-512 register, two AVX2 ones).
inline constexpr int32_t kAttnKeyChunk = 16;
// Head sizes up to this keep their V accumulators in registers (8 x 16 lanes).
inline constexpr int32_t kAttnMaxRegDims = 128;
// Queries one block pass may take together (attend_group); the block kernel's `scores` holds
// kAttnQueryBatch rows of kt_stride floats.
inline constexpr int kAttnQueryBatch = 6;

// Online-softmax state of n queries of one kv head.
struct AttnQueries {
  int32_t n = 0;
  int32_t head_dim = 0;
  const float* q = nullptr;  // [n][head_dim]
  float* m = nullptr;        // [n] running max of the scaled scores (start at -inf)
  float* l = nullptr;        // [n] running sum of exp(score - m) (start at 0)
  float* acc = nullptr;      // [n][head_dim] running sum of exp(score - m) * v (start at 0)
  // The next block's keys and values (or null), each `prefetch_bytes` long: the kernel asks for
  // them a few lines at a time while it scores this block, so the requests overlap arithmetic
  // instead of queueing all at once ahead of it.
  const void* prefetch_k = nullptr;
  const void* prefetch_v = nullptr;
  int32_t prefetch_bytes = 0;
};

// One block: kt is [head_dim][kt_stride] (keys transposed; kt_stride a multiple of
// kAttnKeyChunk), v is [keys][head_dim]. Query i sees keys [0, visible[i]) of the block
// (0: the block is skipped for it). scores is scratch of kAttnQueryBatch * kt_stride floats.
using AttnBlockFn = void (*)(const AttnQueries& qs, const int32_t* visible, const float* kt, int64_t kt_stride,
                             const float* v, float scale, float* scores);
// dst[i] = f16 src[i].
// The same block with F16 keys and values read in place (converted as they are loaded, the
// same values as converting first): head_dim a multiple of 16 up to kAttnMaxRegDims and
// kt_stride a multiple of 16.
using AttnBlockF16Fn = void (*)(const AttnQueries& qs, const int32_t* visible, const uint16_t* kt, int64_t kt_stride,
                                const uint16_t* v, float scale, float* scores);
using HalfToFloatFn = void (*)(const uint16_t* src, float* dst, int64_t n);
// dst[i * dst_stride + j] = scale[j] * q[i * q_stride + j] + (zero ? zero[j] : 0) for
// i < rows, j < cols: the I8 key block (zero points) and value block (rows = slots, no zero).
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
  AttnBlockFn block = nullptr;
  AttnBlockF16Fn block_f16 = nullptr;
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
