// AVX-512 (F/BW/VL/DQ) + VNNI row kernels: 512-bit float loops and vpdpbusd integer dots
// (compiled with the AVX-512 flags of src/CMakeLists.txt; used only after
// cpu_has_avx512_vnni() said yes). The code is in kernels_x86.inc.h, shared with AVX2.
// GCC 12 reports its own _mm512_undefined_* helpers as (maybe-)uninitialized when inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#define AG_SIMD_NS avx512
#define AG_SIMD_512 1
#include "backends/cpu/simd/kernels_x86.inc.h"

namespace autoglm::cpu::simd {
const IsaKernels& avx512_kernels() { return avx512::kernels(); }
}  // namespace autoglm::cpu::simd
