// Several weight matrices against one activation, outputs side by side (the merged Q/K/V
// projections of graph::merge_parallel_matmuls): the activations are converted once and one
// parallel pass covers the rows of every matrix. Each output element is computed by the same
// kernel as a lone matmul() would use, so results are identical to separate products.
#include <algorithm>
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/packed.h"
#include "backends/cpu/packed_lattice.h"
#include "core/check.h"

namespace autoglm::cpu {
namespace {

// Which matrix a global unit (row or row group) falls in: begin[i] <= u < begin[i + 1].
struct Segments {
  std::vector<int64_t> begin;  // units, prefix sums, size N + 1
  std::vector<int64_t> col;    // first output column of each matrix
  size_t find(int64_t u) const {
    return static_cast<size_t>(std::upper_bound(begin.begin(), begin.end(), u) - begin.begin()) - 1;
  }
};

Segments segments(const std::vector<const Tensor*>& ws, int64_t unit_rows) {
  Segments s;
  s.begin.push_back(0);
  int64_t col = 0;
  for (const Tensor* w : ws) {
    s.col.push_back(col);
    col += w->rows();
    s.begin.push_back(s.begin.back() + w->rows() / unit_rows);
  }
  return s;
}

}  // namespace

Status matmul_cat(const Tensor& x, const std::vector<const Tensor*>& ws, Tensor& y, ThreadPool& pool) {
  AG_CHECK(!ws.empty() && x.dtype() == DType::F32 && y.dtype() == DType::F32 && y.rows() == x.rows());
  const int64_t n = x.rows(), k = x.cols(), ldy = y.cols();
  const DType type = ws[0]->dtype();
  int64_t total = 0;
  for (const Tensor* w : ws) {
    AG_CHECK(w->dtype() == type && w->cols() == k);
    total += w->rows();
  }
  AG_CHECK(total == ldy);
  float* yf = y.data_as<float>();

  // One parallel pass over the 16-row groups of every matrix: groups(w, g, left, out) writes group
  // g of w (and, if it likes, up to `left` - 1 more of w's) into their output columns (packed
  // weights, or lattice matrices decoded per group) and returns how many it wrote.
  const auto over_row_groups = [&](auto&& groups) {
    const Segments seg = segments(ws, kPackRows);
    pool.parallel_for(seg.begin.back(), [&](int64_t u0, int64_t u1) {
      for (int64_t u = u0; u < u1;) {
        const size_t i = seg.find(u);
        const int64_t g = u - seg.begin[i];
        u += groups(*ws[i], g, std::min(u1, seg.begin[i + 1]) - u, yf + seg.col[i] + g * kPackRows);
      }
    }, grain_for(kPackRows * k * n));
    return Status::OK();
  };

  if (is_packed_type(type)) {
    AG_ASSIGN_OR_RETURN(const PackedCall call, begin_packed_call(x, type, pool));
    return over_row_groups([&](const Tensor& w, int64_t g, int64_t left, float* out) -> int64_t {
      if (call.pair != nullptr && left >= 2) {
        call.two_groups(w, g, 0, n, out, out + kPackRows, ldy);
        return 2;
      }
      call.group(w, g, 0, n, out, ldy);
      return 1;
    });
  }

  bool groups = n >= kLatticeTileMinTokens && lattice_tiles_for(type);
  for (const Tensor* w : ws) groups = groups && w->rows() % kPackRows == 0;
  if (groups) {
    AG_ASSIGN_OR_RETURN(const PackedActivations* lact, prepare_lattice_activations(x, pool));
    return over_row_groups([&](const Tensor& w, int64_t g, int64_t, float* out) -> int64_t {
      lattice_group(w, g, *lact, 0, n, out, ldy);
      return 1;
    });
  }

  const MatmulKernels* kern = cpu_kernels_for(type);
  if (kern == nullptr) return Unsupported(std::string("matmul with weight type ") + dtype_name(type));
  thread_local std::vector<uint8_t> storage;  // reused per calling thread
  AG_ASSIGN_OR_RETURN(const ConvertedActivations act, convert_activations(x, *kern, storage, pool));
  const Segments seg = segments(ws, 1);
  pool.parallel_for(total, [&](int64_t r0, int64_t r1) {
    for (int64_t u = r0; u < r1; ++u) {
      const size_t i = seg.find(u);
      const uint8_t* wr = ws[i]->row_ptr(u - seg.begin[i]);
      float* out = yf + seg.col[i] + (u - seg.begin[i]);
      dot_row_tokens(*kern, k, wr, act.rows, act.row_bytes, n, out, ldy);
    }
  }, grain_for(n * k));
  return Status::OK();
}

void slice_cols(const Tensor& x, int64_t col_begin, Tensor& y, ThreadPool& pool) {
  const int64_t n = y.rows(), w = y.cols(), ld = x.cols();
  AG_CHECK(x.rows() == n && col_begin >= 0 && col_begin + w <= ld);
  const float* src = x.data_as<float>() + col_begin;
  float* dst = y.data_as<float>();
  // Rows in parallel for prefill (qwen2.5 pp512: one thread copied ~4.5 GB/s, 2% of the step);
  // a decode step's few rows stay on the calling thread.
  pool.parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) std::copy(src + t * ld, src + t * ld + w, dst + t * w);
  }, grain_for(w));
}

}  // namespace autoglm::cpu
