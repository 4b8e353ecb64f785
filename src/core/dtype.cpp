#include "core/dtype.h"

#include <array>
#include <cctype>
#include <cstdlib>

namespace autoglm {
namespace {

// Sizes are GGUF's: e.g. Q4_0 = f16 scale + 16 bytes of nibbles = 18 bytes per 32 elements.
constexpr std::array<DTypeInfo, 28> kInfos = {{
    {DType::F32, "f32", 1, 4, false},
    {DType::F16, "f16", 1, 2, false},
    {DType::Q4_0, "q4_0", 32, 18, true},
    {DType::Q4_1, "q4_1", 32, 20, true},
    {DType::Q5_0, "q5_0", 32, 22, true},
    {DType::Q5_1, "q5_1", 32, 24, true},
    {DType::Q8_0, "q8_0", 32, 34, true},
    {DType::Q8_1, "q8_1", 32, 36, true},
    {DType::Q2_K, "q2_K", 256, 84, true},
    {DType::Q3_K, "q3_K", 256, 110, true},
    {DType::Q4_K, "q4_K", 256, 144, true},
    {DType::Q5_K, "q5_K", 256, 176, true},
    {DType::Q6_K, "q6_K", 256, 210, true},
    {DType::Q8_K, "q8_K", 256, 292, true},
    {DType::IQ4_NL, "iq4_nl", 32, 18, true},
    {DType::IQ4_XS, "iq4_xs", 256, 136, true},
    {DType::IQ2_XXS, "iq2_xxs", 256, 66, true},
    {DType::IQ2_XS, "iq2_xs", 256, 74, true},
    {DType::IQ2_S, "iq2_s", 256, 82, true},
    {DType::IQ3_XXS, "iq3_xxs", 256, 98, true},
    {DType::IQ3_S, "iq3_s", 256, 110, true},
    {DType::IQ1_S, "iq1_s", 256, 50, true},
    {DType::IQ1_M, "iq1_m", 256, 56, true},
    {DType::I8, "i8", 1, 1, false},
    {DType::I16, "i16", 1, 2, false},
    {DType::I32, "i32", 1, 4, false},
    {DType::I64, "i64", 1, 8, false},
    {DType::F64, "f64", 1, 8, false},
}};
constexpr DTypeInfo kBF16 = {DType::BF16, "bf16", 1, 2, false};
// Internal interleaved layouts: a "block" here is one source block of one row, so row sizes
// and tensor byte counts are those of the source type.
constexpr std::array<DTypeInfo, 17> kInternal = {{
    {DType::Q8_0_R16, "q8_0_r16", 32, 34, true},
    {DType::Q4_0_R16, "q4_0_r16", 32, 18, true},
    {DType::Q5_0_R16, "q5_0_r16", 32, 22, true},
    {DType::Q4_1_R16, "q4_1_r16", 32, 20, true},
    {DType::Q5_1_R16, "q5_1_r16", 32, 24, true},
    {DType::Q4_K_R16, "q4_K_r16", 256, 144, true},
    {DType::Q3_K_R16, "q3_K_r16", 256, 110, true},
    {DType::Q5_K_R16, "q5_K_r16", 256, 176, true},
    {DType::Q6_K_R16, "q6_K_r16", 256, 210, true},
    {DType::IQ4_NL_R16, "iq4_nl_r16", 32, 18, true},
    {DType::IQ4_XS_R16, "iq4_xs_r16", 256, 136, true},
    {DType::F16_R16, "f16_r16", 1, 2, false},
    {DType::Q2_K_R16, "q2_K_r16", 256, 84, true},
    {DType::BF16_R16, "bf16_r16", 1, 2, false},
    {DType::BF16_R16P, "bf16_r16p", 1, 2, false},
    {DType::F32_R16, "f32_r16", 1, 4, false},
    {DType::LATTICE_R16, "lattice_r16", 256, 274, true},
}};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

}  // namespace

std::optional<DTypeInfo> dtype_info_from_id(uint32_t id) {
  if (id == static_cast<uint32_t>(DType::BF16)) return kBF16;
  for (const auto& i : kInfos) {
    if (static_cast<uint32_t>(i.type) == id) return i;
  }
  return std::nullopt;
}

const DTypeInfo& dtype_info(DType t) {
  if (t == DType::BF16) return kBF16;
  for (const auto& i : kInfos) {
    if (i.type == t) return i;
  }
  for (const auto& i : kInternal) {
    if (i.type == t) return i;
  }
  std::abort();  // every enumerator has an entry; reaching here is memory corruption
}

std::optional<DType> dtype_from_name(std::string_view name) {
  if (iequals(name, kBF16.name)) return DType::BF16;
  for (const auto& i : kInfos) {
    if (iequals(name, i.name)) return i.type;
  }
  return std::nullopt;
}

}  // namespace autoglm
