// Every SIMD row kernel of every ISA this CPU has, against the scalar reference in src/quant:
// odd sizes (1..several blocks), unaligned rows, random and extreme data. Integer block sums
// are exact, so with power-of-two scales the result must equal the reference exactly;
// otherwise only the float accumulation order differs and a tight relative bound applies.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/simd/simd.h"
#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/quant.h"
#include "../quant/quant_test_util.h"

namespace autoglm::cpu {
namespace {

const DType kWeightTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0,
                              DType::Q5_0, DType::Q4_1, DType::Q5_1, DType::Q2_K, DType::Q3_K,
                              DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_NL, DType::IQ4_XS};

std::vector<Isa> simd_isas() {
  std::vector<Isa> v;
  for (Isa i : {Isa::kAvx2, Isa::kAvx512, Isa::kNeon}) {
    if (isa_available(i)) v.push_back(i);
  }
  return v;
}

// A byte buffer whose data is 4 bytes past a 16-byte boundary: aligned for the element and
// block types (the reference needs that), never for a vector load.
struct Unaligned {
  explicit Unaligned(size_t n) : buf(n + 64) {}
  uint8_t* data() {
    const auto p = reinterpret_cast<uintptr_t>(buf.data());
    return buf.data() + ((16 - p % 16) % 16) + 4;
  }
  std::vector<uint8_t> buf;
};

enum class Data { kRandom, kExtreme };

std::vector<float> make_floats(int64_t n, Data kind, std::mt19937& rng) {
  std::vector<float> v(static_cast<size_t>(n));
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::uniform_int_distribution<int> pick(0, 9);
  for (auto& x : v) {
    x = nd(rng);
    if (kind == Data::kExtreme) {
      switch (pick(rng)) {
        case 0: x *= 1e4f; break;                 // outliers that set the block scale
        case 1: x = 0.0f; break;
        case 2: x *= 1e-6f; break;                // tiny values next to large ones
        case 3: x = std::round(x * 4) / 2; break;  // exact halves: rounding ties
        default: break;
      }
    }
  }
  return v;
}

float ref_abs_dot(DType t, int64_t n, const void* x, const void* y) {
  const quant::TypeTraits* tr = quant::type_traits(t);
  std::vector<float> xf(static_cast<size_t>(n)), yf(static_cast<size_t>(n));
  quant::dequantize_row(t, x, xf.data(), n);
  quant::dequantize_row(tr->vec_dot_type, y, yf.data(), n);
  double s = 0;
  for (size_t i = 0; i < xf.size(); ++i) s += std::fabs(double(xf[i]) * yf[i]);
  return static_cast<float>(s);
}

int64_t block_of(DType t) { return dtype_info(t).block_size == 1 ? 1 : dtype_info(t).block_size; }

// Sizes: 1..5 blocks and a few longer rows; plain types also get lengths with SIMD tails.
std::vector<int64_t> sizes_for(DType t) {
  const int64_t b = block_of(t);
  if (b == 1) return {1, 3, 7, 8, 15, 16, 17, 31, 33, 63, 65, 100, 257, 1000, 2053};
  std::vector<int64_t> v;
  for (int64_t nb : {1, 2, 3, 4, 5, 7, 9, 17}) v.push_back(nb * b);
  return v;
}

TEST(SimdKernels, DotMatchesReference) {
  for (Isa isa : simd_isas()) {
    for (DType t : kWeightTypes) {
      const MatmulKernels* k = cpu_kernels_for(t, isa);
      ASSERT_NE(k, nullptr);
      const quant::TypeTraits* tr = quant::type_traits(t);
      std::mt19937 rng(1234 + static_cast<int>(t));
      for (int64_t n : sizes_for(t)) {
        for (Data kind : {Data::kRandom, Data::kExtreme}) {
          const std::vector<float> wf = make_floats(n, kind, rng), xf = make_floats(n, kind, rng);
          Unaligned w(row_size(t, n)), a(row_size(tr->vec_dot_type, n));
          quant::quantize_row(t, wf.data(), w.data(), n);
          quant::quantize_row(tr->vec_dot_type, xf.data(), a.data(), n);
          const float ref = tr->vec_dot(n, w.data(), a.data());
          const float got = k->vec_dot(n, w.data(), a.data());
          const float tol = 2e-6f * static_cast<float>(n) * ref_abs_dot(t, n, w.data(), a.data()) + 1e-30f;
          ASSERT_NEAR(got, ref, tol) << isa_name(isa) << " " << dtype_name(t) << " n=" << n;
        }
      }
    }
  }
}

// Random bit patterns in the quantized payload (every nibble / 6-bit value / int8 incl. -128),
// with scales 1.0 and activation scale 1.0: the result is an integer sum, so it must be exact.
void set_unit_scales(DType t, uint8_t* row, int64_t nb) {
  const uint16_t one = quant::fp32_to_fp16(1.0f);
  for (int64_t i = 0; i < nb; ++i) {
    switch (t) {
      case DType::Q8_0: reinterpret_cast<quant::block_q8_0*>(row)[i].d = one; break;
      case DType::Q4_0: reinterpret_cast<quant::block_q4_0*>(row)[i].d = one; break;
      case DType::Q5_0: reinterpret_cast<quant::block_q5_0*>(row)[i].d = one; break;
      case DType::Q4_1: {
        auto& b = reinterpret_cast<quant::block_q4_1*>(row)[i];
        b.d = one;
        b.m = one;
        break;
      }
      case DType::Q5_1: {
        auto& b = reinterpret_cast<quant::block_q5_1*>(row)[i];
        b.d = one;
        b.m = one;
        break;
      }
      case DType::Q4_K: {
        auto& b = reinterpret_cast<quant::block_q4_K*>(row)[i];
        b.d = one;
        b.dmin = one;
        break;
      }
      case DType::Q5_K: {
        auto& b = reinterpret_cast<quant::block_q5_K*>(row)[i];
        b.d = one;
        b.dmin = one;
        break;
      }
      case DType::Q6_K: reinterpret_cast<quant::block_q6_K*>(row)[i].d = one; break;
      case DType::Q3_K: reinterpret_cast<quant::block_q3_K*>(row)[i].d = one; break;
      case DType::Q2_K: {
        auto& b = reinterpret_cast<quant::block_q2_K*>(row)[i];
        b.d = one;
        b.dmin = one;
        break;
      }
      default: FAIL();
    }
  }
}

TEST(SimdKernels, IntegerSumsAreExact) {
  for (Isa isa : simd_isas()) {
    for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q5_0, DType::Q4_1, DType::Q5_1, DType::Q2_K, DType::Q3_K,
                    DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
      const quant::TypeTraits* tr = quant::type_traits(t);
      const int64_t b = block_of(t);
      std::mt19937 rng(99 + static_cast<int>(t));
      std::uniform_int_distribution<int> byte(0, 255), q8(-127, 127);
      for (int64_t nb : {1, 2, 3, 5, 8}) {
        const int64_t n = nb * b;
        for (int rep = 0; rep < 4; ++rep) {
          Unaligned w(row_size(t, n)), a(row_size(tr->vec_dot_type, n));
          for (size_t i = 0; i < row_size(t, n); ++i) w.data()[i] = static_cast<uint8_t>(byte(rng));
          set_unit_scales(t, w.data(), nb);
          if (tr->vec_dot_type == DType::Q8_0) {
            auto* y = reinterpret_cast<quant::block_q8_0*>(a.data());
            for (int64_t i = 0; i < n / quant::kQK; ++i) {
              y[i].d = quant::fp32_to_fp16(1.0f);
              for (auto& q : y[i].qs) q = static_cast<int8_t>(rep == 0 ? 1 : rep == 1 ? -1 : q8(rng));
            }
          } else {
            auto* y = reinterpret_cast<quant::block_q8_K*>(a.data());
            for (int64_t i = 0; i < n / quant::kQKK; ++i) {
              y[i].d = 1.0f;
              for (auto& q : y[i].qs) q = static_cast<int8_t>(rep == 0 ? 1 : rep == 1 ? -1 : q8(rng));
              for (int g = 0; g < 16; ++g) {
                int s = 0;
                for (int l = 0; l < 16; ++l) s += y[i].qs[16 * g + l];
                y[i].bsums[g] = static_cast<int16_t>(s);
              }
            }
          }
          const float ref = tr->vec_dot(n, w.data(), a.data());
          const float got = cpu_kernels_for(t, isa)->vec_dot(n, w.data(), a.data());
          ASSERT_EQ(got, ref) << isa_name(isa) << " " << dtype_name(t) << " n=" << n << " rep=" << rep;
        }
      }
    }
  }
}

