#include "runtime/engine.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backends/cpu/cpu_backend.h"
#include "core/log.h"
#include "formats/gguf.h"
#include "graph/passes.h"

namespace autoglm {

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::kLength: return "length";
    case StopReason::kEos: return "eos";
    case StopReason::kContextFull: return "context_full";
    case StopReason::kCallback: return "callback";
  }
  return "?";
}

namespace {
// Gives a temporary sequence's KV blocks back however the function leaves.
struct ReleaseOnExit {
  kv::SequenceKV& seq;
  kv::KVCache& cache;
  ~ReleaseOnExit() { seq.release(cache); }
};
}  // namespace

Result<DType> parse_kv_cache_type(const std::string& name) {
  if (name == "f32") return DType::F32;
  if (name == "f16") return DType::F16;
  if (name == "int8" || name == "i8" || name == "q8") return DType::I8;
  return InvalidArgument("KV cache type '" + name + "' (expected f32, f16 or int8)");
}

Result<EngineOptions> engine_options_from(const OptimizationConfig& config) {
  EngineOptions o;
  o.n_threads = config.n_threads;
  o.n_ctx = config.n_ctx;
  o.optimize_graph = config.graph_optimization;
  o.pack_weights = config.weight_packing;
  AG_ASSIGN_OR_RETURN(o.kv_type, parse_kv_cache_type(config.kv_cache_type));
  switch (config.quant_bits) {
    case 0: o.requantize = DType::F32; break;
    case 8: o.requantize = DType::Q8_0; break;
    case 4: o.requantize = DType::Q4_0; break;
    default: return InvalidArgument("quantization bits must be 0, 4 or 8, not " + std::to_string(config.quant_bits));
  }
  return o;
}

Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::load(const std::string& path, const EngineOptions& opts) {
  if (opts.n_threads < 0) return InvalidArgument("thread count must be >= 0");
  if (opts.n_ctx < 0) return InvalidArgument("context size must be >= 0");
  if (opts.kv_tokens < 0) return InvalidArgument("KV cache size must be >= 0");
  AG_ASSIGN_OR_RETURN(std::unique_ptr<gguf::File> file, gguf::File::open(path));
  std::shared_ptr<const gguf::File> shared(std::move(file));
  const int threads = opts.n_threads > 0 ? opts.n_threads : ThreadPool::default_threads();
  std::unique_ptr<Engine> e(new Engine(threads));
  e->opts_ = opts;
  e->file_ = shared;
  ModelLoadOptions mo;
  mo.requantize = opts.requantize;
  mo.pack_weights = opts.pack_weights;
  AG_ASSIGN_OR_RETURN(e->model_, load_model(shared, mo));
  AG_ASSIGN_OR_RETURN(e->tokenizer_, make_tokenizer(*shared));
  if (static_cast<int64_t>(e->tokenizer_->n_vocab()) != e->model_->hparams().n_vocab) {
    return CorruptFile("tokenizer vocabulary (" + std::to_string(e->tokenizer_->n_vocab()) +
                       ") differs from the model's (" + std::to_string(e->model_->hparams().n_vocab) + ")");
  }
  e->n_ctx_ = opts.n_ctx > 0 ? opts.n_ctx : std::min(e->model_->hparams().n_ctx_train, 4096);
  AG_ASSIGN_OR_RETURN(e->cache_, kv::KVCache::create(e->model_->kv_config(opts.kv_tokens > 0 ? opts.kv_tokens : e->n_ctx_, opts.kv_type)));
  e->cpu_ = std::make_unique<cpu::CpuBackend>();
  e->executor_ = std::make_unique<graph::Executor>(std::vector<graph::Backend*>{e->cpu_.get()});
  AG_LOG(kInfo, "loaded %s: %s, %d layers, %d embd, vocab %d, ctx %d, %d threads", path.c_str(),
         e->model_->hparams().arch.c_str(), e->model_->hparams().n_layer, e->model_->hparams().n_embd,
         e->model_->hparams().n_vocab, e->n_ctx_, threads);
  return e;
}

const graph::Graph& Engine::step_graph(int64_t n_tokens, int64_t n_outputs) {
  auto key = std::make_pair(n_tokens, n_outputs);
  auto it = plans_.find(key);
  if (it != plans_.end()) return it->second;
  if (plans_.size() >= 16) plans_.erase(plans_.begin());  // prefill shapes vary; keep a few
  graph::Graph g = model_->build_step_graph(n_tokens, n_outputs);
  if (opts_.optimize_graph) g = graph::optimize(g);
  return plans_.emplace(key, std::move(g)).first->second;
}

