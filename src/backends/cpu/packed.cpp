// Packing Q8_0 / Q4_0 / Q5_0 / Q4_1 / Q5_1 matrices into 16-row interleaved layouts, the activation preparation
// their kernels share, and the scalar reference of those kernels (layouts: packed.h).
#include "backends/cpu/packed.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "backends/cpu/packed_float.h"
#include "backends/cpu/packed_iq4xs.h"
#include "backends/cpu/packed_q2k.h"
#include "backends/cpu/packed_q3k.h"
#include "backends/cpu/packed_q4k.h"
#include "backends/cpu/packed_q6k.h"
#include "backends/cpu/simd/packed_simd.h"
#include "backends/cpu/simd/simd.h"
#include "core/check.h"
#include "graph/graph.h"
#include "quant/blocks.h"
#include "quant/half.h"

namespace autoglm::cpu {
namespace {

using quant::block_q4_0;
using quant::block_q4_1;
using quant::block_q5_0;
using quant::block_q5_1;
using quant::block_q8_0;

constexpr size_t kScaleBytes = kPackRows * sizeof(uint16_t);  // 16 f16 scales per packed block

// Bytes of one packed block (16 rows x 32 columns).
size_t packed_block_bytes(DType packed) { return dtype_info(packed).type_size * kPackRows; }

bool has_min(DType packed) { return packed == DType::Q4_1_R16 || packed == DType::Q5_1_R16; }
bool has_fifth_bits(DType packed) { return packed == DType::Q5_0_R16 || packed == DType::Q5_1_R16; }
// Where the quants start in a packed block: after the 16 scales (and the 16 mins).
size_t quants_offset(DType packed) { return has_min(packed) ? 2 * kScaleBytes : kScaleBytes; }

// The unsigned weight of row i, column c (0..31) of a packed block, and the offset it carries.
int weight_u(DType packed, const uint8_t* blk, int i, int c) {
  const uint8_t* q = blk + quants_offset(packed);
  if (packed == DType::Q8_0_R16) return q[64 * (c / 4) + 4 * i + c % 4];
  const int lo = c % 16;  // column c lives in chunk (c%16)/4, low nibble for c < 16
  const uint8_t byte = q[64 * (lo / 4) + 4 * i + lo % 4];
  const int nibble = c < 16 ? (byte & 0x0F) : (byte >> 4);
  if (packed == DType::IQ4_NL_R16) return quant::kIQ4Values[nibble] + 128;
  if (!has_fifth_bits(packed)) return nibble;
  const int reg = lo / 4 + (c < 16 ? 0 : 4);  // its register; byte 4i + t there
  const uint8_t bits = q[4 * 64 + 4 * static_cast<size_t>(i) + static_cast<size_t>(lo % 4)];
  return nibble | (((bits >> reg) & 1) << 4);
}

int weight_offset(DType packed) {
  switch (packed) {
    case DType::Q8_0_R16:
    case DType::IQ4_NL_R16: return 128;
    case DType::Q4_0_R16: return 8;
    case DType::Q5_0_R16: return 16;
    default: return 0;  // Q4_1 / Q5_1: unsigned values and a min
  }
}

float scale_of(const uint8_t* blk, int i) { return f16_at(blk, i); }
float min_of(const uint8_t* blk, int i) { return f16_at(blk + kScaleBytes, i); }

// The fields of one source block of the 4- and 5-bit legacy types (null where it has none).
struct LegacyBlock {
  const uint16_t* d = nullptr;
  const uint16_t* m = nullptr;
  const uint8_t* qh = nullptr;
  const uint8_t* qs = nullptr;
};
template <typename B>
LegacyBlock fields(const B& b) {
  LegacyBlock f;
  f.d = &b.d;
  f.qs = b.qs;
  if constexpr (std::is_same_v<B, block_q4_1> || std::is_same_v<B, block_q5_1>) f.m = &b.m;
  if constexpr (std::is_same_v<B, block_q5_0> || std::is_same_v<B, block_q5_1>) f.qh = b.qh;
  return f;
}
LegacyBlock legacy_block(DType src, const uint8_t* row, int64_t b) {
  switch (src) {
    case DType::Q4_0: return fields(reinterpret_cast<const block_q4_0*>(row)[b]);
    case DType::Q5_0: return fields(reinterpret_cast<const block_q5_0*>(row)[b]);
    case DType::Q4_1: return fields(reinterpret_cast<const block_q4_1*>(row)[b]);
    case DType::IQ4_NL: return fields(reinterpret_cast<const quant::block_iq4_nl*>(row)[b]);
    default: return fields(reinterpret_cast<const block_q5_1*>(row)[b]);
  }
}

// Row i of one packed block from a 4- or 5-bit source block: scale (and min), the nibbles (each
// source byte j already holds columns j and j + 16: only the 4-byte groups move) and the fifth
// bits (qh bit c is column c's; register (c % 16) / 4 (+4 for c >= 16) holds column c at byte
// 4i + c % 4, whose fifth-bits byte keeps it in bit `register`; the caller zeroed them).
void pack_legacy_row(DType packed, const LegacyBlock& s, int i, uint8_t* blk) {
  std::memcpy(blk + 2 * i, s.d, 2);
  if (s.m != nullptr) std::memcpy(blk + kScaleBytes + 2 * i, s.m, 2);
  uint8_t* q = blk + quants_offset(packed);
  for (int ch = 0; ch < 4; ++ch) std::memcpy(q + 64 * ch + 4 * i, s.qs + 4 * ch, 4);
  if (s.qh == nullptr) return;
  uint32_t qh;
  std::memcpy(&qh, s.qh, 4);
  uint8_t* bits = q + 4 * 64 + 4 * i;
  for (int c = 0; c < quant::kQK; ++c) {
    const int reg = (c % 16) / 4 + (c < 16 ? 0 : 4);
    bits[c % 4] = static_cast<uint8_t>(bits[c % 4] | ((qh >> c) & 1u) << reg);
  }
}

}  // namespace

namespace {
// The scalar reference of one 32-column layout, as a PackedGemmFn.
template <DType P>
void reference_of(int64_t nb, const uint8_t* w, const PackedActivations& a, int64_t t0, int64_t nt, float* y,
                  int64_t ldy) {
  packed_gemm_reference(P, nb, w, a, t0, nt, y, ldy);
}

#if defined(AUTOGLM_HAVE_AVX512_KERNELS)
#define AG_AVX512(f) simd::f
#else
#define AG_AVX512(f) nullptr
#endif
#if defined(AUTOGLM_HAVE_AVX2_KERNELS)
#define AG_AVX2(f) simd::f
#else
#define AG_AVX2(f) nullptr
#endif

// BF16_R16P's vdpbf16ps kernel: where the CPU runs it at full rate (simd.h); elsewhere BF16
// weights stay in BF16_R16 (f32 activations, bit-identical to the row layout's f32 products),
// which prefills faster there (llama3.2-1b BF16 pp512 94-96 -> 123-132 t/s on the Xeon with AMX).
// AUTOGLM_EXACT_BF16=1 keeps BF16_R16 everywhere, =0 takes the pairs wherever the CPU has them.
bool cpu_runs_bf16_pairs() {
#if defined(AUTOGLM_HAVE_AVX512_KERNELS)
  return simd::cpu_has_avx512_bf16();
#else
  return false;
#endif
}
bool bf16_pairs_chosen() {
  static const bool chosen = [] {
    if (!cpu_runs_bf16_pairs() || active_isa() != Isa::kAvx512) return false;
    const char* env = std::getenv("AUTOGLM_EXACT_BF16");
    if (env != nullptr && std::strcmp(env, "1") == 0) return false;
    if (env != nullptr && std::strcmp(env, "0") == 0) return true;
    return simd::cpu_has_full_rate_bf16_dot();
  }();
  return chosen;
}

// Every packed layout: its source type and its kernels (null: that ISA keeps the row layout; NEON
// has none). Where two layouts share a source, the first whose `chosen` says yes packs it.
struct PackedLayout {
  DType source, packed;
  PackedGemmFn reference, avx512, avx2;
  bool (*chosen)() = nullptr;  // null: always
};
const PackedLayout kLayouts[] = {
    {DType::Q8_0, DType::Q8_0_R16, reference_of<DType::Q8_0_R16>, AG_AVX512(gemm_q8_0_r16_avx512), AG_AVX2(gemm_q8_0_r16_avx2)},
    {DType::Q4_0, DType::Q4_0_R16, reference_of<DType::Q4_0_R16>, AG_AVX512(gemm_q4_0_r16_avx512), AG_AVX2(gemm_q4_0_r16_avx2)},
    {DType::Q5_0, DType::Q5_0_R16, reference_of<DType::Q5_0_R16>, AG_AVX512(gemm_q5_0_r16_avx512), AG_AVX2(gemm_q5_0_r16_avx2)},
    {DType::Q4_1, DType::Q4_1_R16, reference_of<DType::Q4_1_R16>, AG_AVX512(gemm_q4_1_r16_avx512), AG_AVX2(gemm_q4_1_r16_avx2)},
    {DType::Q5_1, DType::Q5_1_R16, reference_of<DType::Q5_1_R16>, AG_AVX512(gemm_q5_1_r16_avx512), AG_AVX2(gemm_q5_1_r16_avx2)},
    {DType::IQ4_NL, DType::IQ4_NL_R16, reference_of<DType::IQ4_NL_R16>, AG_AVX512(gemm_iq4_nl_r16_avx512),
     AG_AVX2(gemm_iq4_nl_r16_avx2)},
    {DType::Q2_K, DType::Q2_K_R16, gemm_q2_K_r16_reference, AG_AVX512(gemm_q2_K_r16_avx512), AG_AVX2(gemm_q2_K_r16_avx2)},
    {DType::Q3_K, DType::Q3_K_R16, gemm_q3_K_r16_reference, AG_AVX512(gemm_q3_K_r16_avx512), AG_AVX2(gemm_q3_K_r16_avx2)},
    {DType::Q4_K, DType::Q4_K_R16, gemm_q4_K_r16_reference, AG_AVX512(gemm_q4_K_r16_avx512), AG_AVX2(gemm_q4_K_r16_avx2)},
    {DType::Q5_K, DType::Q5_K_R16, gemm_q5_K_r16_reference, AG_AVX512(gemm_q5_K_r16_avx512), AG_AVX2(gemm_q5_K_r16_avx2)},
    {DType::Q6_K, DType::Q6_K_R16, gemm_q6_K_r16_reference, AG_AVX512(gemm_q6_K_r16_avx512), AG_AVX2(gemm_q6_K_r16_avx2)},
    {DType::IQ4_XS, DType::IQ4_XS_R16, gemm_iq4_xs_r16_reference, AG_AVX512(gemm_iq4_xs_r16_avx512),
     AG_AVX2(gemm_iq4_xs_r16_avx2)},
    {DType::F32, DType::F32_R16, gemm_f32_r16_reference, AG_AVX512(gemm_f32_r16_avx512), AG_AVX2(gemm_f32_r16_avx2)},
    {DType::F16, DType::F16_R16, gemm_f16_r16_reference, AG_AVX512(gemm_f16_r16_avx512), AG_AVX2(gemm_f16_r16_avx2)},
    {DType::BF16, DType::BF16_R16P, gemm_bf16_r16p_reference, AG_AVX512(gemm_bf16_r16p_avx512), nullptr,
     bf16_pairs_chosen},
    {DType::BF16, DType::BF16_R16, gemm_bf16_r16_reference, AG_AVX512(gemm_bf16_r16_avx512), AG_AVX2(gemm_bf16_r16_avx2)},
};
#undef AG_AVX512
#undef AG_AVX2

const PackedLayout* layout_of_packed(DType packed) {
  for (const PackedLayout& l : kLayouts) {
    if (l.packed == packed) return &l;
  }
  return nullptr;
}
}  // namespace

bool is_packed_type(DType t) { return layout_of_packed(t) != nullptr; }

DType source_of_packed(DType packed) {
  AG_CHECK(is_packed_type(packed));
  return layout_of_packed(packed)->source;
}

namespace {
const PackedLayout* layout_of_source(DType source) {
  for (const PackedLayout& l : kLayouts) {
    if (l.source == source && (l.chosen == nullptr || l.chosen())) return &l;
  }
  return nullptr;
}
}  // namespace

bool should_pack(const Tensor& w) {
  const PackedLayout* l = layout_of_source(w.dtype());
  // Columns by 32: the float layouts' AVX2 kernel takes 8 at a time (the block types hold 32
  // or 256 anyway).
  if (l == nullptr || w.ndim() != 2 || w.rows() % kPackRows != 0 || w.rows() == 0 || w.cols() % 32 != 0) {
    return false;
  }
  const DType p = l->packed;
  // Only where a SIMD kernel exists: the scalar reference is slower than the row kernels.
  return active_isa() != Isa::kScalar && packed_gemm_for(p, active_isa()) != nullptr;
}

Tensor pack_matrix(const Tensor& w) {
  const PackedLayout* l = layout_of_source(w.dtype());
  AG_CHECK(l != nullptr && w.ndim() == 2 && w.rows() % kPackRows == 0);
  const DType p = l->packed;
  if (p == DType::Q4_K_R16 || p == DType::Q5_K_R16) return pack_q45_K_r16(w);
  if (p == DType::Q6_K_R16) return pack_q6_K_r16(w);
  if (p == DType::IQ4_XS_R16) return pack_iq4_xs_r16(w);
  if (p == DType::Q2_K_R16) return pack_q2_K_r16(w);
  if (is_float_r16(p)) return pack_float_r16(w, p);
  if (p == DType::Q3_K_R16) return pack_q3_K_r16(w);
  const int64_t m = w.rows(), k = w.cols(), nb = k / quant::kQK;
  Tensor out = Tensor::empty_weight(p, w.shape());
  uint8_t* dst = static_cast<uint8_t*>(out.data());
  const size_t bb = packed_block_bytes(p);
  for (int64_t g = 0; g < m / kPackRows; ++g) {
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* blk = dst + static_cast<size_t>(g * nb + b) * bb;
      if (has_fifth_bits(p)) std::memset(blk + quants_offset(p) + 4 * 64, 0, 64);  // the rows OR their bits in
      for (int i = 0; i < kPackRows; ++i) {
        const uint8_t* src_row = w.row_ptr(g * kPackRows + i);
        if (p != DType::Q8_0_R16) {
          pack_legacy_row(p, legacy_block(w.dtype(), src_row, b), i, blk);
          continue;
        }
        const auto* s = reinterpret_cast<const block_q8_0*>(src_row) + b;
        std::memcpy(blk + 2 * i, &s->d, 2);
        uint8_t* q = blk + kScaleBytes;
        for (int j = 0; j < 8; ++j) {  // 4 columns at a time, each byte q -> q + 128
          uint32_t v;
          std::memcpy(&v, s->qs + 4 * j, 4);
          v ^= 0x80808080u;
          std::memcpy(q + 64 * j + 4 * i, &v, 4);
        }
      }
    }
  }
  return out;
}

