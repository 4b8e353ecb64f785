// ISA-specific kernels, compiled with their own target flags (src/CMakeLists.txt) and
// selected at run time by the portable callers after checking the CPU's features.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"
#include "quant/quant.h"

namespace autoglm::cpu::simd {

bool cpu_has_avx2_fma();
bool cpu_has_avx512f();
// AVX-512 F/BW/VL/DQ plus VNNI: what the *_avx512.cpp kernels are compiled for.
bool cpu_has_avx512_vnni();
// AVX512_BF16 on top of that (vdpbf16ps, vcvtne2ps2bf16): gemm_bf16_r16p_avx512 only.
bool cpu_has_avx512_bf16();
// Whether vdpbf16ps (32 multiply-adds) outruns two f32 fmas (16 each) here: AMD's Zen 4 / Zen 5
// issue it at the fma's rate; the Intel Xeon with AMX measured (docs/BENCHMARKS.md) at half that,
// so there it ties an f32 fma's multiply-adds per cycle and loses to the convert-and-fma kernel (`ub2`-style loop of
// 12 independent instructions on the Xeon with AMX, model 167: 0.58 ns against 0.14 ns).
// A vendor rule, not a timing: which kernel runs decides a token's rounding, so it must not
// depend on how busy the host was at start-up.
bool cpu_has_full_rate_bf16_dot();
// AVX-VNNI (the VEX-encoded 256-bit vpdpbusd) beside AVX2: Alder Lake and later client cores,
// which lack AVX-512. The *_avxvnni.cpp kernels only.
bool cpu_has_avx_vnni();
// Whether the AVX-512 kernels' one- and two-token tiles (decode, which streams every weight
// once) prefetch into L2 some 9 KB ahead as well as into L1 2-3 KB ahead, for the layouts where
// that paid (Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, Q2_K, Q3_K, Q4_K, Q5_K; not Q8_0 or Q6_K, which read
// memory about as fast without it and lost in cache). Intel: yes (the Xeon without AMX,
// docs/BENCHMARKS.md: those kernels read 84-103% of the read probe instead of 74-92%,
// llama3.2-1b Q4_0 / Q4_K tg +10-15%); elsewhere no (AMD's Zen 4 read 6-9% less with L2
// requests in place of L1 ones; both together untimed there). AUTOGLM_DECODE_PREFETCH=l1 / l2
// overrides it, for A/B runs. Changes no result.
bool decode_prefetch_far_l2();

// A fence for the compiler only (it emits nothing): no memory access, prefetches included, moves
// across it. Kernels whose unrolled loops spread their prefetches through the work put one per
// step: left free, GCC hoists every step's prefetches to the top (gemm_q4k_r16_avx512.cpp).
inline void keep_prefetches_in_place() { __asm__ volatile("" ::: "memory"); }

// AMX-INT8 tiles, enabled by the OS for this process (asked for on the first call): the
// *_amx.cpp kernels only.
bool cpu_has_amx_int8();

// out[t * out_stride] = the row dot of weight row w with activation row act + t * act_row, for
// t < nt: for types where meeting several tokens at once saves work (the row is decoded once).
using RowTokensFn = void (*)(int64_t n, const void* w, const uint8_t* act, size_t act_row, int64_t nt, float* out,
                             int64_t out_stride);

// One ISA's row kernels. Dots take (n, weight row, activation row of the weight's vec_dot_type)
// exactly like quant::VecDotFn; quantizers write Q8_0 / Q8_K activation rows like the reference.
struct IsaKernels {
  quant::VecDotFn f32 = nullptr, f16 = nullptr, bf16 = nullptr;
  quant::VecDotFn q8_0 = nullptr, q4_0 = nullptr, q5_0 = nullptr, q4_1 = nullptr, q5_1 = nullptr;
  quant::VecDotFn q2_K = nullptr, q3_K = nullptr, q4_K = nullptr, q5_K = nullptr, q6_K = nullptr;
  quant::VecDotFn iq4_nl = nullptr, iq4_xs = nullptr;
  quant::VecDotFn iq2_xxs = nullptr, iq2_xs = nullptr, iq2_s = nullptr, iq3_xxs = nullptr, iq3_s = nullptr;
  quant::VecDotFn iq1_s = nullptr, iq1_m = nullptr;
  // Their several-token forms (same bits as the dots above).
  RowTokensFn iq2_xxs_tokens = nullptr, iq2_xs_tokens = nullptr, iq2_s_tokens = nullptr, iq3_xxs_tokens = nullptr;
  RowTokensFn iq3_s_tokens = nullptr, iq1_s_tokens = nullptr, iq1_m_tokens = nullptr;
  // 16 rows (row_bytes apart, `cols` columns) of a lattice matrix of type t into one LATTICE_R16
  // group (packed_lattice.h).
  void (*pack_lattice_group)(DType t, int64_t cols, const uint8_t* rows, size_t row_bytes, uint8_t* out) = nullptr;
  quant::FromFloatFn quantize_q8_0 = nullptr, quantize_q8_K = nullptr;
  // out[i] = silu(gate[i]) * up[i], exp by a polynomial (a few ulp from expf).
  void (*silu_mul)(const float* gate, const float* up, float* out, int64_t n) = nullptr;
  // x[i] = exp(x[i] - shift), returns the sum: bit-identical to cpu::exp_shift_sum_reference.
  float (*exp_shift_sum)(float* x, int64_t n, float shift) = nullptr;
};

const IsaKernels& avx2_kernels();    // simd/kernels_avx2.cpp; only where cpu_has_avx2_fma()
const IsaKernels& avx512_kernels();  // simd/kernels_avx512.cpp; only where cpu_has_avx512_vnni()

// AArch64 (simd/kernels_neon.cpp): NEON is baseline there; the SDOT dots are used only where
// cpu_has_neon_dotprod() (simd/kernels_neon_dotprod.cpp, compiled with +dotprod).
bool cpu_has_neon_dotprod();
const IsaKernels& neon_kernels();
float neon_dotprod_q8_0(int64_t n, const void* x, const void* y);
float neon_dotprod_q4_0(int64_t n, const void* x, const void* y);


}  // namespace autoglm::cpu::simd
