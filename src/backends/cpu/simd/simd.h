// ISA-specific kernels, compiled with their own target flags (src/CMakeLists.txt) and
// selected at run time by the portable callers after checking the CPU's features.
#pragma once

#include <cstdint>

namespace autoglm::cpu::simd {

bool cpu_has_avx2_fma();
bool cpu_has_avx512f();

float dot_f32_avx2(const float* a, const float* b, int64_t n);

}  // namespace autoglm::cpu::simd
