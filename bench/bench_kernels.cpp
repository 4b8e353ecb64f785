// Kernel micro-benchmark: the packed matmul kernels (Q8_0, Q4_0, Q5_0, Q4_1, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS, F16, BF16 _R16) of the active
// ISA on one thread, against a tile of T tokens, with the weights resident in L2 so the figure is
// the kernel's arithmetic rate, not the memory's. Beside them, the machine's int8 compute
// roofline: independent vpdpbusd chains (AVX2: vpmaddubsw + vpaddw) on 1 and on all threads. Batched decode and prefill are
// bound by these kernels once the weights are shared by enough tokens, so
//   kernel GMAC/s / peak GMAC/s   = how much of the int8 roofline the kernels reach, and
//   peak GMAC/s / MACs per token  = the most tokens/s any engine could decode on this CPU.
//
//   build/bin/bench_kernels [--k 1024] [--m 1024] [--reps 7] [--only q4_0,q4_K] [--tokens T] [--ldy N]
//   build/bin/bench_kernels --stream [--tokens 1] [--rows R] [--reps 7] [--only q4_K_r16,bf16_r16p]
//   build/bin/bench_kernels --attention [--seqs 16] [--ctx 128] [--layers 30] [--block 16] [--kv-heads 3]
//                                       [--group 3] [--kv f16|int8|f32] [--reps 7]
//   build/bin/bench_kernels --mlp [--ff 4864] [--k 896] [--tokens 1] [--reps 7]
//   build/bin/bench_kernels --pipes [--reps 7]
//   build/bin/bench_kernels --prepare [--k 2048] [--reps 7]
//
// --stream: decode's memory side instead. One token (--tokens: a batched decode step's several)
// against a 1 GiB packed matrix (far past any cache) through matmul_packed on the default thread
// count, the path a decode step takes, alternating with `autoglm bench`'s own read probe
// (core/read_bandwidth.h) so both see the host in the same state: GB/s of weights and the share
// of the read rate. With more tokens the step also does more arithmetic per byte: the GB/s
// then show how well a kernel overlaps the two. --rows R cuts the matrix into R-row matrices
// called one after another, as a decode step's: the per-call cost (activation preparation,
// dispatch, each thread's stream starting anew) then shows in the GB/s (Q4_K at k 2048 on the
// Intel host: 96% of the probe at one call, 91% at 2048 rows, 75% at 512, 50% at 128; before
// the preparation was made cheaper, 91 / 86 / 63 / 39%).
//
// --attention: one batched decode step's attention, every layer of a smollm2-135m-shaped F16
// (--kv: int8 or f32) KV cache (30 layers, 3 kv heads of 64 dims, 9 query heads; --kv-heads and --group (query heads
// per kv head) change the heads, as 2 and 7 for qwen2.5-0.5b), each of --seqs sequences holding
// --ctx positions in blocks of --block slots handed out round-robin as a serving engine's growing sequences get
// them; on the default thread count, alternating with the read probe: microseconds per layer
// and the GB/s of K/V read against the probe.
//
// --mlp: decode's fused gate/up product (matmul_swiglu) over enough Q4_0 layers (--ff x --k each,
// qwen2.5-0.5b's by default) to be far past any cache, with gate and up as two packed matrices
// and as one paired matrix (WeightLoader::gate_up's layout), alternating each round with
// the read probe: GB/s of weights for each.
//
// --prepare: what a packed matmul does before its kernels, per token: the activations quantized
// and their per-block sums (prepare_packed_activations), for each packed layout's activation
// form, one token of --k columns on one thread, in microseconds. A decode step pays it once per
// matmul (65 per llama3.2-1b token), prefill once per token and matmul.
//
// --pipes (AVX-512 VNNI): which other instructions take vpdpbusd's execution slots. A loop of 8
// independent vpdpbusd, alone and with a float multiply and an fma, or two of another
// instruction, on registers of their own: the time each added instruction costs, in vpdpbusd
// slots (1: it runs where vpdpbusd would, 0: elsewhere). The packed tiles do 8 vpdpbusd per
// block and token plus a scale multiply and an fma, so where those take a slot each the tile
// tops out at 8/10 of the int8 roofline. Also vpmulld, vpmaddubsw, vpaddw, vpdpwssd and a
// broadcast load: the K-quant tiles scale their sub-block dots with vpdpwssd where the dots fit
// int16 (Q2_K, Q3_K, Q4_K, Q6_K) and with vpmulld where not (Q5_K, LATTICE_R16).
//
// Table options: --only names the weight types (as GGUF names them) to run; --tokens one column
// instead of six; --ldy the output's row stride in floats (default m: y is one tokens x m matrix,
// as matmul_packed writes it; 16 writes every row group's tile to the same tokens x 16 block). A
// large --m (131072 at --k 2048 is 151 MiB of Q4_K) puts the weights past the caches instead, as
// in a batched decode step: there, at 16 tokens, writing y with stride m ran ~12% slower than
// --ldy 16 (docs/BENCHMARKS.md).
//
// Prints median GMAC/s over the repetitions. A benchmark, not a test: tests/ops checks these
// kernels bit for bit against their references.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/packed.h"
#include "core/read_bandwidth.h"
#include "core/thread_pool.h"
#include "graph/graph.h"
#include "graph/step.h"
#include "kv/kv_cache.h"
#include "kv/sequence_kv.h"
#include "quant/blocks.h"
#include "quant/quant.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

