// Matrix products of activations with (possibly quantized) weights.
// Activations are converted once per call to the weight type's vec_dot_type (f32, Q8_0 or
// Q8_K, as quant::type_traits says); then each thread takes a range of weight rows and
// dots them with every activation row, so each weight byte is read once per call.
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "core/check.h"
#include "quant/quant.h"

namespace autoglm::cpu {

Status matmul(const Tensor& x, const Tensor& w, Tensor& y, ThreadPool& pool) {
  const int64_t n = x.rows(), k = x.cols(), m = w.rows();
  AG_CHECK(x.dtype() == DType::F32 && y.dtype() == DType::F32 && w.cols() == k && y.rows() == n && y.cols() == m);
  const quant::TypeTraits* tr = quant::type_traits(w.dtype());
  if (tr == nullptr || tr->vec_dot == nullptr) {
    return Unsupported(std::string("matmul with weight type ") + dtype_name(w.dtype()));
  }
  const float* xf = x.data_as<float>();
  float* yf = y.data_as<float>();

  if (w.dtype() == DType::F32) {
    pool.parallel_for(m, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const float* wr = reinterpret_cast<const float*>(w.row_ptr(r));
        for (int64_t t = 0; t < n; ++t) yf[t * m + r] = dot_f32(wr, xf + t * k, k);
      }
    }, grain_for(n * k));
    return Status::OK();
  }

  // Convert activations to the dot type (row by row, in parallel).
  const DType dt = tr->vec_dot_type;
  const size_t act_row = row_size(dt, k);
  std::vector<uint8_t> act;
  const uint8_t* ap = reinterpret_cast<const uint8_t*>(xf);
  if (dt != DType::F32) {
    if (k % dtype_info(dt).block_size != 0) {
      return Unsupported("matmul: row length " + std::to_string(k) + " is not a multiple of the " +
                         dtype_name(dt) + " block size");
    }
    act.resize(act_row * static_cast<size_t>(n));
    pool.parallel_for(n, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) quant::quantize_row(dt, xf + t * k, act.data() + t * act_row, k);
    }, grain_for(k));
    ap = act.data();
  }
  const quant::VecDotFn dot = tr->vec_dot;
  pool.parallel_for(m, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const uint8_t* wr = w.row_ptr(r);
      for (int64_t t = 0; t < n; ++t) yf[t * m + r] = dot(k, wr, ap + static_cast<size_t>(t) * act_row);
    }
  }, grain_for(n * k));
  return Status::OK();
}

}  // namespace autoglm::cpu