Tensor pair_row_groups(const Tensor& gate, const Tensor& up) {
  static_assert(graph::kSwiGLUPairCols == kPackRows, "a packed group must be all gate or all up rows");
  AG_CHECK(gate.dtype() == up.dtype() && gate.shape() == up.shape() && gate.ndim() == 2 && gate.rows() % kPackRows == 0);
  const int64_t m = gate.rows();
  // Tensor::empty, not a weight chunk: it is packed and freed next.
  Tensor both = Tensor::empty(gate.dtype(), {2 * m, gate.cols()});
  const size_t run = static_cast<size_t>(kPackRows) * gate.row_bytes();
  for (int64_t r = 0; r < m; r += kPackRows) {
    std::memcpy(both.row_ptr(2 * r), gate.row_ptr(r), run);
    std::memcpy(both.row_ptr(2 * r + kPackRows), up.row_ptr(r), run);
  }
  return both;
}

void dequantize_packed_row(const Tensor& packed, int64_t r, float* out) {
  const DType p = packed.dtype();
  AG_CHECK(is_packed_type(p) && r >= 0 && r < packed.rows());
  if (p == DType::Q4_K_R16 || p == DType::Q5_K_R16) return dequantize_q45_K_r16_row(packed, r, out);
  if (p == DType::Q6_K_R16) return dequantize_q6_K_r16_row(packed, r, out);
  if (p == DType::IQ4_XS_R16) return dequantize_iq4_xs_r16_row(packed, r, out);
  if (p == DType::Q2_K_R16) return dequantize_q2_K_r16_row(packed, r, out);
  if (is_float_r16(p)) return dequantize_float_r16_row(packed, r, out);
  if (p == DType::Q3_K_R16) return dequantize_q3_K_r16_row(packed, r, out);
  const int64_t nb = packed.cols() / quant::kQK, g = r / kPackRows;
  const int i = static_cast<int>(r % kPackRows);
  const size_t bb = packed_block_bytes(p);
  const int off = weight_offset(p);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = static_cast<const uint8_t*>(packed.data()) + static_cast<size_t>(g * nb + b) * bb;
    const float d = scale_of(blk, i);
    if (has_min(p)) {  // the reference dequantizers' arithmetic: q * d + m
      const float mn = min_of(blk, i);
      for (int c = 0; c < quant::kQK; ++c) out[b * quant::kQK + c] = static_cast<float>(weight_u(p, blk, i, c)) * d + mn;
      continue;
    }
    for (int c = 0; c < quant::kQK; ++c) {
      out[b * quant::kQK + c] = static_cast<float>(weight_u(p, blk, i, c) - off) * d;
    }
  }
}