using autoglm::DType;
using autoglm::Tensor;
using Clock = std::chrono::steady_clock;

// Whether a type is named in an --only list ("q4_K_r16,bf16_r16p"); an empty list names every type.
bool listed(const std::string& only, DType t) {
  return only.empty() || ("," + only + ",").find("," + std::string(autoglm::dtype_name(t)) + ",") != std::string::npos;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Tensor random_weights(DType t, int64_t m, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 0.05f);
  std::vector<float> f(static_cast<size_t>(m * k));
  for (float& x : f) x = nd(rng);
  Tensor w = Tensor::empty(t, {m, k});
  for (int64_t r = 0; r < m; ++r) autoglm::quant::quantize_row(t, f.data() + r * k, w.row_ptr(r), k);
  return w;
}

#if defined(__x86_64__)
// 16 independent accumulators in named registers (an array of them is kept in memory at -O2,
// and the loop then measures store forwarding): enough to cover vpdpbusd's latency.
__attribute__((target("avx512f,avx512vnni"))) int64_t vnni_loop(int64_t iters) {
#define AG_ACC(i) __m512i a##i = _mm512_set1_epi32(i);
#define AG_DP(i) a##i = _mm512_dpbusd_epi32(a##i, w, x);
#define AG_ALL(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
  AG_ALL(AG_ACC)
  __m512i w = _mm512_set1_epi8(3), x = _mm512_set1_epi8(5);
  for (int64_t i = 0; i < iters; ++i) {
    AG_ALL(AG_DP)
    __asm__ volatile("" : "+v"(w), "+v"(x));  // keep the loop from being folded
  }
  __m512i s = _mm512_setzero_si512();
#define AG_SUM(i) s = _mm512_add_epi32(s, a##i);
  AG_ALL(AG_SUM)
#undef AG_ACC
#undef AG_DP
#undef AG_ALL
#undef AG_SUM
  alignas(64) int32_t lanes[16];  // summed through memory: GCC 12 warns on _mm512_reduce_add_epi32
  _mm512_store_si512(lanes, s);
  int64_t r = 0;
  for (int32_t v : lanes) r += v;
  return r;
}