// The lattice types (no quantizer: random blocks, tests/quant/quant_test_util.h): the SIMD dots
// do the reference's integer sums and float steps in its order, so the results are equal bits.
// Activations: random, extreme, and every element at +127 or -127.
TEST(SimdKernels, LatticeDotsEqualReference) {
  for (Isa isa : simd_isas()) {
    for (DType t : quant::testing::kLatticeTypes) {
      const quant::TypeTraits* tr = quant::type_traits(t);
      std::mt19937 rng(555 + static_cast<int>(t));
      std::uniform_int_distribution<int> coin(0, 1);
      for (int64_t nb : {1, 2, 3, 5, 8}) {
        const int64_t n = nb * quant::kQKK;
        for (int rep = 0; rep < 4; ++rep) {
          const std::vector<uint8_t> wq = quant::testing::random_lattice_row(t, nb, rng);
          Unaligned w(wq.size()), a(row_size(DType::Q8_K, n));
          std::memcpy(w.data(), wq.data(), wq.size());
          std::vector<float> xf = make_floats(n, rep == 1 ? Data::kExtreme : Data::kRandom, rng);
          if (rep == 2) {
            for (auto& x : xf) x = coin(rng) ? 1.0f : -1.0f;
          }
          quant::quantize_row(DType::Q8_K, xf.data(), a.data(), n);
          const float ref = tr->vec_dot(n, w.data(), a.data());
          const float got = cpu_kernels_for(t, isa)->vec_dot(n, w.data(), a.data());
          ASSERT_EQ(std::bit_cast<uint32_t>(got), std::bit_cast<uint32_t>(ref))
              << isa_name(isa) << " " << dtype_name(t) << " n=" << n << " rep=" << rep << ": " << got << " vs " << ref;
        }
      }
    }
  }
}