Status prepare_packed_activations(const Tensor& x, PackedActivations& act, ThreadPool& pool, DType packed) {
  if (packed == DType::Q3_K_R16 || packed == DType::Q4_K_R16 || packed == DType::Q5_K_R16 ||
      packed == DType::Q6_K_R16 || packed == DType::IQ4_XS_R16 || packed == DType::Q2_K_R16 ||
      packed == DType::LATTICE_R16) {
    return prepare_q8_K_activations(x, act, pool, packed);
  }
  if (packed == DType::F32_R16 || packed == DType::F16_R16 || packed == DType::BF16_R16) {
    return prepare_float_activations(x, act, pool);
  }
  if (packed == DType::BF16_R16P) return prepare_bf16_activations(x, act, pool);
  const int64_t n = x.rows(), k = x.cols();
  if (k % quant::kQK != 0) return Unsupported("matmul: row length " + std::to_string(k) + " is not a multiple of 32");
  const MatmulKernels* q8 = cpu_kernels_for(DType::Q8_0);
  AG_CHECK(q8 != nullptr && q8->quantize_act != nullptr);
  act.n = n;
  act.nb = k / quant::kQK;
  act.q.resize(static_cast<size_t>(n * act.nb) * sizeof(block_q8_0));
  act.d.resize(static_cast<size_t>(n * act.nb));
  act.sum.resize(static_cast<size_t>(n * act.nb));
  act.bias.resize(static_cast<size_t>(n * act.nb));
  act.dsum.resize(has_min(packed) ? static_cast<size_t>(n * act.nb) : 0);
  const int32_t off = weight_offset(packed);
  const bool mins = has_min(packed);
  const float* xf = x.data_as<float>();
  pool.parallel_for(n, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      uint8_t* row = act.q.data() + static_cast<size_t>(t * act.nb) * sizeof(block_q8_0);
      q8->quantize_act(xf + t * k, row, k);
      const auto* blocks = reinterpret_cast<const block_q8_0*>(row);
      for (int64_t b = 0; b < act.nb; ++b) {
        int32_t s = 0;
        for (int c = 0; c < quant::kQK; ++c) s += blocks[b].qs[c];
        act.d[static_cast<size_t>(t * act.nb + b)] = quant::fp16_to_fp32(blocks[b].d);
        act.sum[static_cast<size_t>(t * act.nb + b)] = s;
        act.bias[static_cast<size_t>(t * act.nb + b)] = -off * s;
        if (mins) act.dsum[static_cast<size_t>(t * act.nb + b)] = act.d[static_cast<size_t>(t * act.nb + b)] * static_cast<float>(s);
      }
    }
  }, grain_for(k));
  return Status::OK();
}

