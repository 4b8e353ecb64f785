#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "models/model.h"

namespace autoglm {

class LlamaModel final : public Model {
 public:
  static Result<std::unique_ptr<Model>> load(std::shared_ptr<const gguf::File> file, const std::string& arch,
                                             const ModelLoadOptions& opts);
  graph::Graph build_step_graph(int64_t n_tokens, int64_t n_outputs) const override;
  size_t weight_bytes() const override { return weight_bytes_; }

 private:
  explicit LlamaModel(ModelHParams hp) : Model(std::move(hp)) {}

  struct Layer {
    Tensor attn_norm, wq, wk, wv, wo, ffn_norm, w_gate, w_up, w_down;
    Tensor w_gate_up;  // gate and up paired in one packed matrix (WeightLoader::gate_up), else w_gate, w_up
  };
  std::shared_ptr<const gguf::File> file_;  // keeps the mapping the weights point into
  Tensor tok_embd_, output_norm_, output_;
  std::vector<Layer> layers_;
  size_t weight_bytes_ = 0;
};

}  // namespace autoglm
