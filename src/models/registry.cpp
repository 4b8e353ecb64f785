// Architecture registry: general.architecture -> loader.
#include "formats/gguf.h"
#include "models/llama.h"
#include "models/model.h"

namespace autoglm {

kv::KVCacheConfig Model::kv_config(int32_t n_ctx, DType kv_type, int32_t block_size) const {
  kv::KVCacheConfig c;
  c.n_layers = hp_.n_layer;
  c.n_kv_heads = hp_.n_head_kv;
  c.head_dim = hp_.head_dim;
  c.block_size = block_size;
  c.n_blocks = static_cast<int32_t>((int64_t{n_ctx} + block_size - 1) / block_size);
  c.dtype = kv_type;
  return c;
}

Result<std::unique_ptr<Model>> load_model(std::shared_ptr<const gguf::File> file, const ModelLoadOptions& opts) {
  auto arch = file->get_string("general.architecture");
  if (!arch) return CorruptFile("missing metadata key 'general.architecture'");
  if (*arch == "llama") return LlamaModel::load(std::move(file), *arch, opts);
  return Unsupported("architecture '" + *arch + "' is not supported yet (supported: llama)");
}

}  // namespace autoglm
