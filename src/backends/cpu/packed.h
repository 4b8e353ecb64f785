// Pre-packed weight layouts for the CPU matmul: Q8_0, Q4_0, Q5_0, Q4_1, Q5_1 and IQ4_NL matrices
// with 16 rows interleaved (the K-quant, IQ4_XS and float layouts have headers of their own,
// named below; all are reached through this file's entry points).
//
// Why: a row-at-a-time dot product ends every row with a horizontal reduction and re-reads each
// activation block once per weight row. With 16 rows interleaved, one 512-bit register holds
// the same 4 columns of 16 rows, so vpdpbusd against one broadcast 4-byte activation group
// advances 16 outputs at once, and a tile of tokens shares every weight load (prefill, batched
// decode). Decode reads exactly the bytes of the source format.
//
// Layout of Q8_0_R16 / Q4_0_R16 / Q5_0_R16 (rows must be a multiple of 16): for each group of 16 rows,
// for each 32-column block b, one packed block:
//   Q8_0_R16: 16 f16 scales (row 0..15), then 8 chunks of 64 bytes; chunk j holds, for row i,
//             bytes [4i, 4i+4) = columns 4j..4j+3 of row i, each stored as q + 128 (unsigned).
//   Q4_0_R16: 16 f16 scales, then 4 chunks of 64 bytes; in chunk c, byte 4i+t holds row i's
//             column 4c+t in its low nibble and column 16+4c+t in its high nibble (values
//             0..15, i.e. q + 8 as in Q4_0 itself).
//   Q5_0_R16: Q4_0_R16's 16 scales and 4 chunks of low nibbles, then one chunk of 64 bytes of
//             fifth bits: of the 8 registers of unpacked columns (j < 4: chunk j's low
//             nibbles, j >= 4: chunk j-4's high ones), byte 4i+t of register j is >= 16 where
//             bit j of byte 4i+t is set. Values 0..31, i.e. q + 16 as in Q5_0;
//             22 bytes per row and block, as Q5_0 (real Q4_K_M files hold it wherever a row
//             length is not a multiple of 256: SmolLM2's 576, Qwen2.5's 896).
//   IQ4_NL_R16: Q4_0_R16's bytes from IQ4_NL blocks; the nibbles index quant::kIQ4Values, as
//             unsigned weights kIQ4Values[q] + 128 (offset 128, as Q8_0_R16).
//   Q4_1_R16 / Q5_1_R16: as Q4_0_R16 / Q5_0_R16 with the 16 rows' f16 mins after their scales
//             (quants 32 bytes later); values 0..15 / 0..31 unsigned, value = q * d + m (20 /
//             24 bytes per row and block, as Q4_1 / Q5_1; Q5_K_M files hold Q5_1 where Q4_K_M
//             ones hold Q5_0).
// The unsigned weights meet signed Q8_0 activations; the offset (128, 8, 16; 0 for Q4_1 / Q5_1) times the sum of the
// activation block is subtracted exactly in integers, so each block's integer dot equals the
// reference's.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "autoglm/status.h"
#include "backends/cpu/kernels.h"
#include "core/tensor.h"
#include "quant/half.h"

