// Engine: one loaded model (weights, tokenizer, KV cache, thread pool, backends) and the
// generation loop: prefill the prompt in one step, then decode token by token.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "autoglm/config.h"
#include "autoglm/status.h"
#include "core/thread_pool.h"
#include "graph/executor.h"
#include "kv/kv_cache.h"
#include "kv/sequence_kv.h"
#include "models/model.h"
#include "runtime/sampler.h"
#include "tokenizer/tokenizer.h"

namespace autoglm {

// "f32", "f16" or "int8" (also "i8", "q8") -> the KV cache storage type.
Result<DType> parse_kv_cache_type(const std::string& name);

struct EngineOptions {
  int32_t n_threads = 0;            // 0: all cores
  int32_t n_ctx = 0;                // 0: the model's training context, capped at 4096
  int32_t kv_tokens = 0;            // KV cache capacity over all sequences (0: n_ctx)
  DType kv_type = DType::F16;       // F32, F16 or I8
  bool optimize_graph = true;       // run graph passes
  DType requantize = DType::F32;    // convert float weights at load (Q8_0, Q4_0, ...)
  bool pack_weights = true;         // interleave Q8_0/Q4_0 matrices for the CPU kernels
};

struct GenerationParams {
  int32_t n_predict = 128;          // tokens to generate (-1: until EOS or the context is full)
  SamplingParams sampling;
  bool add_special = true;          // BOS/EOS as the vocabulary says
  bool parse_special = false;       // user text never contains control tokens by default
  bool stop_at_eos = true;
};

enum class StopReason { kLength, kEos, kContextFull, kCallback };
const char* stop_reason_name(StopReason r);

struct GenerationResult {
  std::string text;
  std::vector<TokenId> prompt_tokens;
  std::vector<TokenId> tokens;  // generated
  StopReason stop = StopReason::kLength;
  double prompt_ms = 0, generate_ms = 0;
};

// Receives each piece of complete UTF-8 text as it is generated; return false to stop.
using TextCallback = std::function<bool(std::string_view)>;

// The engine options a public OptimizationConfig asks for (InvalidArgument for bad values).
Result<EngineOptions> engine_options_from(const OptimizationConfig& config);

class Engine {
 public:
  // Opens a GGUF model file and prepares everything for generation.
  static Result<std::unique_ptr<Engine>> load(const std::string& path, const EngineOptions& opts = {});
  ~Engine();

  const Model& model() const { return *model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  int32_t n_ctx() const { return n_ctx_; }
  int32_t n_threads() const { return pool_.size(); }
  // The engine's workers, idle between steps: callers on the engine's thread may share them.
  ThreadPool& pool() { return pool_; }

  Result<GenerationResult> generate(std::string_view prompt, const GenerationParams& params,
                                    const TextCallback& on_text = {});
  Result<GenerationResult> generate_tokens(std::vector<TokenId> prompt, const GenerationParams& params,
                                           const TextCallback& on_text = {});

  // One sequence's share of an engine step: tokens at positions [start, start + n).
  struct SeqChunk {
    kv::SequenceKV* seq = nullptr;
    const TokenId* tokens = nullptr;
    int32_t n = 0;
    int32_t start = 0;
    bool want_logits = false;  // logits of the chunk's last token
    bool all_logits = false;   // logits of every token of the chunk (perplexity)
  };
  // The logits a step returns: row r holds output r's n_vocab values. They sit in the step's
  // output buffer (no per-row copy: 16 decode rows of a 49k vocabulary were 3 MiB of fresh
  // vectors per step), which the engine's next step overwrites: read or copy them first.
  // Rows may be modified in place (the server adds logit biases there).
  class StepLogits {
   public:
    StepLogits() = default;
    StepLogits(Tensor values, int64_t rows) : values_(std::move(values)), rows_(rows) {}
    int64_t rows() const { return rows_; }
    int32_t n_vocab() const { return static_cast<int32_t>(values_.cols()); }
    float* row(int64_t r) { return values_.data_as<float>() + r * values_.cols(); }
    const float* row(int64_t r) const { return values_.data_as<float>() + r * values_.cols(); }
    std::vector<float> copy_row(int64_t r) const { return std::vector<float>(row(r), row(r) + n_vocab()); }

   private:
    Tensor values_;  // [outputs, n_vocab]; rows past rows_ are unused
    int64_t rows_ = 0;
  };
  // Runs several sequences' chunks as one batch. The caller has reserved KV blocks for every
  // chunk's positions. Returns one logits row per chunk with want_logits (one per token with
  // all_logits), in order. A row's values do not depend on what else is in the batch.
  Result<StepLogits> step(const std::vector<SeqChunk>& chunks);

  // Runs tokens at positions [start, start + n) of seq and returns the logits of the last one.
  // Tokens must be valid ids. For tests and tools (perplexity, logits comparisons).
  Result<std::vector<float>> eval(kv::SequenceKV& seq, const std::vector<TokenId>& tokens, int32_t start);
  // The same, the last token's logits as row 0 of a view that the next step overwrites.
  Result<StepLogits> eval_view(kv::SequenceKV& seq, const std::vector<TokenId>& tokens, int32_t start);
  kv::KVCache& kv_cache() { return *cache_; }

  struct Perplexity {
    double nll = 0;        // mean negative log-likelihood per scored token (nats)
    double ppl = 0;        // exp(nll)
    int64_t scored = 0;    // tokens scored
    int32_t windows = 0;
  };
  // Perplexity of `tokens` in consecutive windows of `window` tokens (<= n_ctx); every token
  // after the first of its window is scored against the model's prediction.
  Result<Perplexity> perplexity(const std::vector<TokenId>& tokens, int32_t window);

  // The step graph before and after the passes, as text (--dump-graph).
  std::string dump_graph(int64_t n_tokens, bool optimized) const;

 private:
  Engine(int n_threads) : pool_(n_threads) {}
  const graph::Graph& step_graph(int64_t n_tokens, int64_t n_outputs);

  std::shared_ptr<const gguf::File> file_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<kv::KVCache> cache_;
  std::unique_ptr<graph::Backend> cpu_;
  std::unique_ptr<graph::Executor> executor_;
  ThreadPool pool_;
  EngineOptions opts_;
  int32_t n_ctx_ = 0;
  // Optimized graphs per (n_tokens, n_outputs): decode reuses one plan every step.
  std::map<std::pair<int64_t, int64_t>, graph::Graph> plans_;
};

}  // namespace autoglm
