// matmul and the fused gate/up+SwiGLU on 16-row packed weights (packed.h): activations are
// prepared once per call, then each thread takes whole row groups and runs the ISA's packed
// kernel over all tokens (the kernel tiles tokens in registers).
#include <cmath>
#include <string>
#include <vector>

#include "backends/cpu/packed.h"
#include "core/check.h"

namespace autoglm::cpu {
namespace {

// Row groups per thread chunk: a group of 16 rows is 16 * k multiply-adds per token.
int64_t group_grain(int64_t n, int64_t k) { return grain_for(kPackRows * k * n); }

PackedGemmFn kernel_for(DType packed) {
  const PackedGemmFn f = packed_gemm_for(packed, active_isa());
  return f != nullptr ? f : packed_gemm_for(packed, Isa::kScalar);
}

}  // namespace

Status matmul_packed(const Tensor& x, const Tensor& w, Tensor& y, ThreadPool& pool) {
  const int64_t n = x.rows(), k = x.cols(), m = w.rows();
  AG_CHECK(is_packed_type(w.dtype()) && w.cols() == k && y.rows() == n && y.cols() == m && m % kPackRows == 0);
  // Reused per calling thread (a fresh buffer per call page-faults). Named by reference so the
  // pool's workers see this thread's buffer, not their own thread_local.
  thread_local PackedActivations scratch;
  PackedActivations& act = scratch;
  AG_RETURN_IF_ERROR(prepare_packed_activations(x, act, pool, w.dtype()));
  const PackedGemmFn gemm = kernel_for(w.dtype());
  const size_t group_bytes = packed_group_bytes(w.dtype(), k);
  const auto* wp = static_cast<const uint8_t*>(w.data());
  float* yf = y.data_as<float>();
  pool.parallel_for(m / kPackRows, [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g) gemm(act.nb, wp + static_cast<size_t>(g) * group_bytes, act, 0, n, yf + g * kPackRows, m);
  }, group_grain(n, k));
  return Status::OK();
}

Status matmul_swiglu_packed(const Tensor& x, const Tensor& w_gate, const Tensor& w_up, Tensor& y, ThreadPool& pool) {
  const int64_t n = x.rows(), k = x.cols(), m = w_gate.rows();
  AG_CHECK(is_packed_type(w_gate.dtype()) && w_gate.dtype() == w_up.dtype() && w_up.rows() == m && y.rows() == n &&
           y.cols() == m && m % kPackRows == 0);
  // Reused per calling thread (a fresh buffer per call page-faults). Named by reference so the
  // pool's workers see this thread's buffer, not their own thread_local.
  thread_local PackedActivations scratch;
  PackedActivations& act = scratch;
  AG_RETURN_IF_ERROR(prepare_packed_activations(x, act, pool, w_gate.dtype()));
  const PackedGemmFn gemm = kernel_for(w_gate.dtype());
  const size_t group_bytes = packed_group_bytes(w_gate.dtype(), k);
  const auto* gp = static_cast<const uint8_t*>(w_gate.data());
  const auto* up = static_cast<const uint8_t*>(w_up.data());
  float* yf = y.data_as<float>();
  constexpr int64_t kTok = 32;  // tokens per gate/up scratch tile
  pool.parallel_for(m / kPackRows, [&](int64_t g0, int64_t g1) {
    float gate[kTok * kPackRows], upv[kTok * kPackRows];
    for (int64_t g = g0; g < g1; ++g) {
      for (int64_t t0 = 0; t0 < n; t0 += kTok) {
        const int64_t nt = std::min(kTok, n - t0);
        gemm(act.nb, gp + static_cast<size_t>(g) * group_bytes, act, t0, nt, gate, kPackRows);
        gemm(act.nb, up + static_cast<size_t>(g) * group_bytes, act, t0, nt, upv, kPackRows);
        for (int64_t t = 0; t < nt; ++t) {
          silu_mul(gate + t * kPackRows, upv + t * kPackRows, yf + (t0 + t) * m + g * kPackRows, kPackRows);
        }
      }
    }
  }, group_grain(2 * n, k));
  return Status::OK();
}

}  // namespace autoglm::cpu