// --pipes: 8 vpdpbusd per iteration on 8 accumulators, plus 2 instructions of kind E (0: none,
// 1: vmulps + vfmadd231ps, 2: vpaddd, 3: vcvtdq2ps, 4: vpmulld, 5: vpmaddubsw, 6: vpaddw,
// 7: vpdpwssd, 8: vpbroadcastd from memory) writing registers nothing reads, so none waits on
// another. In assembly: compiled from intrinsics, the loop kept extra moves.
template <int E>
__attribute__((target("avx512f,avx512vnni"))) void pipes_loop(int64_t iters) {
#define AG_DP(r) "vpdpbusd %%zmm30, %%zmm31, %%zmm" #r "\n\t"
#define AG_DP8 AG_DP(0) AG_DP(1) AG_DP(2) AG_DP(3) AG_DP(4) AG_DP(5) AG_DP(6) AG_DP(7)
// Two of one instruction into zmm10 and zmm11, from the operands src0 / src1 (zmm29 and zmm28,
// or memory).
#define AG_TWO(op, src0, src1) op " " src0 ", %%zmm10\n\t" op " " src1 ", %%zmm11\n\t"
#define AG_RUN(extra) \
  __asm__ volatile(AG_DP8 extra ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm10", "xmm11")
  for (int64_t i = 0; i < iters; ++i) {
    if constexpr (E == 0) AG_RUN("");
    if constexpr (E == 1) AG_RUN("vmulps %%zmm29, %%zmm28, %%zmm10\n\tvfmadd231ps %%zmm29, %%zmm28, %%zmm11\n\t");
    if constexpr (E == 2) AG_RUN(AG_TWO("vpaddd", "%%zmm29, %%zmm28", "%%zmm29, %%zmm28"));
    if constexpr (E == 3) AG_RUN(AG_TWO("vcvtdq2ps", "%%zmm29", "%%zmm28"));
    if constexpr (E == 4) AG_RUN(AG_TWO("vpmulld", "%%zmm29, %%zmm28", "%%zmm29, %%zmm28"));
    if constexpr (E == 5) AG_RUN(AG_TWO("vpmaddubsw", "%%zmm29, %%zmm28", "%%zmm29, %%zmm28"));
    if constexpr (E == 6) AG_RUN(AG_TWO("vpaddw", "%%zmm29, %%zmm28", "%%zmm29, %%zmm28"));
    if constexpr (E == 7) AG_RUN(AG_TWO("vpdpwssd", "%%zmm29, %%zmm28", "%%zmm29, %%zmm28"));
    if constexpr (E == 8) AG_RUN(AG_TWO("vpbroadcastd", "(%%rsp)", "4(%%rsp)"));
  }
#undef AG_DP
#undef AG_DP8
#undef AG_TWO
#undef AG_RUN
}

int pipes(int reps) {
  using autoglm::cpu::Isa;
  if (!autoglm::cpu::isa_available(Isa::kAvx512)) {
    std::fprintf(stderr, "bench_kernels --pipes: needs AVX-512 VNNI\n");
    return 2;
  }
  constexpr int64_t kIters = 20'000'000;
  auto ns_per_iter = [&](void (*loop)(int64_t)) {
    std::vector<double> t;
    for (int r = 0; r < reps; ++r) {
      const auto t0 = Clock::now();
      loop(kIters);
      t.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / static_cast<double>(kIters));
    }
    return median(t);
  };
  const double base = ns_per_iter(pipes_loop<0>);
  std::printf("8 vpdpbusd: %.3f ns per iteration, median of %d\n", base, reps);
  const char* names[] = {"", "vmulps + vfmadd231ps", "2 vpaddd", "2 vcvtdq2ps", "2 vpmulld", "2 vpmaddubsw",
                         "2 vpaddw", "2 vpdpwssd", "2 vpbroadcastd (mem)"};
  void (*loops[])(int64_t) = {nullptr, pipes_loop<1>, pipes_loop<2>, pipes_loop<3>, pipes_loop<4>,
                              pipes_loop<5>, pipes_loop<6>, pipes_loop<7>, pipes_loop<8>};
  for (int e = 1; e <= 8; ++e) {
    const double t = ns_per_iter(loops[e]);
    std::printf("+ %-20s %.3f ns: %.2f vpdpbusd slots per added instruction\n", names[e], t, (t - base) / base * 8.0 / 2.0);
  }
  return 0;
}

// Without VNNI (AVX2): the packed Q4_0/Q4_K kernels' inner step, vpmaddubsw (32 u8 x s8
// multiply-adds into int16 pairs) then vpaddw into a running int16 sum, on 8 independent chains.
__attribute__((target("avx2"))) int64_t maddubs_loop(int64_t iters) {
#define AG_ACC(i) __m256i a##i = _mm256_set1_epi16(i);
#define AG_DP(i) a##i = _mm256_add_epi16(a##i, _mm256_maddubs_epi16(w, x));
#define AG_ALL(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
  AG_ALL(AG_ACC)
  __m256i w = _mm256_set1_epi8(3), x = _mm256_set1_epi8(5);
  for (int64_t i = 0; i < iters; ++i) {
    AG_ALL(AG_DP)
    __asm__ volatile("" : "+x"(w), "+x"(x));
  }
  __m256i s = _mm256_setzero_si256();
#define AG_SUM(i) s = _mm256_add_epi16(s, a##i);
  AG_ALL(AG_SUM)
#undef AG_ACC
#undef AG_DP
#undef AG_ALL
#undef AG_SUM
  alignas(32) int16_t lanes[16];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), s);
  int64_t r = 0;
  for (int16_t v : lanes) r += v;
  return r;
}

// GMAC/s of `loop` (macs_per_iter multiply-adds per iteration) on n threads together.
double int8_peak(int64_t (*loop)(int64_t), double macs_per_iter, int n_threads, int reps) {
  constexpr int64_t kIters = 20'000'000;
  std::vector<double> r;
  for (int rep = 0; rep < reps; ++rep) {
    const auto t0 = Clock::now();
    std::vector<std::thread> th;
    std::vector<int64_t> sink(static_cast<size_t>(n_threads));
    for (int i = 0; i < n_threads; ++i) th.emplace_back([&, i] { sink[static_cast<size_t>(i)] = loop(kIters); });
    for (auto& t : th) t.join();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    r.push_back(static_cast<double>(n_threads) * static_cast<double>(kIters) * macs_per_iter / s / 1e9);
  }
  return median(r);
}
#endif