// The several-token form (row decoded once, prefill and batched decode) gives each token the bits
// of the one-token dot, written at the requested stride.
TEST(SimdKernels, LatticeTokenDotsEqualRowDots) {
  for (Isa isa : simd_isas()) {
    for (DType t : quant::testing::kLatticeTypes) {
      const MatmulKernels* k = cpu_kernels_for(t, isa);
      if (k->dot_tokens == nullptr) continue;  // NEON: dot_row_tokens loops the row dot
      std::mt19937 rng(777 + static_cast<int>(t));
      for (int64_t nb : {1, 3, 8}) {
        const int64_t n = nb * quant::kQKK;
        const std::vector<uint8_t> w = quant::testing::random_lattice_row(t, nb, rng);
        for (int64_t nt : {1, 2, 5, 17}) {
          const size_t act_row = row_size(DType::Q8_K, n) + 4;  // rows need not be packed
          std::vector<uint8_t> act(act_row * static_cast<size_t>(nt));
          for (int64_t i = 0; i < nt; ++i) {
            const std::vector<float> xf = make_floats(n, i % 2 ? Data::kExtreme : Data::kRandom, rng);
            quant::quantize_row(DType::Q8_K, xf.data(), act.data() + act_row * static_cast<size_t>(i), n);
          }
          const int64_t stride = 3;
          std::vector<float> out(static_cast<size_t>(nt * stride), -1.0f);
          k->dot_tokens(n, w.data(), act.data(), act_row, nt, out.data(), stride);
          for (int64_t i = 0; i < nt; ++i) {
            const float one = k->vec_dot(n, w.data(), act.data() + act_row * static_cast<size_t>(i));
            ASSERT_EQ(std::bit_cast<uint32_t>(out[static_cast<size_t>(i * stride)]), std::bit_cast<uint32_t>(one))
                << isa_name(isa) << " " << dtype_name(t) << " n=" << n << " nt=" << nt << " token " << i;
            EXPECT_EQ(out[static_cast<size_t>(i * stride + 1)], -1.0f);  // only the stride's slots written
          }
        }
      }
    }
  }
}

TEST(SimdKernels, NonFiniteFloatWeightsPropagate) {
  for (Isa isa : simd_isas()) {
    for (DType t : {DType::F32, DType::F16, DType::BF16}) {
      for (int64_t n : {5, 16, 37, 64}) {
        std::vector<float> wf(static_cast<size_t>(n), 1.0f), xf(static_cast<size_t>(n), 1.0f);
        wf[static_cast<size_t>(n / 2)] = std::numeric_limits<float>::infinity();
        Unaligned w(row_size(t, n));
        quant::quantize_row(t, wf.data(), w.data(), n);
        const float got = cpu_kernels_for(t, isa)->vec_dot(n, w.data(), xf.data());
        EXPECT_TRUE(std::isinf(got)) << isa_name(isa) << " " << dtype_name(t) << " n=" << n;
      }
    }
  }
}

// Activation quantizers must write the reference's bytes exactly.
std::vector<float> quantizer_input(int64_t n, int mode, std::mt19937& rng) {
  std::vector<float> v = make_floats(n, mode == 0 ? Data::kRandom : Data::kExtreme, rng);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  switch (mode) {
    case 2: for (auto& x : v) x = 0.0f; break;                              // all-zero blocks
    case 3: v[0] = 3.0f; v[1] = -3.0f; v[v.size() - 1] = -3.0f; break;     // +a / -a ties
    case 4: v[0] = -3.0f; v[2] = 3.0f; break;
    case 5: v[3] = nan; break;
    case 6: v[5] = inf; break;
    case 7: for (auto& x : v) x *= 1e-40f; break;                          // subnormals
    case 8: for (size_t i = 0; i < v.size(); ++i) v[i] = float(int(i % 255) - 127) * 0.5f; break;  // ties
    case 9: for (auto& x : v) x = nan; break;
    case 10:  // 127 in every block: scale exactly 1, so the halves are exact rounding ties
      for (size_t i = 0; i < v.size(); ++i) v[i] = float(int(i * 37 % 509) - 254) * 0.5f;
      for (size_t i = 0; i < v.size(); i += 32) v[i] = 127.0f;
      break;
    default: break;
  }
  return v;
}

