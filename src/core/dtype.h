// DType: element/block types, numbered exactly as GGUF's ggml_type ids so a file's type id
// maps to a DType without a table. The byte layout of each block type lives in src/quant/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace autoglm {

enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  // 4 and 5 were Q4_2/Q4_3, removed from GGUF.
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  // Engine-internal layouts, never read from or written to a file: Q8_0 / Q4_0 / Q5_0 / Q4_1 / Q5_1 matrices
  // with 16 rows interleaved per block so one SIMD register holds the same 4 columns of 16 rows
  // (backends/cpu/packed.h). Same bytes per row as the source type; rows % 16 == 0.
  Q8_0_R16 = 1008,
  Q4_0_R16 = 1002,
  Q5_0_R16 = 1006,
  Q4_1_R16 = 1003,
  Q5_1_R16 = 1007,
  // Q4_K with 16 rows interleaved (backends/cpu/packed_q4k.h): 144 bytes per row and 256
  // columns, as Q4_K; rows % 16 == 0.
  Q4_K_R16 = 1012,
  // Q6_K with 16 rows interleaved (backends/cpu/packed_q6k.h): 210 bytes per row and 256 columns.
  Q6_K_R16 = 1014,
  // Q5_K likewise (packed_q4k.h): 176 bytes per row and 256 columns.
  Q5_K_R16 = 1013,
  // Q3_K likewise (packed_q3k.h): 110 bytes per row and 256 columns.
  Q3_K_R16 = 1011,
  // IQ4_NL likewise, as Q4_0_R16 (packed.h): 18 bytes per row and 32 columns.
  IQ4_NL_R16 = 1020,
  // IQ4_XS likewise (packed_iq4xs.h): 136 bytes per row and 256 columns.
  IQ4_XS_R16 = 1023,
  // F16 / BF16 with 16 rows interleaved column by column (packed_float.h): 2 bytes per element.
  F16_R16 = 1001,
  // Q2_K likewise (packed_q2k.h): 84 bytes per row and 256 columns.
  Q2_K_R16 = 1010,
  BF16_R16 = 1030,
  // BF16 with 16 rows interleaved by column pairs, for vdpbf16ps (packed_float.h): 2 bytes per
  // element; its products round the activations to bf16.
  BF16_R16P = 1031,
  // F32 with 16 rows interleaved column by column (packed_float.h): 4 bytes per element.
  F32_R16 = 1000,
  // A lattice type's 16-row group decoded to bytes for one call (packed_lattice.h); never a
  // tensor's type: 274 bytes per row and 256 columns.
  LATTICE_R16 = 1016,
};

// Layout facts every layer needs: a row of n elements of type t takes
// n / block_size * type_size bytes and n must be a multiple of block_size.
struct DTypeInfo {
  DType type;
  const char* name;    // GGUF spelling: "f32", "q4_K", ...
  int64_t block_size;  // elements per block (1 for plain types)
  size_t type_size;    // bytes per block
  bool quantized;      // block-quantized format
};

// Info for a GGUF type id, or nullopt when the id is unknown or unsupported here (the
// engine-internal layouts are not GGUF ids and give nullopt).
std::optional<DTypeInfo> dtype_info_from_id(uint32_t id);
const DTypeInfo& dtype_info(DType t);
inline const char* dtype_name(DType t) { return dtype_info(t).name; }
std::optional<DType> dtype_from_name(std::string_view name);  // case-insensitive

// Bytes of a row of n elements; requires n % block_size == 0 (callers validate first).
inline size_t row_size(DType t, int64_t n) {
  const DTypeInfo& i = dtype_info(t);
  return static_cast<size_t>(n / i.block_size) * i.type_size;
}

}  // namespace autoglm