// A packed matrix of about `bytes` with random quants and scales in [2^-10, 2^-5): built in
// place (quantizing 1 GiB of floats would take longer than the measurement).
Tensor random_packed(DType packed, int64_t k, size_t bytes) {
  const size_t group = autoglm::cpu::packed_group_bytes(packed, k);
  const int64_t m = static_cast<int64_t>(bytes / group) * autoglm::cpu::kPackRows;
  Tensor w = Tensor::empty(packed, {m, k});
  auto* p = static_cast<uint8_t*>(w.data());
  std::mt19937 rng(5);
  for (size_t i = 0; i + 4 <= w.nbytes(); i += 4) {
    const uint32_t v = rng();
    std::memcpy(p + i, &v, 4);
  }
  // F16 / BF16: every 16-bit pattern of one exponent range, so no lane holds NaN, Inf or a
  // subnormal.
  if (packed == DType::F32_R16) {  // values of one exponent range: no NaN, Inf or subnormal
    auto* f = reinterpret_cast<uint32_t*>(p);
    for (size_t i = 0; i < w.nbytes() / 4; ++i) f[i] = 0x3e000000u | (f[i] & 0x81ffffffu);
    return w;
  }
  if (packed == DType::F16_R16 || packed == DType::BF16_R16 || packed == DType::BF16_R16P) {
    auto* h = reinterpret_cast<uint16_t*>(p);
    const uint16_t base = packed == DType::F16_R16 ? 0x3000 : 0x3e00;
    for (size_t i = 0; i < w.nbytes() / 2; ++i) h[i] = static_cast<uint16_t>(base | (h[i] & 0x81ff));
    return w;
  }
  // The f16 scales lead each packed block of 16 rows (32 columns, or a 256-column super-block:
  // its d); Q4_1 / Q5_1, Q2_K, Q4_K and Q5_K: then the mins (dmin).
  const size_t block = group / static_cast<size_t>(k / autoglm::dtype_info(packed).block_size);
  const bool mins = packed == DType::Q2_K_R16 || packed == DType::Q4_K_R16 || packed == DType::Q5_K_R16 ||
                    packed == DType::Q4_1_R16 || packed == DType::Q5_1_R16;
  const int64_t scales = mins ? 2 * autoglm::cpu::kPackRows : autoglm::cpu::kPackRows;
  for (size_t b = 0; b < w.nbytes() / block; ++b) {
    for (int64_t r = 0; r < scales; ++r) {
      const uint16_t h = static_cast<uint16_t>(0x1400 + rng() % 0x1400);
      std::memcpy(p + b * block + 2 * r, &h, 2);
    }
  }
  return w;
}

int stream(int64_t tokens, int64_t rows, int reps, const std::string& only) {
  using namespace autoglm::cpu;
  constexpr int64_t k = 2048;
  constexpr size_t kBytes = size_t{1} << 30;
  autoglm::ThreadPool pool(autoglm::ThreadPool::default_threads());
  std::printf("stream: %lld token(s) x 1 GiB packed matrix (k %lld) through matmul_packed, %d threads, isa %s, "
              "median of %d alternating rounds\n", static_cast<long long>(tokens), static_cast<long long>(k), pool.size(),
              isa_name(active_isa()), reps);
  std::mt19937 rng(9);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  Tensor x = Tensor::empty(DType::F32, {tokens, k});
  for (int64_t i = 0; i < tokens * k; ++i) x.data_as<float>()[i] = nd(rng);
  std::vector<Tensor> ws;
  std::vector<DType> types;
  for (DType t : {DType::Q8_0_R16, DType::Q4_0_R16, DType::Q5_0_R16, DType::Q4_1_R16, DType::Q5_1_R16, DType::Q2_K_R16,
                  DType::Q3_K_R16, DType::Q4_K_R16, DType::Q5_K_R16, DType::Q6_K_R16, DType::IQ4_NL_R16, DType::IQ4_XS_R16,
                  DType::F32_R16, DType::F16_R16, DType::BF16_R16, DType::BF16_R16P}) {
    if (listed(only, t)) {
      types.push_back(t);
    }
  }
  if (types.empty()) return 2;
  for (DType t : types) ws.push_back(random_packed(t, k, kBytes));
  std::vector<std::vector<double>> rate(ws.size() + 1);
  for (int rep = 0; rep < reps; ++rep) {
    for (size_t i = 0; i < ws.size(); ++i) {
      Tensor y = Tensor::empty(DType::F32, {tokens, ws[i].rows()});
      const auto t0 = Clock::now();
      if (rows == 0) {
        if (!matmul_packed(x, ws[i], y, pool).ok()) return 1;
      } else {
        // One call per slice of `rows` rows, as a decode step calls one matrix after another.
        for (int64_t r = 0; r + rows <= ws[i].rows(); r += rows) {
          Tensor part = ws[i].slice_rows(r, r + rows);
          Tensor yp = Tensor::view_of(DType::F32, {tokens, rows}, y.data_as<float>());
          if (!matmul_packed(x, part, yp, pool).ok()) return 1;
        }
      }
      rate[i].push_back(static_cast<double>(ws[i].nbytes()) / std::chrono::duration<double>(Clock::now() - t0).count() / 1e9);
    }
    rate[ws.size()].push_back(autoglm::measure_read_bandwidth(pool.size()));
  }
  const double probe = median(rate[ws.size()]);
  std::printf("read probe: %.1f GB/s\n", probe);
  for (size_t i = 0; i < ws.size(); ++i) {
    if (packed_gemm_for(types[i], active_isa()) == nullptr) {  // the engine keeps the row layout there
      std::printf("%s: no packed kernel on this ISA\n", autoglm::dtype_name(types[i]));
      continue;
    }
    const double r = median(rate[i]);
    std::printf("%s: %.1f GB/s of weights (%.0f%% of the read probe)\n", autoglm::dtype_name(types[i]), r,
                100.0 * r / probe);
  }
  return 0;
}

