// AVX2 + FMA + F16C row kernels (compiled with -mavx2 -mfma -mf16c; used only after
// cpu_has_avx2_fma() said yes). The code is in kernels_x86.inc.h, shared with AVX-512.
#define AG_SIMD_NS avx2
#include "backends/cpu/simd/kernels_x86.inc.h"

namespace autoglm::cpu::simd {
const IsaKernels& avx2_kernels() { return avx2::kernels(); }
}  // namespace autoglm::cpu::simd
