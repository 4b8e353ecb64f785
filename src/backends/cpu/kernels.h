// CPU kernels behind the CPU backend. Each works on plain rows so that SIMD variants
// (simd/, chosen at run time) can replace the portable loops one at a time; the reference
// definition of every quantized format stays in src/quant/.
#pragma once

#include <cstdint>
#include <vector>

#include "autoglm/status.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "graph/graph.h"
#include "graph/step.h"
#include "backends/cpu/simd/simd.h"
#include "quant/quant.h"

namespace autoglm::cpu {

// y[n, m] = x[n, k] . w[m, k]^T for any weight type that has a reference vec_dot.
// With `residual` ([n, m] f32), y = x . w^T + residual, each output added by the thread that
// computed it (graph kMatMulAdd): the same floats as matmul, then add().
Status matmul(const Tensor& x, const Tensor& w, Tensor& y, ThreadPool& pool, const Tensor* residual = nullptr);
// y[n, m] = silu(x . w_gate^T) * (x . w_up^T), activations converted once for both weights.
Status matmul_swiglu(const Tensor& x, const Tensor& w_gate, const Tensor& w_up, Tensor& y, ThreadPool& pool);
// The same two products on 16-row packed weights (packed.h); matmul / matmul_swiglu forward
// to them when the weight's dtype is a packed layout.
Status matmul_packed(const Tensor& x, const Tensor& w, Tensor& y, ThreadPool& pool, const Tensor* residual = nullptr);
Status matmul_swiglu_packed(const Tensor& x, const Tensor& w_gate, const Tensor& w_up, Tensor& y, ThreadPool& pool);
// y[n, m] = swiglu_paired(x . w_gate_up^T): w_gate_up[2m, k] holds gate and up rows interleaved
// in groups of graph::kSwiGLUPairCols (gate rows 16g.., then up rows 16g..). Packed weights
// are read as one stream; any other type goes through matmul() and swiglu_paired().
Status matmul_swiglu_paired(const Tensor& x, const Tensor& w_gate_up, Tensor& y, ThreadPool& pool);
Status matmul_swiglu_paired_packed(const Tensor& x, const Tensor& w_gate_up, Tensor& y, ThreadPool& pool);
// y = [x . w1^T | x . w2^T | ...]: weights of one type and row length (merged Q/K/V);
// every element equals what matmul() gives for its matrix alone.
Status matmul_cat(const Tensor& x, const std::vector<const Tensor*>& ws, Tensor& y, ThreadPool& pool);
// y[t, :] = x[t, col_begin : col_begin + y.cols()], rows in parallel.
void slice_cols(const Tensor& x, int64_t col_begin, Tensor& y, ThreadPool& pool);
// y[i, :] = dequantize(table[ids[i], :]); ids out of range -> OutOfRange.
Status embed(const Tensor& table, const Tensor& ids, Tensor& y, ThreadPool& pool);
// y = x / sqrt(mean(x^2) + eps) [* w]; w may be null.
void rms_norm(const Tensor& x, const Tensor* w, float eps, Tensor& y, ThreadPool& pool);
void mul_rows(const Tensor& x, const Tensor& w, Tensor& y);
void add(const Tensor& a, const Tensor& b, Tensor& y);
void swiglu(const Tensor& gate, const Tensor& up, Tensor& y, ThreadPool& pool);
// y[t, 16g + i] = silu(x[t, 32g + i]) * x[t, 32g + 16 + i] (graph::kSwiGLUPaired).
void swiglu_paired(const Tensor& x, Tensor& y, ThreadPool& pool);
void rope(const Tensor& x, const Tensor& positions, const graph::Attrs& a, Tensor& y, ThreadPool& pool);
Status get_rows(const Tensor& x, const Tensor& ids, Tensor& y);
// Writes k, v of every token into the cache at its position, then causal attention of each
// query over its own sequence's cached positions [0, pos].
Status attention(const Tensor& q, const Tensor& k, const Tensor& v, const graph::Attrs& a,
                 graph::StepContext& step, Tensor& y, ThreadPool& pool);

// Rows per thread chunk so that one chunk holds at least ~kMinChunkWork multiply-adds:
// below that, waking another thread costs more than the work it would take over.
inline constexpr int64_t kMinChunkWork = 32 * 1024;
inline int64_t grain_for(int64_t work_per_item) {
  return work_per_item >= kMinChunkWork ? 1 : kMinChunkWork / (work_per_item > 0 ? work_per_item : 1);
}

// y[t * m + c] += r[t * m + c] for tokens t < n and columns c in [c0, c1): the residual half of a
// fused matmul + add, on the columns one thread just computed.
inline void add_residual(float* y, const float* r, int64_t m, int64_t n, int64_t c0, int64_t c1) {
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t c = c0; c < c1; ++c) y[t * m + c] += r[t * m + c];
  }
}