int prepare(int64_t k, int reps) {
  using namespace autoglm::cpu;
  autoglm::ThreadPool pool(1);
  std::printf("prepare: one token of k %lld, one thread, isa %s, median of %d rounds of 2000\n", static_cast<long long>(k),
              isa_name(active_isa()), reps);
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  Tensor x = Tensor::empty(DType::F32, {1, k});
  for (int64_t i = 0; i < k; ++i) x.data_as<float>()[i] = nd(rng);
  PackedActivations act;
  for (DType t : {DType::Q8_0_R16, DType::Q4_0_R16, DType::Q4_1_R16, DType::Q4_K_R16, DType::Q6_K_R16, DType::Q3_K_R16,
                  DType::IQ4_XS_R16, DType::F16_R16, DType::BF16_R16P}) {
    std::vector<double> us;
    for (int rep = 0; rep < reps; ++rep) {
      const auto t0 = Clock::now();
      for (int c = 0; c < 2000; ++c) {
        if (!prepare_packed_activations(x, act, pool, t).ok()) return 1;
      }
      us.push_back(std::chrono::duration<double>(Clock::now() - t0).count() / 2000 * 1e6);
    }
    std::printf("%s: %.2f us\n", autoglm::dtype_name(t), median(us));
  }
  return 0;
}

int mlp(int64_t ff, int64_t k, int64_t tokens, int reps) {
  using namespace autoglm::cpu;
  constexpr DType kType = DType::Q4_0;
  autoglm::ThreadPool pool(autoglm::ThreadPool::default_threads());
  const size_t layer_bytes = 2 * packed_group_bytes(DType::Q4_0_R16, k) * static_cast<size_t>(ff / kPackRows);
  const int layers = static_cast<int>(std::max<size_t>(2, (size_t{1} << 29) / layer_bytes));  // 512 MiB a set
  std::printf("mlp: %d Q4_0 gate/up pairs of %lld x %lld, %lld token(s), %d threads, isa %s, median of %d rounds\n",
              layers, static_cast<long long>(ff), static_cast<long long>(k), static_cast<long long>(tokens), pool.size(),
              isa_name(active_isa()), reps);
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  auto quantized_rows = [&](int64_t rows) {
    Tensor q = Tensor::empty(kType, {rows, k});
    std::vector<float> row(static_cast<size_t>(k));
    for (int64_t r = 0; r < rows; ++r) {
      for (float& v : row) v = nd(rng);
      autoglm::quant::quantize_row(kType, row.data(), q.row_ptr(r), k);
    }
    return q;
  };
  // One random layer, packed again for every copy (the time does not depend on the values).
  const Tensor g = quantized_rows(ff), u = quantized_rows(ff);
  const Tensor both = pair_row_groups(g, u);  // gate_up's row order
  std::vector<Tensor> gates, ups, pairs;
  for (int l = 0; l < layers; ++l) {
    gates.push_back(pack_matrix(g));
    ups.push_back(pack_matrix(u));
    pairs.push_back(pack_matrix(both));
  }
  Tensor x = Tensor::empty(DType::F32, {tokens, k});
  for (int64_t i = 0; i < tokens * k; ++i) x.data_as<float>()[i] = nd(rng);
  Tensor y = Tensor::empty(DType::F32, {tokens, ff});
  std::vector<double> separate, paired, probe;
  for (int rep = 0; rep < reps; ++rep) {
    for (int v = 0; v < 2; ++v) {
      const bool pair = (v + rep) % 2 == 1;  // which goes first alternates
      const auto t0 = Clock::now();
      for (int l = 0; l < layers; ++l) {
        const auto st = pair ? matmul_swiglu_paired(x, pairs[size_t(l)], y, pool)
                             : matmul_swiglu(x, gates[size_t(l)], ups[size_t(l)], y, pool);
        if (!st.ok()) return 1;
      }
      const double gbs = static_cast<double>(layer_bytes) * layers /
                         std::chrono::duration<double>(Clock::now() - t0).count() / 1e9;
      (pair ? paired : separate).push_back(gbs);
    }
    probe.push_back(autoglm::measure_read_bandwidth(pool.size()));
  }
  const double pr = median(probe);
  std::printf("read probe: %.1f GB/s\n", pr);
  std::printf("gate, up apart: %.1f GB/s of weights (%.0f%% of the read probe)\n", median(separate), 100.0 * median(separate) / pr);
  std::printf("gate/up paired: %.1f GB/s of weights (%.0f%% of the read probe)\n", median(paired), 100.0 * median(paired) / pr);
  return 0;
}