void packed_gemm_reference(DType packed, int64_t nb, const uint8_t* wgroup, const PackedActivations& act,
                           int64_t t0, int64_t nt, float* y, int64_t ldy) {
  if (packed == DType::Q4_K_R16) return gemm_q4_K_r16_reference(nb, wgroup, act, t0, nt, y, ldy);
  if (packed == DType::Q5_K_R16) return gemm_q5_K_r16_reference(nb, wgroup, act, t0, nt, y, ldy);
  if (packed == DType::Q6_K_R16) return gemm_q6_K_r16_reference(nb, wgroup, act, t0, nt, y, ldy);
  if (packed == DType::IQ4_XS_R16) return gemm_iq4_xs_r16_reference(nb, wgroup, act, t0, nt, y, ldy);
  if (packed == DType::Q2_K_R16) return gemm_q2_K_r16_reference(nb, wgroup, act, t0, nt, y, ldy);
  if (packed == DType::F32_R16) return gemm_f32_r16_reference(nb, wgroup, act, t0, nt, y, ldy);
  if (packed == DType::F16_R16) return gemm_f16_r16_reference(nb, wgroup, act, t0, nt, y, ldy);
  if (packed == DType::BF16_R16) return gemm_bf16_r16_reference(nb, wgroup, act, t0, nt, y, ldy);
  if (packed == DType::BF16_R16P) return gemm_bf16_r16p_reference(nb, wgroup, act, t0, nt, y, ldy);
  if (packed == DType::Q3_K_R16) return gemm_q3_K_r16_reference(nb, wgroup, act, t0, nt, y, ldy);
  const size_t bb = packed_block_bytes(packed);
  const int off = weight_offset(packed);
  for (int64_t t = 0; t < nt; ++t) {
    const auto* a = reinterpret_cast<const block_q8_0*>(act.row(t0 + t));
    for (int i = 0; i < kPackRows; ++i) {
      float acc = 0.0f;
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = wgroup + static_cast<size_t>(b) * bb;
        int32_t isum = -off * act.sum[static_cast<size_t>((t0 + t) * act.nb + b)];
        for (int c = 0; c < quant::kQK; ++c) isum += weight_u(packed, blk, i, c) * a[b].qs[c];
        // The SIMD kernels' arithmetic exactly: scale product rounded to f32, then one fma (and
        // for Q4_1 / Q5_1 one more: the min times the activation block's d * sum).
        const size_t si = static_cast<size_t>((t0 + t) * act.nb + b);
        acc = std::fma(static_cast<float>(isum), scale_of(blk, i) * act.d[si], acc);
        if (has_min(packed)) acc = std::fma(min_of(blk, i), act.dsum[si], acc);
      }
      y[t * ldy + i] = acc;
    }
  }
}