TEST(SimdKernels, ActivationQuantizersBitExact) {
  for (Isa isa : simd_isas()) {
    for (DType w : {DType::Q8_0, DType::Q4_K}) {
      const MatmulKernels* k = cpu_kernels_for(w, isa);
      ASSERT_NE(k->quantize_act, nullptr);
      const DType at = k->act_type;
      std::mt19937 rng(7);
      for (int mode = 0; mode < 11; ++mode) {
        for (int64_t nb : {1, 2, 3, 6, 19, 35}) {  // past 16 blocks: the 512-bit Q8_0 quantizer's groups
          const int64_t n = nb * block_of(at);
          std::vector<float> x = quantizer_input(n, mode, rng);
          std::vector<float> xs(x.size() + 1);
          std::memcpy(xs.data() + 1, x.data(), x.size() * sizeof(float));  // 4-byte aligned only
          Unaligned got(row_size(at, n)), ref(row_size(at, n));
          std::memset(got.data(), 0xAB, row_size(at, n));
          k->quantize_act(xs.data() + 1, got.data(), n);
          quant::quantize_row(at, x.data(), ref.data(), n);
          ASSERT_EQ(std::memcmp(got.data(), ref.data(), row_size(at, n)), 0)
              << isa_name(isa) << " " << dtype_name(at) << " mode=" << mode << " n=" << n;
        }
      }
    }
  }
}

TEST(SimdKernels, DispatchTable) {
  EXPECT_TRUE(isa_available(Isa::kScalar));
  EXPECT_TRUE(isa_available(active_isa()));
  for (DType t : kWeightTypes) {
    const MatmulKernels* s = cpu_kernels_for(t, Isa::kScalar);
    ASSERT_NE(s, nullptr) << dtype_name(t);
    EXPECT_EQ(s->vec_dot, quant::type_traits(t)->vec_dot);  // the scalar path is the reference
    EXPECT_EQ(s->act_type, quant::type_traits(t)->vec_dot_type);
    EXPECT_NE(cpu_kernels_for(t), nullptr);
  }
  // Every weight type the engine reads has a SIMD kernel on each ISA; types without one would
  // run their reference, as the scalar table does.
  for (Isa isa : simd_isas()) {
    for (DType t : kWeightTypes) {
      EXPECT_NE(cpu_kernels_for(t, isa)->vec_dot, quant::type_traits(t)->vec_dot) << dtype_name(t) << " " << isa_name(isa);
    }
    for (DType t : quant::testing::kLatticeTypes) {
      EXPECT_NE(cpu_kernels_for(t, isa)->vec_dot, quant::type_traits(t)->vec_dot) << dtype_name(t) << " " << isa_name(isa);
      // x86 decodes a row once for several tokens; NEON loops its row dot.
      EXPECT_EQ(cpu_kernels_for(t, isa)->dot_tokens != nullptr, isa != Isa::kNeon) << dtype_name(t) << " " << isa_name(isa);
    }
  }
  EXPECT_EQ(cpu_kernels_for(DType::I32), nullptr);
  EXPECT_EQ(cpu_kernels_for(static_cast<DType>(200)), nullptr);
}

#if defined(__aarch64__)  // src/CMakeLists.txt compiles the NEON kernels on every AArch64 build
// NEON is baseline on AArch64; the SDOT dots are used exactly where the CPU reports dotprod.
// scripts/test_arm.sh runs this under qemu with and without dotprod and says which to expect.
TEST(SimdKernels, NeonDispatchFollowsDotprod) {
  ASSERT_TRUE(isa_available(Isa::kNeon));
  if (std::getenv("AUTOGLM_CPU_ISA") == nullptr) {
    EXPECT_EQ(active_isa(), Isa::kNeon);
  }
  const bool sdot = simd::cpu_has_neon_dotprod();
  EXPECT_EQ(cpu_kernels_for(DType::Q8_0, Isa::kNeon)->vec_dot == simd::neon_dotprod_q8_0, sdot);
  EXPECT_EQ(cpu_kernels_for(DType::Q4_0, Isa::kNeon)->vec_dot == simd::neon_dotprod_q4_0, sdot);
  if (const char* want = std::getenv("AUTOGLM_EXPECT_NEON_DOTPROD")) {
    EXPECT_EQ(sdot, std::string(want) == "1") << "AUTOGLM_EXPECT_NEON_DOTPROD=" << want;
  }
}
#endif

}  // namespace
}  // namespace autoglm::cpu
