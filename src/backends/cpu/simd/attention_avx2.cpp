// AVX2 + FMA + F16C attention kernels (two 256-bit halves per 16-key chunk); used only after
// isa_available(Isa::kAvx2). The code is in attention_x86.inc.h / attention_block.inc.h.
#define AG_ATTN_NS attn_avx2
#include "backends/cpu/simd/attention_x86.inc.h"

namespace autoglm::cpu::simd {
const AttnKernels& avx2_attn_kernels() { return attn_avx2::kernels(); }
}  // namespace autoglm::cpu::simd
