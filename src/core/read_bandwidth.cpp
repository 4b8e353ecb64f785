// The memory read-bandwidth probe behind `autoglm bench`'s roofline and bench_kernels --stream
// (core/read_bandwidth.h).
#include "core/read_bandwidth.h"

#include "core/large_buffer.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace autoglm {
namespace {

using Clock = std::chrono::steady_clock;

// One thread's share of the probe: the sum of buf[b, e). The wide variant reads 256 bytes per
// iteration with 512-bit loads and prefetches 8 KiB ahead, like the packed matmul kernels;
// the plain one is what any compiler makes of a scalar loop. Both are timed and the best wins.
#if defined(__x86_64__)
__attribute__((target("avx512f"))) uint64_t sum_wide(const uint64_t* buf, size_t b, size_t e, size_t n) {
  __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512(), s2 = _mm512_setzero_si512(),
          s3 = _mm512_setzero_si512();
  size_t i = b;
  for (; i + 32 <= e; i += 32) {
    _mm_prefetch(reinterpret_cast<const char*>(buf + std::min(i + 1024, n - 1)), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(buf + std::min(i + 1024 + 8, n - 1)), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(buf + std::min(i + 1024 + 16, n - 1)), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(buf + std::min(i + 1024 + 24, n - 1)), _MM_HINT_T0);
    s0 = _mm512_add_epi64(s0, _mm512_loadu_si512(buf + i));
    s1 = _mm512_add_epi64(s1, _mm512_loadu_si512(buf + i + 8));
    s2 = _mm512_add_epi64(s2, _mm512_loadu_si512(buf + i + 16));
    s3 = _mm512_add_epi64(s3, _mm512_loadu_si512(buf + i + 24));
  }
  // Lanes summed through memory: GCC 12 flags _mm512_reduce_add_epi64's internals as
  // uninitialized in debug builds.
  uint64_t lanes[8];
  _mm512_storeu_si512(lanes, _mm512_add_epi64(_mm512_add_epi64(s0, s1), _mm512_add_epi64(s2, s3)));
  uint64_t s = 0;
  for (uint64_t x : lanes) s += x;
  for (; i < e; ++i) s += buf[i];
  return s;
}
#endif

uint64_t sum_plain(const uint64_t* buf, size_t b, size_t e) {
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = b;
  for (; i + 4 <= e; i += 4) {
    s0 += buf[i];
    s1 += buf[i + 1];
    s2 += buf[i + 2];
    s3 += buf[i + 3];
  }
  for (; i < e; ++i) s0 += buf[i];
  return s0 + s1 + s2 + s3;
}

}  // namespace

double measure_read_bandwidth(int threads) {
  const size_t n = (size_t{512} << 20) / sizeof(uint64_t);
  // Allocated as the weights are (huge pages where they get them), so the roofline is what the
  // decode's own buffers could reach.
  std::shared_ptr<void> mem = allocate_large_buffer(n * sizeof(uint64_t));
  if (mem == nullptr) return 0;
  auto* buf = static_cast<uint64_t*>(mem.get());
  for (size_t i = 0; i < n; ++i) buf[i] = i;
  bool wide_ok = false;
#if defined(__x86_64__)
  wide_ok = __builtin_cpu_supports("avx512f");
#endif
  double best = 0;
  for (int pass = 0; pass < 12; ++pass) {
    [[maybe_unused]] const bool wide = wide_ok && pass % 2 == 1;  // x86 only
    std::vector<uint64_t> sums(static_cast<size_t>(threads));
    const auto t0 = Clock::now();
    std::vector<std::thread> th;
    for (int t = 0; t < threads; ++t) {
      th.emplace_back([&, t] {
        const size_t b = n * static_cast<size_t>(t) / static_cast<size_t>(threads);
        const size_t e = n * static_cast<size_t>(t + 1) / static_cast<size_t>(threads);
#if defined(__x86_64__)
        sums[static_cast<size_t>(t)] = wide ? sum_wide(buf, b, e, n) : sum_plain(buf, b, e);
#else
        sums[static_cast<size_t>(t)] = sum_plain(buf, b, e);
#endif
      });
    }
    for (auto& x : th) x.join();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    uint64_t check = 0;
    for (uint64_t x : sums) check += x;
    if (check != (n - 1) * n / 2) std::fputs("bandwidth probe: wrong sum\n", stderr);  // keeps the sums live
    if (pass > 1) best = std::max(best, static_cast<double>(n * sizeof(uint64_t)) / s / 1e9);
  }
  return best;
}

}  // namespace autoglm