int attention_step(int n_seqs, int ctx, int32_t n_layers, int32_t block_size, int32_t kKvHeads, int32_t kGroup,
                   autoglm::DType kv_type, int reps) {
  using namespace autoglm;
  constexpr int32_t kHeadDim = 64;
  ThreadPool pool(ThreadPool::default_threads());
  kv::KVCacheConfig c;
  c.n_layers = n_layers;
  c.n_kv_heads = kKvHeads;
  c.head_dim = kHeadDim;
  c.block_size = block_size;
  c.n_blocks = n_seqs * ((ctx + 1 + block_size - 1) / block_size) + 1;
  c.dtype = kv_type;
  auto created = kv::KVCache::create(c);
  if (!created.ok()) return 1;
  kv::KVCache& cache = **created;
  std::vector<kv::SequenceKV> seqs(static_cast<size_t>(n_seqs));
  // Blocks in the order a serving engine's sequences, growing together, take them.
  for (int32_t n = block_size; n < ctx + 1 + block_size; n += block_size) {
    for (auto& s : seqs) {
      if (!s.reserve(cache, std::min(n, ctx + 1)).ok()) return 1;
    }
  }
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int64_t row = int64_t{kKvHeads} * kHeadDim;
  std::vector<float> kr(static_cast<size_t>(row)), vr(static_cast<size_t>(row));
  for (int32_t l = 0; l < n_layers; ++l) {
    for (auto& s : seqs) {
      for (int32_t p = 0; p < ctx; ++p) {
        for (int64_t i = 0; i < row; ++i) kr[size_t(i)] = nd(rng), vr[size_t(i)] = nd(rng);
        auto [block, slot] = s.locate(cache, p);
        cache.store(l, block, slot, kr.data(), vr.data());
      }
    }
  }
  for (auto& s : seqs) s.set_n_cached(ctx);
  graph::StepContext st;
  st.cache = &cache;
  for (int i = 0; i < n_seqs; ++i) {
    st.seqs.push_back(&seqs[size_t(i)]);
    st.token_seq.push_back(i);
    st.positions.push_back(ctx);  // the step's new token
  }
  auto random_rows = [&](int64_t cols) {
    Tensor t = Tensor::empty(DType::F32, {n_seqs, cols});
    for (int64_t i = 0; i < n_seqs * cols; ++i) t.data_as<float>()[i] = nd(rng);
    return t;
  };
  const Tensor q = random_rows(row * kGroup), k = random_rows(row), v = random_rows(row);
  Tensor y = Tensor::empty(DType::F32, {n_seqs, row * kGroup});
  graph::Attrs a;
  a.n_head = kKvHeads * kGroup;
  a.n_head_kv = kKvHeads;
  a.head_dim = kHeadDim;
  // One pass: every layer once, as a decode step does. A repetition runs passes for at least
  // 50 ms after 20 ms of warm-up (the pool's workers sleep through the probe and ramp back up).
  auto pass = [&] {
    for (int32_t l = 0; l < n_layers; ++l) {
      a.layer = l;
      if (!cpu::attention(q, k, v, a, st, y, pool).ok()) return false;
    }
    return true;
  };
  auto run_for = [&](double ms, int64_t& passes) {
    const auto t0 = Clock::now();
    passes = 0;
    double el = 0;
    do {
      if (!pass()) return -1.0;
      ++passes;
      el = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    } while (el < ms);
    return el;
  };
  std::vector<double> us, probe;
  for (int rep = 0; rep < reps; ++rep) {
    int64_t passes = 0;
    if (run_for(20, passes) < 0) return 1;
    const double ms = run_for(50, passes);
    if (ms < 0) return 1;
    us.push_back(ms * 1e3 / static_cast<double>(passes * n_layers));
    probe.push_back(measure_read_bandwidth(pool.size()));
  }
  const double per_layer = median(us);
  // K and V of positions [0, ctx], every sequence and kv head of one layer (INT8: and each
  // position's key scale, key zero and value scale).
  const double per_head = kv_type == DType::I8 ? 2.0 * kHeadDim + 3 * sizeof(float)
                                               : 2.0 * kHeadDim * static_cast<double>(dtype_info(kv_type).type_size);
  const double bytes = static_cast<double>(n_seqs) * (ctx + 1) * kKvHeads * per_head;
  std::printf("attention: %d sequences x %d positions, %s KV in blocks of %d, %d kv heads x %d dims, group %d, "
              "%d threads, isa %s\n", n_seqs, ctx, dtype_name(kv_type), block_size, kKvHeads, kHeadDim, kGroup,
              pool.size(), cpu::isa_name(cpu::active_isa()));
  std::printf("%.1f us per layer, %.1f GB/s of K/V (read probe %.1f GB/s), median of %d\n", per_layer,
              bytes / per_layer / 1e3, median(probe), reps);
  for (auto& s : seqs) s.release(cache);
  return 0;
}