std::string Engine::dump_graph(int64_t n_tokens, bool optimized) const {
  graph::Graph g = model_->build_step_graph(n_tokens, 1);
  if (optimized) g = graph::optimize(g);
  return g.dump();
}

Result<Engine::StepLogits> Engine::step(const std::vector<SeqChunk>& chunks) {
  int64_t n = 0, n_out = 0;
  const int32_t n_vocab = model_->hparams().n_vocab;
  for (const SeqChunk& c : chunks) {
    if (c.n <= 0 || c.seq == nullptr) return InvalidArgument("step: empty chunk");
    if (c.start < 0 || c.start + c.n > n_ctx_) {
      return OutOfRange("context full: " + std::to_string(c.start + c.n) + " tokens do not fit in a context of " +
                        std::to_string(n_ctx_));
    }
    if (c.start + c.n > c.seq->capacity(*cache_)) return Internal("step: KV blocks not reserved");
    for (int32_t i = 0; i < c.n; ++i) {
      if (c.tokens[i] < 0 || c.tokens[i] >= n_vocab) {
        return OutOfRange("token id " + std::to_string(c.tokens[i]) + " outside the vocabulary");
      }
    }
    n += c.n;
    n_out += c.all_logits ? c.n : c.want_logits ? 1 : 0;
  }
  if (n == 0) return InvalidArgument("step: no tokens");
  if (n_out == 0) n_out = 1;  // the graph always has an output; its row is ignored

  const graph::Graph& g = step_graph(n, n_out);
  Tensor tok = Tensor::empty(DType::I32, {n});
  Tensor pos = Tensor::empty(DType::I32, {n});
  Tensor rows = Tensor::empty(DType::I32, {n_out});
  graph::StepContext step;
  step.cache = cache_.get();
  int64_t t = 0, o = 0;
  for (size_t ci = 0; ci < chunks.size(); ++ci) {
    const SeqChunk& c = chunks[ci];
    step.seqs.push_back(c.seq);
    for (int32_t i = 0; i < c.n; ++i, ++t) {
      tok.data_as<int32_t>()[t] = c.tokens[i];
      pos.data_as<int32_t>()[t] = c.start + i;
      step.token_seq.push_back(static_cast<int32_t>(ci));
      step.positions.push_back(c.start + i);
      if (c.all_logits) rows.data_as<int32_t>()[o++] = static_cast<int32_t>(t);
    }
    if (c.want_logits && !c.all_logits) rows.data_as<int32_t>()[o++] = static_cast<int32_t>(t - 1);
  }
  const std::vector<graph::Executor::Binding> inputs = {
      {g.find_input(kInputTokens), tok}, {g.find_input(kInputPositions), pos}, {g.find_input(kInputOutputRows), rows}};
  AG_ASSIGN_OR_RETURN(std::vector<Tensor> outs, executor_->run(g, step, pool_, inputs));
  if (outs.size() != 1 || outs[0].dtype() != DType::F32 || outs[0].rows() < o || outs[0].cols() != n_vocab) {
    return Internal("step: the graph's output is not [outputs, n_vocab] logits");
  }
  for (const SeqChunk& c : chunks) c.seq->set_n_cached(std::max(c.seq->n_cached(), c.start + c.n));
  return StepLogits(std::move(outs[0]), o);
}

Result<std::vector<float>> Engine::eval(kv::SequenceKV& seq, const std::vector<TokenId>& tokens, int32_t start) {
  AG_ASSIGN_OR_RETURN(const StepLogits rows, eval_view(seq, tokens, start));
  return rows.copy_row(0);
}

Result<Engine::StepLogits> Engine::eval_view(kv::SequenceKV& seq, const std::vector<TokenId>& tokens, int32_t start) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) return InvalidArgument("eval: no tokens");
  if (start < 0 || start + n > n_ctx_) {
    return OutOfRange("context full: " + std::to_string(start + n) + " tokens do not fit in a context of " +
                      std::to_string(n_ctx_));
  }
  AG_RETURN_IF_ERROR(seq.reserve(*cache_, static_cast<int32_t>(start + n)));
  return step({SeqChunk{&seq, tokens.data(), static_cast<int32_t>(n), start, true}});
}

