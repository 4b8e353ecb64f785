#include "autoglm/model_file.h"

#include "formats/gguf.h"

namespace autoglm {

Result<ModelFileSummary> inspect_model_file(const std::string& path) {
  AG_ASSIGN_OR_RETURN(std::unique_ptr<gguf::File> f, gguf::File::open(path));
  ModelFileSummary s;
  s.format = "GGUF v" + std::to_string(f->version());
  s.file_size = f->file_size();
  s.alignment = f->alignment();
  s.data_offset = f->data_offset();
  for (const auto& [key, value] : f->metadata()) s.metadata.emplace_back(key, value.to_display_string());
  for (const gguf::TensorInfo& t : f->tensors()) {
    s.tensors.push_back({t.name, dtype_name(t.type), t.shape(), t.offset, t.nbytes});
  }
  return s;
}

}  // namespace autoglm
