// Model: an architecture's hyper-parameters, its weights (views into the model file) and a
// builder that emits the graph of one engine step. One short file per architecture.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "autoglm/status.h"
#include "graph/graph.h"
#include "kv/kv_cache.h"

namespace autoglm {
namespace gguf { class File; }

struct ModelHParams {
  std::string arch;
  int32_t n_vocab = 0;
  int32_t n_ctx_train = 0;
  int32_t n_embd = 0;
  int32_t n_layer = 0;
  int32_t n_head = 0;
  int32_t n_head_kv = 0;
  int32_t head_dim = 0;
  int32_t n_ff = 0;
  int32_t n_rot = 0;
  float rms_eps = 1e-5f;
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;
  graph::RopeStyle rope_style = graph::RopeStyle::kAdjacent;
  bool tied_output = false;
};

// Names of the per-step graph inputs every model graph uses.
inline constexpr const char* kInputTokens = "tokens";          // i32 [n_tokens]
inline constexpr const char* kInputPositions = "positions";    // i32 [n_tokens]
inline constexpr const char* kInputOutputRows = "output_rows";  // i32 [n_outputs]: rows to get logits for

class Model {
 public:
  virtual ~Model() = default;
  const ModelHParams& hparams() const { return hp_; }
  // The graph of one step over n_tokens tokens that outputs logits [n_outputs, n_vocab].
  virtual graph::Graph build_step_graph(int64_t n_tokens, int64_t n_outputs) const = 0;
  kv::KVCacheConfig kv_config(int32_t n_ctx, DType kv_type, int32_t block_size = 16) const;
  // Bytes of weights (for reporting).
  virtual size_t weight_bytes() const = 0;

 protected:
  explicit Model(ModelHParams hp) : hp_(std::move(hp)) {}
  ModelHParams hp_;
};

struct ModelLoadOptions {
  // Convert f32/f16/bf16 matrices to this type at load (F32 = keep as stored).
  DType requantize = DType::F32;
  // Re-lay Q8_0/Q4_0 matrices in the CPU backend's 16-row interleaved form where its SIMD
  // kernels use it (backends/cpu/packed.h). Off: matmuls run on the file's layout.
  bool pack_weights = true;
};

// Reads the architecture from general.architecture and builds the model; the file must
// outlive the model (weights are views into its mapping). CorruptFile for inconsistent
// hyper-parameters or tensors, Unsupported for unknown architectures or types.
Result<std::unique_ptr<Model>> load_model(std::shared_ptr<const gguf::File> file, const ModelLoadOptions& opts = {});

}  // namespace autoglm
