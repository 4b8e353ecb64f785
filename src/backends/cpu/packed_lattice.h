// Prefill and batched decode of the lattice types (IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS,
// IQ3_S) on AVX-512: each group of 16 weight rows is decoded, for the call, into LATTICE_R16, a
// 16-row interleaved layout of plain bytes that the K-quant VNNI tile (gemm_q36k_r16_avx512.cpp)
// works like Q6_K_R16. The matrices themselves stay in the file's layout, so decode reads the
// file's few bits per weight.
//
// LATTICE_R16, per group of 16 rows and 256-column super-block, 4384 bytes:
//   [0, 32)      16 f16 d (row 0..15; IQ1_M's reassembled)
//   [32, 288)    byte 16j + i: the odd factor 2 s + 1 of row i's 16-column sub-block j
//   [288, 4384)  for unit j (32 columns) 8 chunks of 64 bytes; in chunk c, byte 4i + t holds row
//                i's column 32j + 4c + t as w + 64, w the signed integer weight (grid times sign,
//                IQ1: 8 * grid + delta_sign), so 2..126.
// Per row and super-block the product is d * dy * sum_j ls_j * (dot_j(w + 64, y) - 64 * ysum_j),
// exact in int32 (the -64 * ysum_j terms from PackedActivations::bias), then the row's sum times
// the type's power of two: the same integer and float steps as the row dots, so the same bits.
#pragma once

#include <cstdint>

#include "backends/cpu/packed.h"
#include "autoglm/status.h"
#include "core/tensor.h"
#include "core/thread_pool.h"

namespace autoglm::cpu {

inline constexpr size_t kLatticeR16Bytes = 4384;
inline constexpr size_t kLatticeR16ScalesOff = 32, kLatticeR16QOff = 288;
inline constexpr int32_t kLatticeR16Offset = 64;
// From this many tokens a row group is decoded for the tile (below, the row dots' several-token form).
inline constexpr int64_t kLatticeTileMinTokens = 8;

// Whether matrices of type t run through LATTICE_R16 tiles here (a lattice type, AVX-512 active).
bool lattice_tiles_for(DType t);
// x's rows as Q8_K with LATTICE_R16's per-sub-block offsets, in this thread's reused scratch.
Result<const PackedActivations*> prepare_lattice_activations(const Tensor& x, ThreadPool& pool);

// Rows [16 g, 16 g + 16) of the lattice matrix w against act's nt tokens from t0 (act prepared
// for LATTICE_R16): y[t * ldy + i].
void lattice_group(const Tensor& w, int64_t g, const PackedActivations& act, int64_t t0, int64_t nt, float* y,
                   int64_t ldy);

namespace simd {
void gemm_lattice_r16_avx512(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                             float* y, int64_t ldy);
}  // namespace simd

}  // namespace autoglm::cpu
