#include "models/hparams.h"

#include "formats/gguf.h"

namespace autoglm {
namespace {

constexpr int64_t kMaxDim = 1 << 20;      // widths, vocab and context beyond this are not real models
constexpr int64_t kMaxLayers = 1024;

Result<int32_t> required_int(const gguf::File& f, const std::string& key, int64_t lo, int64_t hi) {
  const gguf::Value* v = f.find(key);
  if (v == nullptr) return CorruptFile("missing metadata key '" + key + "'");
  auto i = v->as_int();
  if (!i) return CorruptFile("metadata key '" + key + "' is not an integer");
  if (*i < lo || *i > hi) {
    return CorruptFile("metadata key '" + key + "' = " + std::to_string(*i) + " is outside [" + std::to_string(lo) +
                       ", " + std::to_string(hi) + "]");
  }
  return static_cast<int32_t>(*i);
}

Result<int32_t> optional_int(const gguf::File& f, const std::string& key, int32_t def, int64_t lo, int64_t hi) {
  if (f.find(key) == nullptr) return def;
  return required_int(f, key, lo, hi);
}

Result<float> optional_float(const gguf::File& f, const std::string& key, float def, double lo, double hi) {
  const gguf::Value* v = f.find(key);
  if (v == nullptr) return def;
  auto d = v->as_float();
  if (!d || !(*d >= lo && *d <= hi)) return CorruptFile("metadata key '" + key + "' is not a number in range");
  return static_cast<float>(*d);
}

}  // namespace

Result<ModelHParams> read_decoder_hparams(const gguf::File& f, const std::string& arch) {
  ModelHParams hp;
  hp.arch = arch;
  const std::string p = arch + ".";
  AG_ASSIGN_OR_RETURN(hp.n_embd, required_int(f, p + "embedding_length", 1, kMaxDim));
  AG_ASSIGN_OR_RETURN(hp.n_layer, required_int(f, p + "block_count", 1, kMaxLayers));
  AG_ASSIGN_OR_RETURN(hp.n_ff, required_int(f, p + "feed_forward_length", 1, kMaxDim));
  AG_ASSIGN_OR_RETURN(hp.n_head, required_int(f, p + "attention.head_count", 1, kMaxDim));
  AG_ASSIGN_OR_RETURN(hp.n_head_kv, optional_int(f, p + "attention.head_count_kv", hp.n_head, 1, kMaxDim));
  AG_ASSIGN_OR_RETURN(hp.n_ctx_train, optional_int(f, p + "context_length", 2048, 1, 1 << 24));
  AG_ASSIGN_OR_RETURN(hp.rms_eps, optional_float(f, p + "attention.layer_norm_rms_epsilon", 1e-5f, 0.0, 1.0));
  AG_ASSIGN_OR_RETURN(hp.rope_freq_base, optional_float(f, p + "rope.freq_base", 10000.0f, 1e-3, 1e12));
  if (hp.n_embd % hp.n_head != 0) {
    return CorruptFile("head count " + std::to_string(hp.n_head) + " does not divide the embedding size " +
                       std::to_string(hp.n_embd));
  }
  if (hp.n_head % hp.n_head_kv != 0) {
    return CorruptFile("kv head count " + std::to_string(hp.n_head_kv) + " does not divide the head count " +
                       std::to_string(hp.n_head));
  }
  AG_ASSIGN_OR_RETURN(hp.head_dim, optional_int(f, p + "attention.key_length", hp.n_embd / hp.n_head, 2, 4096));
  if (hp.head_dim % 2 != 0) return CorruptFile("head dimension " + std::to_string(hp.head_dim) + " is odd");
  AG_ASSIGN_OR_RETURN(hp.n_rot, optional_int(f, p + "rope.dimension_count", hp.head_dim, 2, hp.head_dim));
  if (hp.n_rot % 2 != 0) return CorruptFile("rope dimension count " + std::to_string(hp.n_rot) + " is odd");
  if (auto type = f.get_string(p + "rope.scaling.type"); type && *type == "linear") {
    AG_ASSIGN_OR_RETURN(float factor, optional_float(f, p + "rope.scaling.factor", 1.0f, 1e-3, 1e6));
    hp.rope_freq_scale = 1.0f / factor;
  }
  return hp;
}

}  // namespace autoglm