PackedGemmFn packed_amx_gemm_for(DType packed) {
#if defined(AUTOGLM_HAVE_AMX_KERNELS)
  if (!simd::cpu_has_amx_int8()) return nullptr;
  switch (packed) {
    case DType::Q4_0_R16: return simd::gemm_q4_0_r16_amx;
    case DType::Q5_0_R16: return simd::gemm_q5_0_r16_amx;
    case DType::Q4_1_R16: return simd::gemm_q4_1_r16_amx;
    case DType::Q5_1_R16: return simd::gemm_q5_1_r16_amx;
    case DType::IQ4_NL_R16: return simd::gemm_iq4_nl_r16_amx;
    case DType::Q4_K_R16: return simd::gemm_q4_K_r16_amx;
    case DType::Q5_K_R16: return simd::gemm_q5_K_r16_amx;
    case DType::Q6_K_R16: return simd::gemm_q6_K_r16_amx;
    case DType::IQ4_XS_R16: return simd::gemm_iq4_xs_r16_amx;
    default: return nullptr;
  }
#else
  (void)packed;
  return nullptr;
#endif
}

bool packed_amx_active() {
#if defined(AUTOGLM_HAVE_AMX_KERNELS)
  static const bool on = [] {
    const char* env = std::getenv("AUTOGLM_AMX");
    const bool allowed = env == nullptr || std::strcmp(env, "0") != 0;
    return allowed && active_isa() == Isa::kAvx512 && simd::cpu_has_amx_int8();
  }();
  return on;
#else
  return false;
#endif
}