// out[i] = silu(gate[i]) * up[i] with the active ISA's vector exp; every SwiGLU (fused or
// not, packed or not) goes through it so they agree bit for bit. The reference uses std::exp.
void silu_mul(const float* gate, const float* up, float* out, int64_t n);
void silu_mul_reference(const float* gate, const float* up, float* out, int64_t n);

// Dot product of two f32 rows (SIMD where available).
float dot_f32(const float* a, const float* b, int64_t n);

// Instruction sets with their own kernels. The scalar path is src/quant's reference itself.
enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2, kNeon = 3 };
inline constexpr int kNumIsas = 4;
const char* isa_name(Isa isa);
bool isa_available(Isa isa);  // compiled in and supported by this CPU
// The ISA matmul uses: the best available, or AUTOGLM_CPU_ISA=scalar|avx2|avx512|neon (capped at
// the best available, with a warning) read once at start.
Isa active_isa();

// What a matmul with weights of one type runs: activations are quantized to act_type by
// quantize_act (nullptr: F32 activations are used as they are), then vec_dot(k, weight row,
// activation row). Entries the ISA has no kernel for are the reference's.
struct MatmulKernels {
  DType weight = DType::F32;
  DType act_type = DType::F32;
  quant::FromFloatFn quantize_act = nullptr;
  quant::VecDotFn vec_dot = nullptr;
  // One weight row against several activation rows at once, the same bits as vec_dot each;
  // nullptr where the type has none (dot_row_tokens then loops vec_dot).
  simd::RowTokensFn dot_tokens = nullptr;
};

// out[t * out_stride] = k.vec_dot(n, w, act + t * act_row) for t < nt.
inline void dot_row_tokens(const MatmulKernels& k, int64_t n, const void* w, const uint8_t* act, size_t act_row,
                           int64_t nt, float* out, int64_t out_stride) {
  if (k.dot_tokens != nullptr && nt >= 2) return k.dot_tokens(n, w, act, act_row, nt, out, out_stride);
  for (int64_t t = 0; t < nt; ++t) out[t * out_stride] = k.vec_dot(n, w, act + static_cast<size_t>(t) * act_row);
}
// nullptr when the weight type has no dot product.
const MatmulKernels* cpu_kernels_for(DType weight);
const MatmulKernels* cpu_kernels_for(DType weight, Isa isa);

// x[i] = exp(x[i] - shift) for i < n, returning their sum: the sampler's softmax. exp is the
// kernels' polynomial (within a few ulp of expf; exactly 0 below -87.34, so exp(-inf) = 0) and
// the sum runs in 16 fixed lanes, so every ISA, the reference included, gives the same bits.
float exp_shift_sum(float* x, int64_t n, float shift);
float exp_shift_sum_reference(float* x, int64_t n, float shift);
using ExpShiftSumFn = float (*)(float* x, int64_t n, float shift);
ExpShiftSumFn exp_shift_sum_for(Isa isa);  // nullptr when the ISA is not available here

// Activation rows converted for a weight type's dot kernel: points at x itself when the kernel
// takes f32, else at `storage` filled with Q8_0/Q8_K rows (row_bytes apart). Unsupported when
// the row length is not a whole number of the activation type's blocks.
struct ConvertedActivations {
  const uint8_t* rows = nullptr;
  size_t row_bytes = 0;
};
Result<ConvertedActivations> convert_activations(const Tensor& x, const MatmulKernels& kern,
                                                 std::vector<uint8_t>& storage, ThreadPool& pool);


}  // namespace autoglm::cpu
