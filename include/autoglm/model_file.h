// Reading a model file's metadata and tensor table without loading the model (inspect).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "autoglm/status.h"

namespace autoglm {

struct TensorSummary {
  std::string name;
  std::string type;             // "f32", "q4_K", ...
  std::vector<int64_t> shape;   // outermost-first
  uint64_t offset = 0;          // within the data section
  uint64_t nbytes = 0;
};

struct ModelFileSummary {
  std::string format;  // "GGUF v3"
  uint64_t file_size = 0;
  uint64_t alignment = 0;
  uint64_t data_offset = 0;
  std::vector<std::pair<std::string, std::string>> metadata;  // key, rendered value
  std::vector<TensorSummary> tensors;
};

Result<ModelFileSummary> inspect_model_file(const std::string& path);

}  // namespace autoglm
