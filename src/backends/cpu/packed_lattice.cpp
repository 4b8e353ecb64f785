// LATTICE_R16 groups for the lattice types' prefill and batched decode (packed_lattice.h).
#include "backends/cpu/packed_lattice.h"

#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/simd/simd.h"
#include "core/check.h"
#include "quant/blocks.h"

namespace autoglm::cpu {

bool lattice_tiles_for(DType t) {
#if defined(AUTOGLM_HAVE_AVX512_KERNELS)
  return quant::is_lattice_type(t) && active_isa() == Isa::kAvx512;
#else
  (void)t;
  return false;
#endif
}

Result<const PackedActivations*> prepare_lattice_activations(const Tensor& x, ThreadPool& pool) {
  thread_local PackedActivations scratch;  // the pool's workers read the caller's copy through the pointer
  AG_RETURN_IF_ERROR(prepare_packed_activations(x, scratch, pool, DType::LATTICE_R16));
  return &scratch;
}

void lattice_group(const Tensor& w, int64_t g, const PackedActivations& act, int64_t t0, int64_t nt, float* y,
                   int64_t ldy) {
#if defined(AUTOGLM_HAVE_AVX512_KERNELS)
  AG_CHECK(lattice_tiles_for(w.dtype()) && w.cols() % 256 == 0 && (g + 1) * kPackRows <= w.rows());
  const int64_t nsb = w.cols() / 256;
  thread_local std::vector<uint8_t> group;  // one group of this call, in cache for the tile
  group.resize(static_cast<size_t>(nsb) * kLatticeR16Bytes);
  simd::avx512_kernels().pack_lattice_group(w.dtype(), w.cols(), w.row_ptr(g * kPackRows), w.row_bytes(),
                                            group.data());
  simd::gemm_lattice_r16_avx512(nsb, group.data(), act, t0, nt, y, ldy);
  const float factor = quant::lattice_row_factor(w.dtype());
  if (factor == 1.0f) return;
  for (int64_t t = 0; t < nt; ++t) {
    for (int64_t i = 0; i < kPackRows; ++i) y[t * ldy + i] *= factor;
  }
#else
  (void)w, (void)g, (void)act, (void)t0, (void)nt, (void)y, (void)ldy;
  AG_CHECK(false);
#endif
}

}  // namespace autoglm::cpu