namespace autoglm::cpu {

inline constexpr int64_t kPackRows = 16;

// Whether t is one of the packed layouts (this file's 32-column ones; packed_q3k.h, packed_q4k.h,
// packed_q6k.h, packed_iq4xs.h: the 256-column ones; packed_float.h: F32 / F16 / BF16), and the
// source type each interleaves.
bool is_packed_type(DType t);
DType source_of_packed(DType packed);
// Whether pack_matrix() would pack w for the active ISA (type has a layout, rows % 16 == 0,
// columns % 32 == 0, the ISA has a packed kernel).
bool should_pack(const Tensor& w);
// An owned packed copy of w (any type with a layout; should_pack(w) said yes).
Tensor pack_matrix(const Tensor& w);
// gate and up ([m, k] each, one type, m % 16 == 0) as one [2m, k] matrix whose 16-row groups
// alternate: rows 16i.. of gate, then the same rows of up (graph::kSwiGLUPaired's order). Packed,
// it is matmul_swiglu_paired's weight; unpacked copy, freed by the caller once packed.
Tensor pair_row_groups(const Tensor& gate, const Tensor& up);
// Row r of a packed matrix as f32 (embedding lookups of a tied, packed table; tests).
void dequantize_packed_row(const Tensor& packed, int64_t r, float* out);

// Activations prepared for packed kernels: Q8_0 rows (bit-identical to the reference
// quantizer) plus, per token and block, the scale as f32 and the sum of the 32 quants.
struct PackedActivations {
  int64_t n = 0, nb = 0;
  std::vector<uint8_t> q;  // n rows of nb block_q8_0
  std::vector<float> d;    // [n, nb]
  std::vector<int32_t> sum;  // [n, nb]
  // [n, nb]: -offset * sum for the packed type prepared for (128 for Q8_0_R16, 8 for
  // Q4_0_R16, 16 for Q5_0_R16): where the SIMD kernels' integer dot starts, read with one
  // broadcast load. Q6_K_R16: [n, nb, 16], -32 * each 16-column sub-block's sum (packed_q6k.h).
  std::vector<int32_t> bias;
  // Q6_K_R16: [n, nb, 32], -32 * each 8-column group's sum (the AVX-512 kernel's int16 chains).
  std::vector<int32_t> bias8;
  // [n, nb], Q4_1_R16 / Q5_1_R16 only: d * sum as f32, which the weight block's min multiplies.
  std::vector<float> dsum;
  // Q4_K_R16 and Q6_K_R16: q holds Q8_K rows (nb super-blocks), d their scales; for Q4_K_R16
  // msum holds the sub-block sums the mins term needs (packed_q4k.h); sum is unused.
  std::vector<int32_t> msum;
  // F32_R16 / F16_R16 / BF16_R16: the f32 rows (nb = columns), ldx apart (packed_float.h).
  std::vector<float> xf;
  // BF16_R16P: the rows rounded to bf16, ldx apart.
  std::vector<uint16_t> xb;
  int64_t ldx = 0;
  const uint8_t* row(int64_t t) const { return q.data() + static_cast<size_t>(t * nb) * 34; }
};
// `packed` is the weight's type: Q4_K_R16 and Q6_K_R16 need Q8_K activations, the others Q8_0.
Status prepare_packed_activations(const Tensor& x, PackedActivations& act, ThreadPool& pool, DType packed);

// One row group against nt tokens: y[t * ldy + i] = dot(row 16g + i, token t0 + t) for
// i in [0, 16), t in [0, nt). `wgroup` points at the group's first packed block.
using PackedGemmFn = void (*)(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                              int64_t nt, float* y, int64_t ldy);
// The kernel for a packed type and ISA: the scalar reference for kScalar, nullptr when the ISA
// has none.
PackedGemmFn packed_gemm_for(DType packed, Isa isa);
// The AMX form of a packed type's kernel (16 tokens per tile, fewer on the AVX-512 kernel):
// nullptr unless the build has AMX kernels, the CPU and OS run them and the type has one.
PackedGemmFn packed_amx_gemm_for(DType packed);
// Whether the engine runs the AMX forms: the build and CPU have them, the active ISA is AVX-512
// and AUTOGLM_AMX is not 0.
bool packed_amx_active();
// The AVX-VNNI form of a layout's AVX2 kernel (Q8_0 / Q4_0 / Q5_0 / Q4_1 / Q5_1 / IQ4_NL _R16 and
// Q4_K_R16: vpdpbusd on 256-bit vectors): nullptr unless the build has them, the CPU runs
// AVX2 and AVX-VNNI and the type has one.
PackedGemmFn packed_avx_vnni_gemm_for(DType packed);
// Whether the engine runs the AVX-VNNI forms: they exist here, the active ISA is AVX2 (a CPU with
// AVX-512 runs its own kernels) and AUTOGLM_AVX_VNNI is not 0.
bool packed_avx_vnni_active();
// The kernel the engine runs: the AMX form where packed_amx_active() and the type has one, the
// AVX-VNNI form where packed_avx_vnni_active() and the type has one, else the active ISA's, else
// the scalar reference.
PackedGemmFn packed_gemm_active(DType packed);
// Two adjacent row groups (group g at wgroup, g + 1 right after it) against nt tokens, into y0
// and y1 (each as PackedGemmFn's y): the same results as two PackedGemmFn calls, bit for bit.
using PackedGemmPairFn = void (*)(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                                  int64_t nt, float* y0, float* y1, int64_t ldy);
// The pair kernel of a packed type and ISA (the float layouts' AVX-512 kernels), else nullptr.
PackedGemmPairFn packed_pair_gemm_for(DType packed, Isa isa);
// The pair kernel the engine runs beside packed_gemm_active(packed): the active ISA's, where
// that ISA's kernel is the one running, else nullptr.
PackedGemmPairFn packed_pair_gemm_active(DType packed);
// The scalar reference of the packed products, written for clarity.
void packed_gemm_reference(DType packed, int64_t nb, const uint8_t* wgroup, const PackedActivations& act,
                           int64_t t0, int64_t nt, float* y, int64_t ldy);

// The f16 at index i of p, as f32 (the 16 scales, mins or d that lead each packed block).
inline float f16_at(const uint8_t* p, int i) {
  uint16_t h;
  std::memcpy(&h, p + 2 * i, sizeof h);
  return quant::fp16_to_fp32(h);
}

// Bytes of one packed group of 16 rows with k columns.
inline size_t packed_group_bytes(DType packed, int64_t k) { return row_size(packed, k) * kPackRows; }

// One packed product's per-call state, shared by matmul_packed, matmul_swiglu_packed and
// matmul_cat: x's activations prepared for `packed` (in a buffer reused per calling thread:
// a fresh one per call page-faults), the active ISA's kernel (else the scalar reference) and
// the bytes of one row group. `act` points at the caller's buffer, so the pool's workers use it.
struct PackedCall {
  const PackedActivations* act = nullptr;
  PackedGemmFn gemm = nullptr;
  size_t group_bytes = 0;
  PackedGemmPairFn pair = nullptr;  // the active ISA's pair kernel, if the type has one
  // Row group g of the packed matrix w against tokens [t0, t0 + nt) into y (ldy apart).
  void group(const Tensor& w, int64_t g, int64_t t0, int64_t nt, float* y, int64_t ldy) const {
    gemm(act->nb, group_at(w, g), *act, t0, nt, y, ldy);
  }
  // Row groups g and g + 1 into y0 and y1: one pair kernel call where there is one.
  void two_groups(const Tensor& w, int64_t g, int64_t t0, int64_t nt, float* y0, float* y1, int64_t ldy) const {
    if (pair != nullptr) {
      pair(act->nb, group_at(w, g), *act, t0, nt, y0, y1, ldy);
    } else {
      group(w, g, t0, nt, y0, ldy);
      group(w, g + 1, t0, nt, y1, ldy);
    }
  }
  const uint8_t* group_at(const Tensor& w, int64_t g) const {
    return static_cast<const uint8_t*>(w.data()) + static_cast<size_t>(g) * group_bytes;
  }
};
Result<PackedCall> begin_packed_call(const Tensor& x, DType packed, ThreadPool& pool);

}  // namespace autoglm::cpu
