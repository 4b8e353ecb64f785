// The fused gate/up projection of a SwiGLU MLP: both weight matrices meet one converted copy
// of the activations, and silu(gate) * up is formed in registers instead of two [n, ff]
// intermediates. Each output uses the same dot kernel as matmul(), so results are identical.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/packed.h"
#include "backends/cpu/packed_lattice.h"
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
  if (n >= kLatticeTileMinTokens && m % kPackRows == 0 && lattice_tiles_for(w_gate.dtype())) {
    AG_ASSIGN_OR_RETURN(const PackedActivations* lact, prepare_lattice_activations(x, pool));
    pool.parallel_for(m / kPackRows, [&](int64_t g0, int64_t g1) {
      thread_local std::vector<float> gate, up;  // [token][row of the group]
      gate.resize(static_cast<size_t>(n * kPackRows));
      up.resize(static_cast<size_t>(n * kPackRows));
      for (int64_t g = g0; g < g1; ++g) {
        lattice_group(w_gate, g, *lact, 0, n, gate.data(), kPackRows);
        lattice_group(w_up, g, *lact, 0, n, up.data(), kPackRows);
        for (int64_t t = 0; t < n; ++t) {
          silu_mul(gate.data() + t * kPackRows, up.data() + t * kPackRows, yf + t * m + g * kPackRows, kPackRows);
        }
      }
    }, grain_for(2 * kPackRows * k * n));
    return Status::OK();
  }
  thread_local std::vector<uint8_t> storage;  // reused: a fresh buffer per call page-faults
  AG_ASSIGN_OR_RETURN(const ConvertedActivations act, convert_activations(x, *kern, storage, pool));
  const uint8_t* ap = act.rows;
  const size_t act_row = act.row_bytes;
  constexpr int64_t kRows = 16;  // a tile of weight rows stays in cache across the tokens
  pool.parallel_for(m, [&](int64_t r0, int64_t r1) {
    thread_local std::vector<float> gate, up;  // [token][row of the tile]
    gate.resize(static_cast<size_t>(n * kRows));
    up.resize(static_cast<size_t>(n * kRows));
    for (int64_t rt = r0; rt < r1; rt += kRows) {
      const int64_t nr = std::min(kRows, r1 - rt);
      for (int64_t i = 0; i < nr; ++i) {
        dot_row_tokens(*kern, k, w_gate.row_ptr(rt + i), ap, act_row, n, gate.data() + i, kRows);
        dot_row_tokens(*kern, k, w_up.row_ptr(rt + i), ap, act_row, n, up.data() + i, kRows);
      }
      for (int64_t t = 0; t < n; ++t) {  // the same arithmetic as the swiglu kernel
        silu_mul(gate.data() + t * kRows, up.data() + t * kRows, yf + t * m + rt, nr);
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
