// Row-wise and element-wise kernels: norms, products, SwiGLU, RoPE, row selection.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/packed.h"
#include "backends/cpu/rope_table.h"
#include "core/check.h"
#include "quant/quant.h"

namespace autoglm::cpu {

Status embed(const Tensor& table, const Tensor& ids, Tensor& y, ThreadPool& pool) {
  const int64_t n = ids.numel(), d = table.cols(), vocab = table.rows();
  AG_CHECK(ids.dtype() == DType::I32 && y.rows() == n && y.cols() == d);
  const int32_t* id = ids.data_as<int32_t>();
  for (int64_t i = 0; i < n; ++i) {
    if (id[i] < 0 || id[i] >= vocab) {
      return OutOfRange("token id " + std::to_string(id[i]) + " outside the vocabulary of " + std::to_string(vocab));
    }
  }
  if (is_packed_type(table.dtype())) {  // a tied output head packed for matmul
    pool.parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) dequantize_packed_row(table, id[i], y.data_as<float>() + i * d);
    }, grain_for(d));
    return Status::OK();
  }
  if (quant::type_traits(table.dtype()) == nullptr || quant::type_traits(table.dtype())->to_float == nullptr) {
    return Unsupported(std::string("embedding table of type ") + dtype_name(table.dtype()));
  }
  pool.parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      quant::dequantize_row(table.dtype(), table.row_ptr(id[i]), y.data_as<float>() + i * d, d);
    }
  }, grain_for(d));
  return Status::OK();
}

void rms_norm(const Tensor& x, const Tensor* w, float eps, Tensor& y, ThreadPool& pool) {
  const int64_t n = x.rows(), d = x.cols();
  const float* wf = w ? w->data_as<float>() : nullptr;
  pool.parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* xr = x.data_as<float>() + r * d;
      float* yr = y.data_as<float>() + r * d;
      // The SIMD dot: a sequential sum of squares waits on each add (~0.6 us for 576 dims).
      float ss = dot_f32(xr, xr, d);
      ss /= static_cast<float>(d);
      ss += eps;
      ss = 1.0f / std::sqrt(ss);
      if (wf) {
        for (int64_t i = 0; i < d; ++i) yr[i] = wf[i] * (ss * xr[i]);
      } else {
        for (int64_t i = 0; i < d; ++i) yr[i] = ss * xr[i];
      }
    }
  }, grain_for(2 * d));
}

void mul_rows(const Tensor& x, const Tensor& w, Tensor& y) {
  const int64_t n = x.rows(), d = x.cols();
  const float* wf = w.data_as<float>();
  for (int64_t r = 0; r < n; ++r) {
    const float* xr = x.data_as<float>() + r * d;
    float* yr = y.data_as<float>() + r * d;
    for (int64_t i = 0; i < d; ++i) yr[i] = wf[i] * xr[i];
  }
}

void add(const Tensor& a, const Tensor& b, Tensor& y) {
  const int64_t n = a.numel();
  const float* af = a.data_as<float>();
  const float* bf = b.data_as<float>();
  float* yf = y.data_as<float>();
  for (int64_t i = 0; i < n; ++i) yf[i] = af[i] + bf[i];
}

void swiglu(const Tensor& gate, const Tensor& up, Tensor& y, ThreadPool& pool) {
  const float* g = gate.data_as<float>();
  const float* u = up.data_as<float>();
  float* o = y.data_as<float>();
  pool.parallel_for(gate.numel(), [&](int64_t b, int64_t e) { silu_mul(g + b, u + b, o + b, e - b); }, grain_for(16));
}

void swiglu_paired(const Tensor& x, Tensor& y, ThreadPool& pool) {
  constexpr int64_t kW = graph::kSwiGLUPairCols;
  AG_CHECK(x.cols() == 2 * y.cols() && x.rows() == y.rows() && y.cols() % kW == 0);
  const int64_t m = y.cols(), groups = x.rows() * (m / kW);
  const float* xf = x.data_as<float>();
  float* o = y.data_as<float>();
  pool.parallel_for(groups, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {  // group i: row i / (m / kW), pair i % (m / kW)
      const int64_t t = i / (m / kW), g = i % (m / kW);
      const float* pair = xf + t * 2 * m + g * 2 * kW;
      silu_mul(pair, pair + kW, o + t * m + g * kW, kW);  // the same arithmetic as swiglu()
    }
  }, grain_for(kW));
}

void rope(const Tensor& x, const Tensor& positions, const graph::Attrs& a, Tensor& y, ThreadPool& pool) {
  const int64_t n = x.rows(), d = x.cols();
  const int32_t* pos = positions.data_as<int32_t>();
  const int32_t hd = a.head_dim, n_rot = a.n_rot > 0 ? a.n_rot : a.head_dim;
  const int32_t half = n_rot / 2;
  int32_t max_pos = 0;
  for (int64_t t = 0; t < n; ++t) {
    AG_CHECK(pos[t] >= 0);
    max_pos = std::max(max_pos, pos[t]);
  }
  // The angles depend on the position only: one table row per position serves every head.
  const auto table = rope_angles(a.rope_freq_base, a.rope_freq_scale, n_rot, max_pos + 1);
  pool.parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const float* xr = x.data_as<float>() + t * d;
      float* yr = y.data_as<float>() + t * d;
      for (int64_t i = 0; i < d; ++i) yr[i] = xr[i];
      const float* cs = table->cs.data() + static_cast<size_t>(pos[t]) * static_cast<size_t>(half);
      const float* sn = table->sn.data() + static_cast<size_t>(pos[t]) * static_cast<size_t>(half);
      for (int32_t h = 0; h < a.n_head; ++h) {
        float* v = yr + static_cast<int64_t>(h) * hd;
        for (int32_t i = 0; i < half; ++i) {
          const float c = cs[i], s = sn[i];
          const int32_t i0 = a.rope_style == graph::RopeStyle::kAdjacent ? 2 * i : i;
          const int32_t i1 = a.rope_style == graph::RopeStyle::kAdjacent ? 2 * i + 1 : i + half;
          const float x0 = v[i0], x1 = v[i1];
          v[i0] = x0 * c - x1 * s;
          v[i1] = x0 * s + x1 * c;
        }
      }
    }
  }, grain_for(8 * d));
}

Status get_rows(const Tensor& x, const Tensor& ids, Tensor& y) {
  const int64_t d = x.cols();
  const int32_t* id = ids.data_as<int32_t>();
  for (int64_t i = 0; i < ids.numel(); ++i) {
    if (id[i] < 0 || id[i] >= x.rows()) return OutOfRange("get_rows: row " + std::to_string(id[i]) + " out of range");
    const float* src = x.data_as<float>() + static_cast<int64_t>(id[i]) * d;
    float* dst = y.data_as<float>() + i * d;
    for (int64_t j = 0; j < d; ++j) dst[j] = src[j];
  }
  return Status::OK();
}

}  // namespace autoglm::cpu
