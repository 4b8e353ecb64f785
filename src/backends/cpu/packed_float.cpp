// F32_R16 / F16_R16 / BF16_R16 / BF16_R16P: packing, row reading, activations and the scalar reference
// kernels (layouts: packed_float.h).
#include "backends/cpu/packed_float.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "core/check.h"
#include "quant/half.h"

namespace autoglm::cpu {
namespace {

size_t element_bytes(DType packed) { return packed == DType::F32_R16 ? 4 : 2; }

// Where row i's column c sits in a group: BF16_R16P keeps column pairs together per row.
size_t offset_of(DType packed, int64_t c, int i) {
  if (packed == DType::BF16_R16P) {
    return static_cast<size_t>(c / 2) * kBf16PairBytes + 4 * static_cast<size_t>(i) + 2 * static_cast<size_t>(c % 2);
  }
  return (static_cast<size_t>(c) * kPackRows + static_cast<size_t>(i)) * element_bytes(packed);
}

// Row i's column c, as f32.
float at(DType packed, const uint8_t* wgroup, int64_t c, int i) {
  const uint8_t* p = wgroup + offset_of(packed, c, i);
  if (packed == DType::F32_R16) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  uint16_t v;
  std::memcpy(&v, p, 2);
  return packed == DType::F16_R16 ? quant::fp16_to_fp32(v) : quant::bf16_to_fp32(v);
}

// BF16_R16P's raw bf16 bits.
uint16_t bits_at(const uint8_t* wgroup, int64_t c, int i) {
  uint16_t v;
  std::memcpy(&v, wgroup + offset_of(DType::BF16_R16P, c, i), 2);
  return v;
}

void gemm_reference(DType packed, int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                    int64_t nt, float* y, int64_t ldy) {
  for (int64_t t = 0; t < nt; ++t) {
    const float* x = act.xf.data() + (t0 + t) * act.ldx;
    for (int i = 0; i < kPackRows; ++i) {
      float acc = 0.0f;
      for (int64_t c = 0; c < nb; ++c) acc = std::fma(at(packed, wgroup, c, i), x[c], acc);
      y[t * ldy + i] = acc;
    }
  }
}

// vdpbf16ps's arithmetic: bf16 subnormals read as zero, f32 subnormal results flushed to zero
// (the products of two bf16 values are exact in f32, so an fma adds each with one rounding).
float bf16_daz(uint16_t v) { return (v & 0x7f80u) == 0 ? 0.0f : quant::bf16_to_fp32(v); }
float ftz(float v) { return std::fpclassify(v) == FP_SUBNORMAL ? 0.0f : v; }

}  // namespace

Tensor pack_float_r16(const Tensor& w, DType packed) {
  AG_CHECK(w.ndim() == 2 && w.rows() % kPackRows == 0);
  AG_CHECK((w.dtype() == DType::F32 && packed == DType::F32_R16) || (w.dtype() == DType::F16 && packed == DType::F16_R16) ||
           (w.dtype() == DType::BF16 && (packed == DType::BF16_R16 || (packed == DType::BF16_R16P && w.cols() % 2 == 0))));
  const int64_t m = w.rows(), k = w.cols();
  Tensor out = Tensor::empty_weight(packed, w.shape());
  auto* dst = static_cast<uint8_t*>(out.data());
  const size_t eb = element_bytes(packed);
  // A 16 x 64 transpose at a time: its 2-4 KiB of output stay in L1 while the 16 rows stream in
  // (element by element over whole rows, a 2.4 GB model took 10 s to load). Each layout's unit
  // (a value, or BF16_R16P's pair) is copied with a fixed size: through offset_of per element,
  // llama3.2-1b's BF16 took 4.3 s to load against F16's 2.2.
  constexpr int64_t kCols = 64;
  const auto transpose = [&](auto unit_bytes, size_t unit_stride) {
    constexpr size_t kUnit = decltype(unit_bytes)::value;
    const int64_t per_unit = static_cast<int64_t>(kUnit / eb);  // columns per unit
    for (int64_t g = 0; g < m / kPackRows; ++g) {
      uint8_t* group = dst + static_cast<size_t>(g * k * kPackRows) * eb;
      const uint8_t* rows[kPackRows];
      for (int i = 0; i < kPackRows; ++i) rows[i] = w.row_ptr(g * kPackRows + i);
      for (int64_t c0 = 0; c0 < k; c0 += kCols) {
        const int64_t c1 = std::min(k, c0 + kCols);
        for (int i = 0; i < kPackRows; ++i) {
          for (int64_t c = c0; c < c1; c += per_unit) {
            std::memcpy(group + static_cast<size_t>(c / per_unit) * unit_stride + kUnit * static_cast<size_t>(i),
                        rows[i] + static_cast<size_t>(c) * eb, kUnit);
          }
        }
      }
    }
  };
  if (packed == DType::BF16_R16P) {
    transpose(std::integral_constant<size_t, 4>{}, kBf16PairBytes);  // k even, so kCols is whole pairs
  } else if (packed == DType::F32_R16) {
    transpose(std::integral_constant<size_t, 4>{}, kF32R16ColumnBytes);
  } else {
    transpose(std::integral_constant<size_t, 2>{}, kFloatR16ColumnBytes);
  }
  return out;
}

void dequantize_float_r16_row(const Tensor& packed, int64_t r, float* out) {
  const DType p = packed.dtype();
  AG_CHECK(is_float_r16(p) && r >= 0 && r < packed.rows());
  const int64_t k = packed.cols(), g = r / kPackRows;
  const uint8_t* group = static_cast<const uint8_t*>(packed.data()) + static_cast<size_t>(g * k * kPackRows) * element_bytes(p);
  for (int64_t c = 0; c < k; ++c) out[c] = at(p, group, c, static_cast<int>(r % kPackRows));
}

namespace {
// Row stride in elements of `per_line` to a cache line: whole lines, an odd number of them.
int64_t odd_lines_stride(int64_t k, int64_t per_line) {
  int64_t ld = (k + per_line - 1) / per_line * per_line;
  if ((ld / per_line) % 2 == 0) ld += per_line;
  return ld;
}

// x's rows into `rows` (f32 or bf16), act.ldx elements apart, each written by copy(src, dst, k).
template <typename T, typename Copy>
void stage_rows(const Tensor& x, PackedActivations& act, std::vector<T>& rows, ThreadPool& pool, Copy copy) {
  AG_CHECK(x.dtype() == DType::F32 && x.ndim() == 2);
  const int64_t n = x.rows(), k = x.cols();
  act.n = n;
  act.nb = k;
  act.ldx = odd_lines_stride(k, 64 / static_cast<int64_t>(sizeof(T)));
  rows.resize(static_cast<size_t>(n * act.ldx));
  const float* src = x.data_as<float>();
  pool.parallel_for(n, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) copy(src + t * k, rows.data() + t * act.ldx, k);
  }, grain_for(k));
}
}  // namespace

