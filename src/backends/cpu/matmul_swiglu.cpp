// The fused gate/up projection of a SwiGLU MLP: both weight matrices meet one converted copy
// of the activations, and silu(gate) * up is formed in registers instead of two [n, ff]
// intermediates. Each output uses the same dot kernel as matmul(), so results are identical.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/packed.h"
#include "core/check.h"

namespace autoglm::cpu {

Status matmul_swiglu(const Tensor& x, const Tensor& w_gate, const Tensor& w_up, Tensor& y, ThreadPool& pool) {
  if (is_packed_type(w_gate.dtype()) && w_up.dtype() == w_gate.dtype()) {
    return matmul_swiglu_packed(x, w_gate, w_up, y, pool);
  }
  const int64_t n = x.rows(), k = x.cols(), m = w_gate.rows();
  AG_CHECK(x.dtype() == DType::F32 && y.dtype() == DType::F32 && w_gate.cols() == k && w_up.cols() == k &&
           w_up.rows() == m && w_gate.dtype() == w_up.dtype() && y.rows() == n && y.cols() == m);
  const MatmulKernels* kern = cpu_kernels_for(w_gate.dtype());
  if (kern == nullptr) return Unsupported(std::string("matmul with weight type ") + dtype_name(w_gate.dtype()));
  float* yf = y.data_as<float>();
  thread_local std::vector<uint8_t> storage;  // reused: a fresh buffer per call page-faults
  AG_ASSIGN_OR_RETURN(const ConvertedActivations act, convert_activations(x, *kern, storage, pool));
  const uint8_t* ap = act.rows;
  const size_t act_row = act.row_bytes;
  const quant::VecDotFn dot = kern->vec_dot;
  constexpr int64_t kRows = 16;  // a tile of weight rows stays in cache across the tokens
  pool.parallel_for(m, [&](int64_t r0, int64_t r1) {
    float gate[kRows], up[kRows];
    for (int64_t rt = r0; rt < r1; rt += kRows) {
      const int64_t nr = std::min(kRows, r1 - rt);
      for (int64_t t = 0; t < n; ++t) {
        const uint8_t* a = ap + static_cast<size_t>(t) * act_row;
        for (int64_t i = 0; i < nr; ++i) {
          gate[i] = dot(k, w_gate.row_ptr(rt + i), a);
          up[i] = dot(k, w_up.row_ptr(rt + i), a);
        }
        silu_mul(gate, up, yf + t * m + rt, nr);  // the same arithmetic as the swiglu kernel
      }
    }
  }, grain_for(2 * n * k));
  return Status::OK();
}

Status matmul_swiglu_paired(const Tensor& x, const Tensor& w_gate_up, Tensor& y, ThreadPool& pool) {
  if (is_packed_type(w_gate_up.dtype())) return matmul_swiglu_paired_packed(x, w_gate_up, y, pool);
  // Other types are not paired by the loader; the unfused pair of ops gives the same values.
  Tensor both = Tensor::empty(DType::F32, {x.rows(), w_gate_up.rows()});
  AG_RETURN_IF_ERROR(matmul(x, w_gate_up, both, pool));
  swiglu_paired(both, y, pool);
  return Status::OK();
}

}  // namespace autoglm::cpu
