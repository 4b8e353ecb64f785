// Llama family (llama2.c/TinyStories, TinyLlama, SmolLM, Llama 2/3): RMSNorm, RoPE,
// grouped-query attention, SwiGLU MLP, tied or separate output head.
#include "models/llama.h"

#include <cmath>

#include "backends/cpu/packed.h"
#include "formats/gguf.h"
#include "models/hparams.h"
#include "models/weights.h"

namespace autoglm {

Result<std::unique_ptr<Model>> LlamaModel::load(std::shared_ptr<const gguf::File> file, const std::string& arch,
                                                const ModelLoadOptions& opts) {
  AG_ASSIGN_OR_RETURN(ModelHParams hp, read_decoder_hparams(*file, arch));
  // GGUF "llama" weights are stored for the adjacent-pair rotation (the converter permutes
  // Q/K rows of Hugging Face checkpoints); NeoX-style architectures rotate half-splits.
  hp.rope_style = graph::RopeStyle::kAdjacent;

  const gguf::TensorInfo* emb = file->find_tensor("token_embd.weight");
  if (emb == nullptr) return CorruptFile("missing tensor 'token_embd.weight'");
  if (emb->n_dims != 2) return CorruptFile("tensor 'token_embd.weight' must be 2-d");
  const int64_t n_vocab = emb->ne[1];
  if (n_vocab < 1 || n_vocab > (1 << 22)) return CorruptFile("vocabulary size out of range");
  hp.n_vocab = static_cast<int32_t>(n_vocab);
  if (const auto* toks = file->get_string_array("tokenizer.ggml.tokens"); toks && static_cast<int64_t>(toks->size()) != n_vocab) {
    return CorruptFile("tokenizer has " + std::to_string(toks->size()) + " tokens but token_embd.weight has " +
                       std::to_string(n_vocab) + " rows");
  }

  auto m = std::unique_ptr<LlamaModel>(new LlamaModel(hp));
  m->file_ = file;
  WeightLoader w(file, opts);
  const int64_t E = hp.n_embd, F = hp.n_ff, Q = int64_t{hp.n_head} * hp.head_dim, KV = int64_t{hp.n_head_kv} * hp.head_dim;
  AG_ASSIGN_OR_RETURN(m->tok_embd_, w.table("token_embd.weight", {n_vocab, E}));
  AG_ASSIGN_OR_RETURN(m->output_norm_, w.f32("output_norm.weight", {E}));
  m->hp_.tied_output = !w.has("output.weight");
  if (m->hp_.tied_output) {
    AG_ASSIGN_OR_RETURN(m->output_, w.matrix("token_embd.weight", {n_vocab, E}));
    // A packed head also serves the embedding lookups: one copy of the table, not two.
    if (cpu::is_packed_type(m->output_.dtype()) && cpu::source_of_packed(m->output_.dtype()) == m->tok_embd_.dtype()) {
      m->tok_embd_ = m->output_;
    }
  } else {
    AG_ASSIGN_OR_RETURN(m->output_, w.matrix("output.weight", {n_vocab, E}));
  }
  m->layers_.resize(static_cast<size_t>(hp.n_layer));
  for (int32_t i = 0; i < hp.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    Layer& L = m->layers_[static_cast<size_t>(i)];
    AG_ASSIGN_OR_RETURN(L.attn_norm, w.f32(p + "attn_norm.weight", {E}));
    AG_ASSIGN_OR_RETURN(L.wq, w.matrix(p + "attn_q.weight", {Q, E}));
    AG_ASSIGN_OR_RETURN(L.wk, w.matrix(p + "attn_k.weight", {KV, E}));
    AG_ASSIGN_OR_RETURN(L.wv, w.matrix(p + "attn_v.weight", {KV, E}));
    AG_ASSIGN_OR_RETURN(L.wo, w.matrix(p + "attn_output.weight", {E, Q}));
    AG_ASSIGN_OR_RETURN(L.ffn_norm, w.f32(p + "ffn_norm.weight", {E}));
    AG_ASSIGN_OR_RETURN(WeightLoader::GateUp gu, w.gate_up(p + "ffn_gate.weight", p + "ffn_up.weight", {F, E}));
    L.w_gate_up = std::move(gu.pair);
    L.w_gate = std::move(gu.gate);
    L.w_up = std::move(gu.up);
    AG_ASSIGN_OR_RETURN(L.w_down, w.matrix(p + "ffn_down.weight", {E, F}));
  }
  m->weight_bytes_ = w.bytes();
  return std::unique_ptr<Model>(std::move(m));
}

graph::Graph LlamaModel::build_step_graph(int64_t n_tokens, int64_t n_outputs) const {
  graph::Graph g;
  const ModelHParams& hp = hp_;
  const auto tokens = g.input(kInputTokens, DType::I32, {n_tokens});
  const auto positions = g.input(kInputPositions, DType::I32, {n_tokens});
  const auto out_rows = g.input(kInputOutputRows, DType::I32, {n_outputs});

  graph::Attrs at;
  at.n_head = hp.n_head;
  at.n_head_kv = hp.n_head_kv;
  at.head_dim = hp.head_dim;
  at.n_rot = hp.n_rot;
  at.rope_freq_base = hp.rope_freq_base;
  at.rope_freq_scale = hp.rope_freq_scale;
  at.rope_style = hp.rope_style;
  at.attn_scale = 1.0f / std::sqrt(static_cast<float>(hp.head_dim));
  graph::Attrs at_k = at;
  at_k.n_head = hp.n_head_kv;

  auto x = g.embed(g.weight("token_embd.weight", tok_embd_), tokens);
  for (int32_t i = 0; i < hp.n_layer; ++i) {
    const Layer& L = layers_[static_cast<size_t>(i)];
    const std::string p = "blk." + std::to_string(i) + ".";
    auto h = g.mul(g.rms_norm(x, hp.rms_eps), g.weight(p + "attn_norm.weight", L.attn_norm));
    auto q = g.rope(g.matmul(h, g.weight(p + "attn_q.weight", L.wq)), positions, at);
    auto k = g.rope(g.matmul(h, g.weight(p + "attn_k.weight", L.wk)), positions, at_k);
    auto v = g.matmul(h, g.weight(p + "attn_v.weight", L.wv));
    graph::Attrs at_l = at;
    at_l.layer = i;
    auto a = g.attention(q, k, v, at_l);
    x = g.add(x, g.matmul(a, g.weight(p + "attn_output.weight", L.wo)));
    h = g.mul(g.rms_norm(x, hp.rms_eps), g.weight(p + "ffn_norm.weight", L.ffn_norm));
    graph::NodeId act;
    if (L.w_gate_up.defined()) {
      act = g.swiglu_paired(g.matmul(h, g.weight(p + "ffn_gate_up.weight (paired)", L.w_gate_up)));
    } else {
      auto gate = g.matmul(h, g.weight(p + "ffn_gate.weight", L.w_gate));
      auto up = g.matmul(h, g.weight(p + "ffn_up.weight", L.w_up));
      act = g.swiglu(gate, up);
    }
    x = g.add(x, g.matmul(act, g.weight(p + "ffn_down.weight", L.w_down)));
  }
  // Only the rows whose logits are wanted go through the final norm and the output head.
  x = g.get_rows(x, out_rows);
  x = g.mul(g.rms_norm(x, hp.rms_eps), g.weight("output_norm.weight", output_norm_));
  g.mark_output(g.matmul(x, g.weight(hp_.tied_output ? "token_embd.weight" : "output.weight", output_)));
  return g;
}

}  // namespace autoglm