Status prepare_float_activations(const Tensor& x, PackedActivations& act, ThreadPool& pool) {
  stage_rows(x, act, act.xf, pool, [](const float* src, float* dst, int64_t k) {
    std::memcpy(dst, src, static_cast<size_t>(k) * sizeof(float));
  });
  return Status::OK();
}

Status prepare_bf16_activations(const Tensor& x, PackedActivations& act, ThreadPool& pool) {
  if (x.cols() % 2 != 0) return Unsupported("matmul: bf16 pairs need an even row length, got " + std::to_string(x.cols()));
  stage_rows(x, act, act.xb, pool, quant::fp32_to_bf16_row);
  return Status::OK();
}

void gemm_bf16_r16p_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                              float* y, int64_t ldy) {
  for (int64_t t = 0; t < nt; ++t) {
    const uint16_t* x = act.xb.data() + (t0 + t) * act.ldx;
    for (int i = 0; i < kPackRows; ++i) {
      float acc[2] = {0.0f, 0.0f};
      for (int64_t p = 0; p < nb / 2; ++p) {
        float& a = acc[p % 2];
        for (int64_t c : {2 * p + 1, 2 * p}) {
          a = ftz(std::fma(bf16_daz(bits_at(wgroup, c, i)), bf16_daz(x[c]), a));
        }
      }
      y[t * ldy + i] = acc[0] + acc[1];
    }
  }
}

void gemm_f32_r16_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                            float* y, int64_t ldy) {
  gemm_reference(DType::F32_R16, nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_f16_r16_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                            float* y, int64_t ldy) {
  gemm_reference(DType::F16_R16, nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_bf16_r16_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                             float* y, int64_t ldy) {
  gemm_reference(DType::BF16_R16, nb, wgroup, act, t0, nt, y, ldy);
}

}  // namespace autoglm::cpu
