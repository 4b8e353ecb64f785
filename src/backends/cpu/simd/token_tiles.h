// Running a register-tile kernel over any number of tokens: whole tiles of kTile tokens, then
// one tile of the remainder, every tile size a compile-time constant so the kernel's per-token
// accumulators stay in registers. Shared by the packed matmul kernels (gemm_*_avx512.cpp).
#pragma once

#include <cstdint>
#include <type_traits>

namespace autoglm::cpu::simd {

namespace detail {
template <int N, class F>
inline void token_tail(int64_t rest, int64_t t, F& run) {
  if constexpr (N > 0) {
    if (rest == N) {
      run(std::integral_constant<int, N>{}, t);
    } else {
      token_tail<N - 1>(rest, t, run);
    }
  }
}
}  // namespace detail

// Calls run(std::integral_constant<int, n>{}, t) for one tile of n (1 <= n <= kMax) tokens at t.
template <int kMax, class F>
inline void run_token_tile(int64_t n, int64_t t, F&& run) {
  detail::token_tail<kMax>(n, t, run);
}

// Calls run(std::integral_constant<int, NT>{}, t) for tiles of NT tokens starting at t.
template <int kTile, class F>
inline void for_token_tiles(int64_t nt, F&& run) {
  int64_t t = 0;
  for (; t + kTile <= nt; t += kTile) run(std::integral_constant<int, kTile>{}, t);
  detail::token_tail<kTile - 1>(nt - t, t, run);
}

}  // namespace autoglm::cpu::simd