PackedGemmFn packed_avx_vnni_gemm_for(DType packed) {
#if defined(AUTOGLM_HAVE_AVXVNNI_KERNELS)
  if (!isa_available(Isa::kAvx2) || !simd::cpu_has_avx_vnni()) return nullptr;
  switch (packed) {
    case DType::Q8_0_R16: return simd::gemm_q8_0_r16_avxvnni;
    case DType::Q4_0_R16: return simd::gemm_q4_0_r16_avxvnni;
    case DType::Q5_0_R16: return simd::gemm_q5_0_r16_avxvnni;
    case DType::Q4_1_R16: return simd::gemm_q4_1_r16_avxvnni;
    case DType::Q5_1_R16: return simd::gemm_q5_1_r16_avxvnni;
    case DType::IQ4_NL_R16: return simd::gemm_iq4_nl_r16_avxvnni;
    case DType::Q4_K_R16: return simd::gemm_q4_K_r16_avxvnni;
    case DType::Q5_K_R16: return simd::gemm_q5_K_r16_avxvnni;
    case DType::Q2_K_R16: return simd::gemm_q2_K_r16_avxvnni;
    case DType::Q3_K_R16: return simd::gemm_q3_K_r16_avxvnni;
    case DType::Q6_K_R16: return simd::gemm_q6_K_r16_avxvnni;
    case DType::IQ4_XS_R16: return simd::gemm_iq4_xs_r16_avxvnni;
    default: return nullptr;
  }
#else
  (void)packed;
  return nullptr;
#endif
}

