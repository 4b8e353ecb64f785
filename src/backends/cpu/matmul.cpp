// Matrix products of activations with (possibly quantized) weights.
// Activations are converted once per call to the weight type's dot type (f32, Q8_0 or Q8_K)
// with the kernels of cpu_kernels_for(); then each thread takes a range of weight rows and
// dots them with every activation row. For a batch the rows and tokens are tiled so a tile of
// weight rows stays in L1/L2 while it meets a tile of activation rows: each weight byte comes
// from memory once per call.
#include <algorithm>
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/packed.h"
#include "backends/cpu/packed_lattice.h"
#include "core/check.h"

namespace autoglm::cpu {
namespace {

// Tile sizes in rows/tokens: 16 weight rows of a 2048-wide Q8_0 matrix are ~35 KB.
constexpr int64_t kRowTile = 16;
constexpr int64_t kTokTile = 32;

}  // namespace

Result<ConvertedActivations> convert_activations(const Tensor& x, const MatmulKernels& kern,
                                                 std::vector<uint8_t>& storage, ThreadPool& pool) {
  const int64_t n = x.rows(), k = x.cols();
  const float* xf = x.data_as<float>();
  const DType dt = kern.act_type;
  const size_t row = row_size(dt, k);
  if (kern.quantize_act == nullptr) return ConvertedActivations{reinterpret_cast<const uint8_t*>(xf), row};
  if (k % dtype_info(dt).block_size != 0) {
    return Unsupported("matmul: row length " + std::to_string(k) + " is not a multiple of the " + dtype_name(dt) +
                       " block size");
  }
  storage.resize(row * static_cast<size_t>(n));
  const quant::FromFloatFn quantize = kern.quantize_act;
  pool.parallel_for(n, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) quantize(xf + t * k, storage.data() + t * row, k);
  }, grain_for(k));
  return ConvertedActivations{storage.data(), row};
}

Status matmul(const Tensor& x, const Tensor& w, Tensor& y, ThreadPool& pool, const Tensor* residual) {
  if (is_packed_type(w.dtype())) return matmul_packed(x, w, y, pool, residual);
  const int64_t n = x.rows(), k = x.cols(), m = w.rows();
  AG_CHECK(x.dtype() == DType::F32 && y.dtype() == DType::F32 && w.cols() == k && y.rows() == n && y.cols() == m);
  AG_CHECK(residual == nullptr || (residual->dtype() == DType::F32 && residual->rows() == n && residual->cols() == m));
  const float* rf = residual != nullptr ? residual->data_as<float>() : nullptr;
  const MatmulKernels* kern = cpu_kernels_for(w.dtype());
  if (kern == nullptr) return Unsupported(std::string("matmul with weight type ") + dtype_name(w.dtype()));
  float* yf = y.data_as<float>();

  if (n >= kLatticeTileMinTokens && m % kPackRows == 0 && lattice_tiles_for(w.dtype())) {
    AG_ASSIGN_OR_RETURN(const PackedActivations* lact, prepare_lattice_activations(x, pool));
    pool.parallel_for(m / kPackRows, [&](int64_t g0, int64_t g1) {
      for (int64_t g = g0; g < g1; ++g) {
        lattice_group(w, g, *lact, 0, n, yf + g * kPackRows, m);
        if (rf != nullptr) add_residual(yf, rf, m, n, g * kPackRows, (g + 1) * kPackRows);
      }
    }, grain_for(kPackRows * k * n));
    return Status::OK();
  }

  thread_local std::vector<uint8_t> storage;  // reused: a fresh buffer per call page-faults
  AG_ASSIGN_OR_RETURN(const ConvertedActivations act, convert_activations(x, *kern, storage, pool));
  const uint8_t* ap = act.rows;
  const size_t act_row = act.row_bytes;
  const quant::VecDotFn dot = kern->vec_dot;
  pool.parallel_for(m, [&](int64_t r0, int64_t r1) {
    if (n == 1) {  // decode: one pass over the weight rows
      for (int64_t r = r0; r < r1; ++r) yf[r] = dot(k, w.row_ptr(r), ap);
      if (rf != nullptr) add_residual(yf, rf, m, 1, r0, r1);
      return;
    }
    for (int64_t rt = r0; rt < r1; rt += kRowTile) {
      const int64_t re = std::min(r1, rt + kRowTile);
      for (int64_t tt = 0; tt < n; tt += kTokTile) {
        const int64_t te = std::min(n, tt + kTokTile);
        for (int64_t r = rt; r < re; ++r) {
          dot_row_tokens(*kern, k, w.row_ptr(r), ap + static_cast<size_t>(tt) * act_row, act_row, te - tt,
                         yf + tt * m + r, m);
        }
      }
    }
    if (rf != nullptr) add_residual(yf, rf, m, n, r0, r1);
  }, grain_for(n * k));
  return Status::OK();
}

}  // namespace autoglm::cpu
