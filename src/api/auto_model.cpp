#include "autoglm/model.h"

#include "graph/weight_traffic.h"
#include "runtime/engine.h"

namespace autoglm {

Result<AutoModel> AutoModel::from_pretrained(const std::string& path, const OptimizationConfig& config) {
  AG_ASSIGN_OR_RETURN(const EngineOptions o, engine_options_from(config));
  AG_ASSIGN_OR_RETURN(std::unique_ptr<Engine> e, Engine::load(path, o));
  return AutoModel(std::shared_ptr<Engine>(std::move(e)));
}

Status AutoModel::deploy(Device device) {
  if (device.type == DeviceType::kCPU) return Status::OK();
  return Unsupported("no CUDA backend in this build; the model stays on the CPU");
}

Result<GenerationOutput> AutoModel::generate(std::string_view prompt, const GenerationConfig& c,
                                             const std::function<bool(std::string_view)>& on_text) {
  GenerationParams p;
  p.n_predict = c.max_new_tokens;
  p.add_special = c.add_special_tokens;
  p.sampling.temperature = c.temperature;
  p.sampling.top_k = c.top_k;
  p.sampling.top_p = c.top_p;
  p.sampling.min_p = c.min_p;
  p.sampling.repeat_penalty = c.repetition_penalty;
  p.sampling.repeat_last_n = c.repeat_last_n;
  p.sampling.seed = c.seed;
  AG_ASSIGN_OR_RETURN(GenerationResult r, engine_->generate(prompt, p, on_text));
  GenerationOutput out;
  out.text = std::move(r.text);
  out.prompt_tokens = std::move(r.prompt_tokens);
  out.tokens = std::move(r.tokens);
  out.stop_reason = stop_reason_name(r.stop);
  out.prompt_ms = r.prompt_ms;
  out.generate_ms = r.generate_ms;
  return out;
}

Result<AutoModel::PerplexityResult> AutoModel::perplexity(std::string_view text, int32_t window) {
  const std::vector<int32_t> ids = engine_->tokenizer().encode(text, true, false);
  AG_ASSIGN_OR_RETURN(Engine::Perplexity p, engine_->perplexity(ids, window > 0 ? window : engine_->n_ctx()));
  return PerplexityResult{p.ppl, p.nll, p.scored, p.windows};
}

std::vector<int32_t> AutoModel::tokenize(std::string_view text, bool add_special, bool parse_special) const {
  return engine_->tokenizer().encode(text, add_special, parse_special);
}

std::string AutoModel::detokenize(const std::vector<int32_t>& ids) const { return engine_->tokenizer().decode(ids); }

ModelInfo AutoModel::info() const {
  const ModelHParams& hp = engine_->model().hparams();
  ModelInfo i;
  i.architecture = hp.arch;
  i.n_vocab = hp.n_vocab;
  i.n_ctx_train = hp.n_ctx_train;
  i.n_embd = hp.n_embd;
  i.n_layer = hp.n_layer;
  i.n_head = hp.n_head;
  i.n_head_kv = hp.n_head_kv;
  i.n_ctx = engine_->n_ctx();
  i.weight_bytes = static_cast<int64_t>(engine_->model().weight_bytes());
  // The unoptimized one-token graph names every weight a decode step uses.
  i.decode_bytes_per_token = static_cast<int64_t>(graph::weight_traffic(engine_->model().build_step_graph(1, 1)).read);
  // Whatever the cache's layout, its bytes over the token slots it has.
  const kv::KVCache& kv = engine_->kv_cache();
  const int64_t slots = int64_t{kv.config().n_blocks} * kv.config().block_size;
  i.kv_bytes_per_token = slots > 0 ? static_cast<int64_t>(kv.bytes()) / slots : 0;
  i.n_threads = engine_->n_threads();
  return i;
}

std::string AutoModel::dump_graph(int64_t n_tokens, bool optimized) const {
  return engine_->dump_graph(n_tokens, optimized);
}

}  // namespace autoglm
