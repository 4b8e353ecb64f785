// The fused gate/up projection of a SwiGLU MLP: both weight matrices meet one converted copy
// of the activations, and silu(gate) * up is formed in registers instead of two [n, ff]
// intermediates. Each output uses the same dot kernel as matmul(), so results are identical.
#include <cmath>
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "core/check.h"

namespace autoglm::cpu {

Status matmul_swiglu(const Tensor& x, const Tensor& w_gate, const Tensor& w_up, Tensor& y, ThreadPool& pool) {
  const int64_t n = x.rows(), k = x.cols(), m = w_gate.rows();
  AG_CHECK(x.dtype() == DType::F32 && y.dtype() == DType::F32 && w_gate.cols() == k && w_up.cols() == k &&
           w_up.rows() == m && w_gate.dtype() == w_up.dtype() && y.rows() == n && y.cols() == m);
  const MatmulKernels* kern = cpu_kernels_for(w_gate.dtype());
  if (kern == nullptr) return Unsupported(std::string("matmul with weight type ") + dtype_name(w_gate.dtype()));
  const float* xf = x.data_as<float>();
  float* yf = y.data_as<float>();
  const DType dt = kern->act_type;
  const size_t act_row = row_size(dt, k);
  std::vector<uint8_t> act;
  const uint8_t* ap = reinterpret_cast<const uint8_t*>(xf);
  if (kern->quantize_act != nullptr) {
    if (k % dtype_info(dt).block_size != 0) {
      return Unsupported("matmul: row length " + std::to_string(k) + " is not a multiple of the " + dtype_name(dt) +
                         " block size");
    }
    act.resize(act_row * static_cast<size_t>(n));
    pool.parallel_for(n, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) kern->quantize_act(xf + t * k, act.data() + t * act_row, k);
    }, grain_for(k));
    ap = act.data();
  }
  const quant::VecDotFn dot = kern->vec_dot;
  pool.parallel_for(m, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const uint8_t* wg = w_gate.row_ptr(r);
      const uint8_t* wu = w_up.row_ptr(r);
      for (int64_t t = 0; t < n; ++t) {
        const uint8_t* a = ap + static_cast<size_t>(t) * act_row;
        float v = dot(k, wg, a);
        v *= 1.0f / (1.0f + std::exp(-v));  // the same arithmetic as the swiglu kernel
        yf[t * m + r] = v * dot(k, wu, a);
      }
    }
  }, grain_for(2 * n * k));
  return Status::OK();
}

}  // namespace autoglm::cpu
