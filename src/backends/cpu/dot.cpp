// Row-kernel dispatch: per ISA a table of MatmulKernels per weight type, built once from the
// reference traits (src/quant) with the ISA's SIMD kernels laid over them, so every type
// without a SIMD kernel still runs its reference. AUTOGLM_CPU_ISA forces a path.
#include <array>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "backends/cpu/kernels.h"
#include "backends/cpu/simd/simd.h"
#include "core/log.h"

namespace autoglm::cpu {
namespace simd {

bool cpu_has_avx512_vnni() {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

bool cpu_has_avx512_bf16() {
#if defined(__x86_64__) || defined(__i386__)
  return cpu_has_avx512_vnni() && __builtin_cpu_supports("avx512bf16");
#else
  return false;
#endif
}

}  // namespace simd

namespace {

// DType values are GGUF type ids (< 31).
constexpr size_t kNumTypes = 32;
using Table = std::array<MatmulKernels, kNumTypes>;

const simd::IsaKernels* isa_kernels(Isa isa) {
  switch (isa) {
#if defined(AUTOGLM_HAVE_AVX2_KERNELS)
    case Isa::kAvx2: return &simd::avx2_kernels();
#endif
#if defined(AUTOGLM_HAVE_AVX512_KERNELS)
    case Isa::kAvx512: return &simd::avx512_kernels();
#endif
#if defined(AUTOGLM_HAVE_NEON_KERNELS)
    case Isa::kNeon: return &simd::neon_kernels();
#endif
    default: return nullptr;
  }
}

Table build_table(Isa isa) {
  Table t{};
  for (size_t i = 0; i < kNumTypes; ++i) {
    const quant::TypeTraits* tr = quant::type_traits(static_cast<DType>(i));
    if (tr == nullptr || tr->vec_dot == nullptr) continue;
    MatmulKernels& k = t[i];
    k.weight = tr->type;
    k.act_type = tr->vec_dot_type;
    k.vec_dot = tr->vec_dot;
    if (k.act_type != DType::F32) k.quantize_act = quant::type_traits(k.act_type)->from_float;
  }
  const simd::IsaKernels* s = isa_kernels(isa);
  if (s == nullptr) return t;
  auto set = [&](DType w, quant::VecDotFn f) {
    if (f != nullptr && t[static_cast<size_t>(w)].vec_dot != nullptr) t[static_cast<size_t>(w)].vec_dot = f;
  };
  set(DType::F32, s->f32);
  set(DType::F16, s->f16);
  set(DType::BF16, s->bf16);
  set(DType::Q8_0, s->q8_0);
  set(DType::Q4_0, s->q4_0);
  set(DType::Q5_0, s->q5_0);
  set(DType::Q4_1, s->q4_1);
  set(DType::Q5_1, s->q5_1);
  set(DType::Q2_K, s->q2_K);
  set(DType::Q3_K, s->q3_K);
  set(DType::Q4_K, s->q4_K);
  set(DType::Q5_K, s->q5_K);
  set(DType::Q6_K, s->q6_K);
  set(DType::IQ4_NL, s->iq4_nl);
  set(DType::IQ4_XS, s->iq4_xs);
  set(DType::IQ2_XXS, s->iq2_xxs);
  set(DType::IQ2_XS, s->iq2_xs);
  set(DType::IQ2_S, s->iq2_s);
  set(DType::IQ3_XXS, s->iq3_xxs);
  set(DType::IQ3_S, s->iq3_s);
  set(DType::IQ1_S, s->iq1_s);
  set(DType::IQ1_M, s->iq1_m);
  auto set_tokens = [&](DType w, simd::RowTokensFn f) {
    if (t[static_cast<size_t>(w)].vec_dot != nullptr) t[static_cast<size_t>(w)].dot_tokens = f;
  };
  set_tokens(DType::IQ2_XXS, s->iq2_xxs_tokens);
  set_tokens(DType::IQ2_XS, s->iq2_xs_tokens);
  set_tokens(DType::IQ2_S, s->iq2_s_tokens);
  set_tokens(DType::IQ3_XXS, s->iq3_xxs_tokens);
  set_tokens(DType::IQ3_S, s->iq3_s_tokens);
  set_tokens(DType::IQ1_S, s->iq1_s_tokens);
  set_tokens(DType::IQ1_M, s->iq1_m_tokens);
  for (MatmulKernels& k : t) {
    if (k.vec_dot == nullptr) continue;
    if (k.act_type == DType::Q8_0 && s->quantize_q8_0 != nullptr) k.quantize_act = s->quantize_q8_0;
    if (k.act_type == DType::Q8_K && s->quantize_q8_K != nullptr) k.quantize_act = s->quantize_q8_K;
  }
  return t;
}

const Table& table(Isa isa) {
  static const std::array<Table, kNumIsas> tables = {build_table(Isa::kScalar), build_table(Isa::kAvx2),
                                                     build_table(Isa::kAvx512), build_table(Isa::kNeon)};
  return tables[static_cast<size_t>(isa)];
}

Isa best_isa() {
  if (isa_available(Isa::kAvx512)) return Isa::kAvx512;
  if (isa_available(Isa::kAvx2)) return Isa::kAvx2;
  if (isa_available(Isa::kNeon)) return Isa::kNeon;
  return Isa::kScalar;
}

Isa pick_isa() {
  const Isa best = best_isa();
  const char* env = std::getenv("AUTOGLM_CPU_ISA");
  if (env == nullptr || *env == '\0') return best;
  for (int i = 0; i < kNumIsas; ++i) {
    const Isa want = static_cast<Isa>(i);
    if (std::strcmp(env, isa_name(want)) != 0) continue;
    if (isa_available(want)) return want;
    AG_LOG(kWarn, "AUTOGLM_CPU_ISA=%s is not available on this CPU/build; using %s", env, isa_name(best));
    return best;
  }
  AG_LOG(kWarn, "AUTOGLM_CPU_ISA=%s is not one of scalar, avx2, avx512, neon; using %s", env, isa_name(best));
  return best;
}

// f32 dot for attention: the portable loop keeps 8 partial sums so the compiler vectorises it.

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kNeon: return "neon";
  }
  return "?";
}

bool isa_available(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return true;
    case Isa::kAvx2:
#if defined(AUTOGLM_HAVE_AVX2_KERNELS)
      return simd::cpu_has_avx2_fma() && __builtin_cpu_supports("f16c");
#else
      return false;
#endif
    case Isa::kAvx512:
#if defined(AUTOGLM_HAVE_AVX512_KERNELS)
      return simd::cpu_has_avx512_vnni();
#else
      return false;
#endif
    case Isa::kNeon:
#if defined(AUTOGLM_HAVE_NEON_KERNELS)
      return true;  // baseline on AArch64; SDOT is chosen inside neon_kernels()
#else
      return false;
#endif
  }
  return false;
}

