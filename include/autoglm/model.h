// AutoModel: load a model file, generate text. The public face of the engine.
//
//   auto model = autoglm::AutoModel::from_pretrained("model.gguf",
//       autoglm::OptimizationConfig().enable_graph_optimization());
//   if (!model.ok()) { /* model.status().to_string() */ }
//   auto text = model->generate("Once upon a time", autoglm::GenerationConfig{});
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "autoglm/config.h"
#include "autoglm/status.h"

namespace autoglm {

class Engine;

struct ModelInfo {
  std::string architecture;
  int64_t n_vocab = 0, n_ctx_train = 0, n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0;
  int64_t n_ctx = 0;        // context this instance was loaded with
  // Bytes of the file's weight tensors the model uses, each tensor once (a tied embedding is
  // one tensor: table and output head).
  int64_t weight_bytes = 0;
  // Weight bytes read to decode one token, as the model computes (after any load-time
  // quantization): every weight matrix and norm once, plus one row of an embedding table that
  // is not also the output head. The byte count of the memory-bandwidth roofline.
  int64_t decode_bytes_per_token = 0;
  // KV cache bytes one token takes over all layers (keys and values).
  int64_t kv_bytes_per_token = 0;
  int n_threads = 0;
};

struct GenerationOutput {
  std::string text;
  std::vector<int32_t> prompt_tokens;
  std::vector<int32_t> tokens;
  std::string stop_reason;  // "length", "eos", "context_full", "callback"
  double prompt_ms = 0, generate_ms = 0;
};

class AutoModel {
 public:
  static Result<AutoModel> from_pretrained(const std::string& path, const OptimizationConfig& config = {});

  // Moves the model to a device. Only the CPU exists in this build; others are Unsupported.
  Status deploy(Device device);

  // Generates a continuation of `prompt`; on_text (optional) receives text as it is made
  // and may return false to stop early.
  Result<GenerationOutput> generate(std::string_view prompt, const GenerationConfig& config,
                                    const std::function<bool(std::string_view)>& on_text = {});

  // Perplexity of `text` (tokenized with BOS) over consecutive windows of `window` tokens
  // (0: the context size); each token after the first of its window is scored.
  struct PerplexityResult {
    double perplexity = 0, nll = 0;
    int64_t tokens_scored = 0;
    int32_t windows = 0;
  };
  Result<PerplexityResult> perplexity(std::string_view text, int32_t window = 0);

  std::vector<int32_t> tokenize(std::string_view text, bool add_special = true, bool parse_special = false) const;
  std::string detokenize(const std::vector<int32_t>& ids) const;
  ModelInfo info() const;
  // The per-step graph as text, before or after optimization passes.
  std::string dump_graph(int64_t n_tokens, bool optimized) const;

 private:
  explicit AutoModel(std::shared_ptr<Engine> e) : engine_(std::move(e)) {}
  std::shared_ptr<Engine> engine_;
};

}  // namespace autoglm
