// AVX-512 attention kernels (one 512-bit register per 16-key chunk); used only after
// isa_available(Isa::kAvx512). The code is in attention_x86.inc.h / attention_block.inc.h.
// GCC 12 reports its own _mm512_undefined_* helpers as (maybe-)uninitialized when inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#define AG_ATTN_NS attn_avx512
#define AG_ATTN_512 1
#include "backends/cpu/simd/attention_x86.inc.h"

namespace autoglm::cpu::simd {
const AttnKernels& avx512_attn_kernels() { return attn_avx512::kernels(); }
}  // namespace autoglm::cpu::simd