Isa active_isa() {
  static const Isa isa = pick_isa();
  return isa;
}

const MatmulKernels* cpu_kernels_for(DType weight, Isa isa) {
  const size_t i = static_cast<size_t>(weight);
  if (i >= kNumTypes || static_cast<int>(isa) < 0 || static_cast<int>(isa) >= kNumIsas) return nullptr;
  if (!isa_available(isa)) return nullptr;
  const MatmulKernels& k = table(isa)[i];
  return k.vec_dot != nullptr ? &k : nullptr;
}

const MatmulKernels* cpu_kernels_for(DType weight) { return cpu_kernels_for(weight, active_isa()); }

void silu_mul_reference(const float* g, const float* u, float* o, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float v = g[i];
    v *= 1.0f / (1.0f + std::exp(-v));
    o[i] = v * u[i];
  }
}

void silu_mul(const float* g, const float* u, float* o, int64_t n) {
  using Fn = void (*)(const float*, const float*, float*, int64_t);
  static const Fn f = [] {
    const simd::IsaKernels* s = isa_kernels(active_isa());
    return s != nullptr && s->silu_mul != nullptr ? s->silu_mul : static_cast<Fn>(silu_mul_reference);
  }();
  f(g, u, o, n);
}

namespace {
#include "backends/cpu/simd/exp_sum.inc.h"
}  // namespace

float exp_shift_sum_reference(float* x, int64_t n, float shift) {
  float lanes[kExpSumLanes] = {};
  for (int64_t i = 0; i < n; ++i) {
    x[i] = exp_poly(x[i] - shift);
    lanes[i % kExpSumLanes] += x[i];
  }
  return fold_exp_lanes(lanes);
}

ExpShiftSumFn exp_shift_sum_for(Isa isa) {
  if (isa == Isa::kScalar) return exp_shift_sum_reference;
  if (!isa_available(isa)) return nullptr;
  const simd::IsaKernels* s = isa_kernels(isa);
  return s != nullptr && s->exp_shift_sum != nullptr ? s->exp_shift_sum : exp_shift_sum_reference;
}

float exp_shift_sum(float* x, int64_t n, float shift) {
  static const ExpShiftSumFn f = exp_shift_sum_for(active_isa());
  return f(x, n, shift);
}

float dot_f32(const float* a, const float* b, int64_t n) {
  // The F32 row kernel of the active ISA (AVX-512, AVX2, NEON or the reference).
  static const quant::VecDotFn dot = cpu_kernels_for(DType::F32)->vec_dot;
  return dot(n, a, b);
}

}  // namespace autoglm::cpu