bool packed_avx_vnni_active() {
  static const bool on = [] {
    const char* env = std::getenv("AUTOGLM_AVX_VNNI");
    const bool allowed = env == nullptr || std::strcmp(env, "0") != 0;
    return allowed && active_isa() == Isa::kAvx2 && packed_avx_vnni_gemm_for(DType::Q4_0_R16) != nullptr;
  }();
  return on;
}

PackedGemmFn packed_gemm_active(DType packed) {
  if (packed_amx_active()) {
    if (const PackedGemmFn f = packed_amx_gemm_for(packed)) return f;
  }
  if (packed_avx_vnni_active()) {
    if (const PackedGemmFn f = packed_avx_vnni_gemm_for(packed)) return f;
  }
  if (const PackedGemmFn f = packed_gemm_for(packed, active_isa())) return f;
  return packed_gemm_for(packed, Isa::kScalar);
}

PackedGemmFn packed_gemm_for(DType packed, Isa isa) {
  const PackedLayout* l = layout_of_packed(packed);
  if (l == nullptr || !isa_available(isa)) return nullptr;
  switch (isa) {
    case Isa::kScalar: return l->reference;
    case Isa::kAvx512: return packed == DType::BF16_R16P && !cpu_runs_bf16_pairs() ? nullptr : l->avx512;
    case Isa::kAvx2: return l->avx2;
    case Isa::kNeon: return nullptr;  // no NEON kernel: such CPUs keep the row layout
  }
  return nullptr;
}

PackedGemmPairFn packed_pair_gemm_active(DType packed) {
  if (packed_gemm_active(packed) != packed_gemm_for(packed, active_isa())) return nullptr;
  return packed_pair_gemm_for(packed, active_isa());
}

PackedGemmPairFn packed_pair_gemm_for(DType packed, Isa isa) {
#if defined(AUTOGLM_HAVE_AVX512_KERNELS)
  if (isa != Isa::kAvx512 || !isa_available(isa)) return nullptr;
  switch (packed) {
    case DType::F32_R16: return simd::gemm_f32_r16_pair_avx512;
    case DType::F16_R16: return simd::gemm_f16_r16_pair_avx512;
    case DType::BF16_R16: return simd::gemm_bf16_r16_pair_avx512;
    default: return nullptr;
  }
#else
  (void)packed;
  (void)isa;
  return nullptr;
#endif
}

}  // namespace autoglm::cpu