int64_t arg(int argc, char** argv, const char* name, int64_t def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::atoll(argv[i + 1]);
  }
  return def;
}

std::string text_arg(int argc, char** argv, const char* name) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  using namespace autoglm::cpu;
  const int64_t k = arg(argc, argv, "--k", 1024), m = arg(argc, argv, "--m", 1024);
  const int reps = static_cast<int>(arg(argc, argv, "--reps", 7));
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--stream") == 0) {
      const int64_t tokens = arg(argc, argv, "--tokens", 1);
      const std::string only = text_arg(argc, argv, "--only");  // q4_K_r16,bf16_r16p: those layouts alone
      const int64_t rows = arg(argc, argv, "--rows", 0);  // calls of this many rows each instead of one
      return reps > 0 && tokens > 0 && tokens <= 64 && rows >= 0 && rows % kPackRows == 0 ? stream(tokens, rows, reps, only)
                                                                                          : 2;
    }
    if (std::strcmp(argv[i], "--prepare") == 0) {
      const int64_t kk = arg(argc, argv, "--k", 2048);
      return reps > 0 && kk > 0 && kk % 256 == 0 && kk <= (1 << 16) ? prepare(kk, reps) : 2;
    }
    if (std::strcmp(argv[i], "--mlp") == 0) {
      const int64_t ff = arg(argc, argv, "--ff", 4864), kk = arg(argc, argv, "--k", 896);
      const int64_t tokens = arg(argc, argv, "--tokens", 1);
      const bool ok = reps > 0 && ff > 0 && ff % 16 == 0 && ff <= (1 << 20) && kk > 0 && kk % 32 == 0 &&
                      kk <= (1 << 16) && tokens > 0 && tokens <= 64;
      return ok ? mlp(ff, kk, tokens, reps) : 2;
    }
#if defined(__x86_64__)
    if (std::strcmp(argv[i], "--pipes") == 0) return reps > 0 ? pipes(reps) : 2;
#endif
    if (std::strcmp(argv[i], "--attention") == 0) {
      const int64_t n_seqs = arg(argc, argv, "--seqs", 16), ctx = arg(argc, argv, "--ctx", 128);
      const int64_t layers = arg(argc, argv, "--layers", 30), block = arg(argc, argv, "--block", 16);
      const int64_t kv_heads = arg(argc, argv, "--kv-heads", 3), group = arg(argc, argv, "--group", 3);
      const std::string kv = text_arg(argc, argv, "--kv");
      const DType kv_type = kv == "int8" ? DType::I8 : kv == "f32" ? DType::F32 : DType::F16;
      if (n_seqs <= 0 || n_seqs > 1024 || ctx <= 0 || ctx > 65536 || layers <= 0 || layers > 256 || block <= 0 ||
          block > 1024 || kv_heads <= 0 || kv_heads > 64 || group <= 0 || group > 16 || reps <= 0 ||
          !(kv.empty() || kv == "f16" || kv == "int8" || kv == "f32")) {
        return 2;
      }
      return attention_step(static_cast<int>(n_seqs), static_cast<int>(ctx), static_cast<int32_t>(layers),
                            static_cast<int32_t>(block), static_cast<int32_t>(kv_heads), static_cast<int32_t>(group),
                            kv_type, reps);
    }
  }
  const int64_t only_tokens = arg(argc, argv, "--tokens", 0), ldy = arg(argc, argv, "--ldy", m);
  const std::string only = text_arg(argc, argv, "--only");  // q4_0,q4_K: those weight types alone
  if (k <= 0 || m <= 0 || m % kPackRows != 0 || k % 32 != 0 || reps <= 0 || only_tokens < 0 || only_tokens > 64 ||
      ldy < kPackRows || ldy > m || ldy % kPackRows != 0) {
    std::fprintf(stderr, "bench_kernels: --m must be a multiple of 16, --k of 32, --tokens at most 64, --ldy a multiple "
                         "of 16 from 16 to m\n");
    return 2;
  }
  std::printf("isa %s%s, k %lld, m %lld, output row stride %lld floats, one thread, median of %d\n",
              isa_name(active_isa()),
              packed_amx_active()        ? " (AMX tiles from 16 tokens where a type has them)"
              : packed_avx_vnni_active() ? " (AVX-VNNI forms where a type has them)"
                                         : "",
              static_cast<long long>(k), static_cast<long long>(m), static_cast<long long>(ldy),
              reps);