Result<Engine::Perplexity> Engine::perplexity(const std::vector<TokenId>& tokens, int32_t window) {
  if (window <= 1 || window > n_ctx_) {
    return InvalidArgument("perplexity window must be in [2, " + std::to_string(n_ctx_) + "]");
  }
  if (tokens.size() < 2) return InvalidArgument("perplexity needs at least two tokens");
  constexpr int32_t kChunk = 256;  // bounds the logits held at once
  const int32_t n_vocab = model_->hparams().n_vocab;
  Perplexity r;
  double total = 0;
  for (size_t w0 = 0; w0 + 1 < tokens.size(); w0 += static_cast<size_t>(window)) {
    const int32_t len = static_cast<int32_t>(std::min<size_t>(static_cast<size_t>(window), tokens.size() - w0));
    if (len < 2) break;
    kv::SequenceKV seq;
    const ReleaseOnExit release{seq, *cache_};
    AG_RETURN_IF_ERROR(seq.reserve(*cache_, len));
    for (int32_t c0 = 0; c0 < len - 1; c0 += kChunk) {
      const int32_t n = std::min(kChunk, len - 1 - c0);  // predict tokens c0+1 .. c0+n
      SeqChunk chunk{&seq, tokens.data() + w0 + static_cast<size_t>(c0), n, c0, false, true};
      AG_ASSIGN_OR_RETURN(const StepLogits rows, step({chunk}));
      for (int32_t i = 0; i < n; ++i) {
        const float* l = rows.row(i);
        const float mx = *std::max_element(l, l + n_vocab);
        double sum = 0;
        for (int32_t v = 0; v < n_vocab; ++v) sum += std::exp(static_cast<double>(l[v] - mx));
        const TokenId next = tokens[w0 + static_cast<size_t>(c0 + i + 1)];
        total += std::log(sum) + mx - l[next];
        ++r.scored;
      }
    }
    ++r.windows;
  }
  r.nll = total / static_cast<double>(r.scored);
  r.ppl = std::exp(r.nll);
  return r;
}

Result<GenerationResult> Engine::generate(std::string_view prompt, const GenerationParams& params,
                                          const TextCallback& on_text) {
  std::vector<TokenId> ids = tokenizer_->encode(prompt, params.add_special, params.parse_special);
  return generate_tokens(std::move(ids), params, on_text);
}

Result<GenerationResult> Engine::generate_tokens(std::vector<TokenId> prompt, const GenerationParams& params,
                                                 const TextCallback& on_text) {
  AG_RETURN_IF_ERROR(params.sampling.validate());
  if (params.n_predict < -1) return InvalidArgument("n_predict must be >= -1");
  if (prompt.empty()) return InvalidArgument("the prompt is empty and the model adds no BOS token");
  if (static_cast<int64_t>(prompt.size()) > n_ctx_) {
    return InvalidArgument("prompt has " + std::to_string(prompt.size()) + " tokens, more than the context size " +
                           std::to_string(n_ctx_));
  }
  GenerationResult res;
  res.prompt_tokens = prompt;
  Sampler sampler(params.sampling);
  for (TokenId t : prompt) sampler.accept(t);
  // The decoder sees the prompt first (output discarded) so that it strips the leading space
  // only when generation starts right after BOS, as the reference decoders do.
  StreamDecoder stream(*tokenizer_);
  for (TokenId t : prompt) stream.push(t);
  (void)stream.flush();
  kv::SequenceKV seq;
  const ReleaseOnExit release{seq, *cache_};

  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  // Sampled from the step's own output row (no copy of the vocabulary's logits: 64 us a token
  // for llama3.2-1b's 128256).
  AG_ASSIGN_OR_RETURN(StepLogits logits, eval_view(seq, prompt, 0));
  res.prompt_ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
  t0 = clock::now();
  int32_t pos = static_cast<int32_t>(prompt.size());
  const TokenId eos = tokenizer_->vocab().eos;
  for (int32_t i = 0; params.n_predict < 0 || i < params.n_predict; ++i) {
    const TokenId next = sampler.sample(logits.row(0), logits.n_vocab());
    if (params.stop_at_eos && next == eos) {
      res.stop = StopReason::kEos;
      break;
    }
    sampler.accept(next);
    res.tokens.push_back(next);
    std::string piece = stream.push(next);
    res.text += piece;
    if (on_text && !piece.empty() && !on_text(piece)) {
      res.stop = StopReason::kCallback;
      break;
    }
    if (params.n_predict >= 0 && i + 1 == params.n_predict) break;
    if (pos >= n_ctx_) {
      res.stop = StopReason::kContextFull;
      break;
    }
    AG_ASSIGN_OR_RETURN(logits, eval_view(seq, {next}, pos));
    ++pos;
  }
  std::string tail = stream.flush();
  res.text += tail;
  if (on_text && !tail.empty()) on_text(tail);
  res.generate_ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
  return res;
}

}  // namespace autoglm
