// The check every packed layout's tests share: each ISA's kernel against the scalar reference.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/packed.h"

namespace autoglm::cpu::testing {

// Every ISA's kernel for the packed matrix w against the scalar packed reference, bit for bit,
// on act's tokens (prepared for w's type): token 0 alone, then the rest from token 1, since the
// kernels index activations by t0. `what` names the case in a failure. Returns how many kernels
// ran, the scalar reference's included.
inline int expect_isa_kernels_equal_reference(const Tensor& w, const PackedActivations& act, const std::string& what) {
  const int64_t n = act.n, m = w.rows();
  const size_t gb = packed_group_bytes(w.dtype(), w.cols());
  const auto* wp = static_cast<const uint8_t*>(w.data());
  std::vector<float> ref(static_cast<size_t>(n * m)), got(static_cast<size_t>(n * m));
  for (int64_t g = 0; g < m / kPackRows; ++g) {
    packed_gemm_reference(w.dtype(), act.nb, wp + g * gb, act, 0, n, ref.data() + g * kPackRows, m);
  }
  int checked = 0;
  // i == kNumIsas: the AMX form, kNumIsas + 1: the AVX-VNNI form, where this CPU has them.
  for (int i = 0; i <= kNumIsas + 1; ++i) {
    const PackedGemmFn f = i < kNumIsas    ? packed_gemm_for(w.dtype(), static_cast<Isa>(i))
                           : i == kNumIsas ? packed_amx_gemm_for(w.dtype())
                                           : packed_avx_vnni_gemm_for(w.dtype());
    if (f == nullptr) continue;
    ++checked;
    std::fill(got.begin(), got.end(), -1.0f);
    for (int64_t g = 0; g < m / kPackRows; ++g) {
      f(act.nb, wp + g * gb, act, 0, 1, got.data() + g * kPackRows, m);
      if (n > 1) f(act.nb, wp + g * gb, act, 1, n - 1, got.data() + m + g * kPackRows, m);
    }
    EXPECT_EQ(std::memcmp(got.data(), ref.data(), got.size() * sizeof(float)), 0)
        << what << " " << dtype_name(w.dtype()) << " isa " << (i < kNumIsas ? isa_name(static_cast<Isa>(i)) : i == kNumIsas ? "amx" : "avx-vnni")
        << " n=" << n;
  }
  return checked;
}

}  // namespace autoglm::cpu::testing