#if defined(__x86_64__)
  const int nt = autoglm::ThreadPool::default_threads();
  if (isa_available(Isa::kAvx512)) {
    std::printf("int8 roofline (vpdpbusd): %.1f GMAC/s on 1 thread, %.1f on %d threads\n",
                int8_peak(vnni_loop, 16 * 64, 1, reps), int8_peak(vnni_loop, 16 * 64, nt, reps), nt);
  } else if (isa_available(Isa::kAvx2)) {
    std::printf("int8 roofline (vpmaddubsw + vpaddw): %.1f GMAC/s on 1 thread, %.1f on %d threads\n",
                int8_peak(maddubs_loop, 8 * 32, 1, reps), int8_peak(maddubs_loop, 8 * 32, nt, reps), nt);
  }
#endif
  autoglm::ThreadPool pool(1);
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<int64_t> token_counts = {1, 2, 4, 8, 16, 64};
  if (only_tokens > 0) token_counts = {only_tokens};
  std::printf("| weights |");
  for (int64_t n : token_counts) std::printf(" T=%lld |", static_cast<long long>(n));
  std::printf("  (GMAC/s)\n");
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q5_0, DType::Q4_1, DType::Q5_1, DType::Q2_K, DType::Q3_K, DType::Q4_K,
                  DType::Q5_K, DType::Q6_K, DType::IQ4_NL, DType::IQ4_XS, DType::F32, DType::F16, DType::BF16}) {
    if (k % autoglm::dtype_info(t).block_size != 0) continue;  // K-quants: rows of 256
    if (!listed(only, t)) continue;
    const Tensor w = random_weights(t, m, k, 3);
    if (!should_pack(w)) {
      std::printf("| %s | not packed on this ISA |\n", autoglm::dtype_name(t));
      continue;
    }
    const Tensor p = pack_matrix(w);
    const PackedGemmFn gemm = packed_gemm_active(p.dtype());
    // The engine runs the float layouts' AVX-512 kernels two row groups at a time
    // (packed_matmul.cpp): so does the table.
    const PackedGemmPairFn pair = packed_pair_gemm_active(p.dtype());
    const size_t gb = packed_group_bytes(p.dtype(), k);
    const auto* wd = static_cast<const uint8_t*>(p.data());
    std::printf("| %s (%s) |", autoglm::dtype_name(t), autoglm::dtype_name(p.dtype()));
    for (int64_t n : token_counts) {
      Tensor x = Tensor::empty(DType::F32, {n, k});
      for (int64_t i = 0; i < n * k; ++i) x.data_as<float>()[i] = nd(rng);
      PackedActivations act;
      if (!prepare_packed_activations(x, act, pool, p.dtype()).ok()) return 1;
      std::vector<float> y(static_cast<size_t>(n * ldy));
      const int64_t groups_per_row = ldy / kPackRows;  // group g: columns [16 (g % this), +16)
      // Every pass reads the matrix once: ~4000 token-passes over 1024 x 1024, fewer for a larger one.
      const int64_t iters = std::max<int64_t>(2, int64_t{4000} * 1024 * 1024 / (n * std::max<int64_t>(m * k, 1024 * 1024)));
      std::vector<double> r;
      for (int rep = 0; rep < reps; ++rep) {
        const auto t0 = Clock::now();
        for (int64_t it = 0; it < iters; ++it) {
          for (int64_t g = 0; g < m / kPackRows; ++g) {
            float* out = y.data() + (g % groups_per_row) * kPackRows;
            if (pair != nullptr && g + 1 < m / kPackRows && (g + 1) % groups_per_row != 0) {
              pair(act.nb, wd + g * gb, act, 0, n, out, out + kPackRows, ldy);
              ++g;
            } else {
              gemm(act.nb, wd + g * gb, act, 0, n, out, ldy);
            }
          }
        }
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        r.push_back(static_cast<double>(iters) * static_cast<double>(n * m * k) / s / 1e9);
      }
      std::printf(" %.1f |", median(r));
    }
    std::printf("\n");
  }
  return 0;
}
