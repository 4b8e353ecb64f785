#include "tokenizer/hf_pipeline_json.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tokenizer/char_bpe_model.h"
#include "tokenizer/hf_json_fields.h"
#include "tokenizer/hf_pipeline_tokenizer.h"
#include "tokenizer/unigram_model.h"
#include "tokenizer/word_level_model.h"

namespace autoglm {

namespace {

using namespace hfjson;  // NOLINT: the field readers
using Prepend = HfPipelineOptions::Prepend;

// The model's own entries: id -> text (and score for Unigram).
struct ModelVocab {
  std::vector<std::string> tokens;
  std::vector<double> scores;
  std::vector<bool> present;
};

// Ids may leave holes, but not so many that a tiny hostile file allocates gigabytes.
Status check_id_span(uint64_t max_id_plus_one, uint64_t entries) {
  if (max_id_plus_one > 2 * entries + 1024) {
    return corrupt("model.vocab", "has ids far beyond its size (" + std::to_string(max_id_plus_one) + ")");
  }
  return Status::OK();
}

// {"text": id, ...} (BPE, WordLevel).
Result<ModelVocab> read_vocab_object(const json& model) {
  const json* v = find(model, "vocab");
  if (v == nullptr || !v->is_object()) return corrupt("model.vocab", "is not an object");
  if (v->empty()) return corrupt("model.vocab", "is empty");
  std::vector<std::pair<TokenId, const std::string*>> entries;
  entries.reserve(v->size());
  uint64_t n = 0;
  for (auto it = v->begin(); it != v->end(); ++it) {
    AG_ASSIGN_OR_RETURN(TokenId id, as_id(it.value(), "model.vocab." + it.key().substr(0, 64)));
    entries.emplace_back(id, &it.key());
    n = std::max<uint64_t>(n, static_cast<uint64_t>(id) + 1);
  }
  AG_RETURN_IF_ERROR(check_id_span(n, entries.size()));
  ModelVocab mv;
  mv.tokens.assign(n, std::string());
  mv.present.assign(n, false);
  for (const auto& [id, text] : entries) {
    const auto i = static_cast<size_t>(id);
    if (mv.present[i]) return corrupt("model.vocab." + text->substr(0, 64), "repeats id " + std::to_string(id));
    mv.present[i] = true;
    mv.tokens[i] = *text;
  }
  return mv;
}

// [["text", score], ...] (Unigram): the id is the index.
Result<ModelVocab> read_vocab_pairs(const json& model) {
  const json* v = find(model, "vocab");
  if (v == nullptr || !v->is_array()) return corrupt("model.vocab", "is not an array");
  if (v->empty()) return corrupt("model.vocab", "is empty");
  if (v->size() >= static_cast<size_t>(std::numeric_limits<TokenId>::max())) return corrupt("model.vocab", "is too large");
  ModelVocab mv;
  mv.tokens.reserve(v->size());
  mv.scores.reserve(v->size());
  for (size_t i = 0; i < v->size(); ++i) {
    const json& e = (*v)[i];
    const std::string path = "model.vocab[" + std::to_string(i) + "]";
    if (!e.is_array() || e.size() != 2 || !e[0].is_string()) return corrupt(path, "is not a [piece, score] pair");
    if (!e[1].is_number()) return corrupt(path + "[1]", "is not a number");
    const double score = e[1].get<double>();
    if (!std::isfinite(score)) return corrupt(path + "[1]", "is not finite");
    mv.tokens.push_back(e[0].get<std::string>());
    mv.scores.push_back(serde_json_f64(score));
  }
  mv.present.assign(mv.tokens.size(), true);
  return mv;
}

TokenId id_of(const ModelVocab& mv, const std::string& text) {
  for (size_t i = 0; i < mv.tokens.size(); ++i) {
    if (mv.present[i] && mv.tokens[i] == text) return static_cast<TokenId>(i);
  }
  return -1;
}

// Metaspace's prepend rule: prepend_scheme, or the older add_prefix_space flag.
Result<Prepend> read_prepend(const json& m, const std::string& path) {
  const json* scheme = find(m, "prepend_scheme");
  if (scheme != nullptr && !scheme->is_null()) {
    if (!scheme->is_string()) return corrupt(path + ".prepend_scheme", "is not a string");
    const std::string s = scheme->get<std::string>();
    if (s == "always") return Prepend::kAlways;
    if (s == "first") return Prepend::kFirst;
    if (s == "never") return Prepend::kNever;
    return corrupt(path + ".prepend_scheme", "is not always, first or never");
  }
  AG_ASSIGN_OR_RETURN(bool add, get_bool(m, "add_prefix_space", path + ".add_prefix_space", true));
  return add ? Prepend::kAlways : Prepend::kNever;
}

Result<std::string> read_replacement(const json& m, const std::string& path) {
  const json* r = find(m, "replacement");
  if (r == nullptr || r->is_null()) return std::string("\xE2\x96\x81");
  if (!r->is_string()) return corrupt(path + ".replacement", "is not a string");
  std::string s = r->get<std::string>();
  if (s.empty()) return corrupt(path + ".replacement", "is empty");
  return s;
}

Status parse_pre_tokenizer(const json& p, const std::string& path, HfPipelineOptions* o) {
  using P = HfPipelineOptions::PreTokenizer;
  if (p.is_null()) return Status::OK();
  if (!p.is_object()) return corrupt(path, "is not an object");
  const std::string type = type_of(p);
  if (type == "Sequence") {
    const json* list = find(p, "pretokenizers");
    if (list == nullptr || !list->is_array()) return corrupt(path + ".pretokenizers", "is not an array");
    if (list->size() > 1) return Unsupported("tokenizer.json: a Sequence of several pre-tokenizers with this model");
    if (list->size() == 1) return parse_pre_tokenizer((*list)[0], path + ".pretokenizers[0]", o);
  } else if (type == "WhitespaceSplit") {
    o->pre_tokenizer = P::kWhitespaceSplit;
  } else if (type == "Metaspace") {
    o->pre_tokenizer = P::kMetaspace;
    AG_ASSIGN_OR_RETURN(o->meta_replacement, read_replacement(p, path));
    AG_ASSIGN_OR_RETURN(o->meta_prepend, read_prepend(p, path));
    AG_ASSIGN_OR_RETURN(o->meta_split, get_bool(p, "split", path + ".split", true));
  } else if (type.empty()) {
    return corrupt(path + ".type", "is missing");
  } else {
    return Unsupported("tokenizer.json: pre-tokenizer '" + type + "' is not supported with this model");
  }
  return Status::OK();
}

Status parse_decoder(const json& d, HfPipelineOptions* o) {
  HfPipelineOptions::Decoder& dec = o->decoder;
  if (d.is_null()) {
    dec.join_with_space = true;
    return Status::OK();
  }
  if (!d.is_object()) return corrupt("decoder", "is not an object");
  const std::string type = type_of(d);
  if (type == "Metaspace") {
    AG_ASSIGN_OR_RETURN(std::string rep, read_replacement(d, "decoder"));
    AG_ASSIGN_OR_RETURN(Prepend prepend, read_prepend(d, "decoder"));
    if (o->pre_tokenizer == HfPipelineOptions::PreTokenizer::kMetaspace &&
        (rep != o->meta_replacement || prepend != o->meta_prepend)) {
      return Unsupported("tokenizer.json: a Metaspace decoder that differs from the Metaspace pre-tokenizer");
    }
    o->meta_replacement = rep;
    o->meta_prepend = prepend;
    dec.metaspace = true;
    return Status::OK();
  }
  if (type.empty()) return corrupt("decoder.type", "is missing");
  if (type != "Sequence") return Unsupported("tokenizer.json: decoder '" + type + "' is not supported with this model");
  const json* list = find(d, "decoders");
  if (list == nullptr || !list->is_array()) return corrupt("decoder.decoders", "is not an array");
  bool fused = false;
  for (size_t i = 0; i < list->size(); ++i) {
    const json& s = (*list)[i];
    const std::string path = "decoder.decoders[" + std::to_string(i) + "]";
    if (!s.is_object()) return corrupt(path, "is not an object");
    const std::string t = type_of(s);
    if (t == "Replace") {
      const json* pattern = find(s, "pattern");
      const json* literal = pattern != nullptr ? find(*pattern, "String") : nullptr;
      if (literal == nullptr || !literal->is_string()) {
        return Unsupported("tokenizer.json: " + path + ": Replace without a literal String pattern");
      }
      AG_ASSIGN_OR_RETURN(std::string content, get_string(s, "content", path + ".content"));
      if (dec.byte_fallback || fused) return Unsupported("tokenizer.json: " + path + ": Replace after ByteFallback/Fuse");
      dec.replace.emplace_back(literal->get<std::string>(), content);
    } else if (t == "ByteFallback") {
      dec.byte_fallback = true;
    } else if (t == "Fuse") {
      fused = true;
    } else if (t == "Strip") {
      AG_ASSIGN_OR_RETURN(std::string content, get_string(s, "content", path + ".content"));
      AG_ASSIGN_OR_RETURN(int64_t start, get_count(s, "start", path + ".start", 0, 1 << 20));
      AG_ASSIGN_OR_RETURN(int64_t stop, get_count(s, "stop", path + ".stop", 0, 1 << 20));
      if (content != " " || start > 1 || stop != 0 || !fused) {
        return Unsupported("tokenizer.json: " + path + ": Strip other than one leading ' ' after Fuse");
      }
      dec.strip_first_space = start == 1;
    } else if (t.empty()) {
      return corrupt(path + ".type", "is missing");
    } else {
      return Unsupported("tokenizer.json: decoder '" + t + "' is not supported in a Sequence with this model");
    }
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> make_pipeline_from_hf_json(const json& root) {
  if (!root.is_object()) return corrupt("(root)", "is not an object");
  const json* model = find(root, "model");
  if (model == nullptr || !model->is_object()) return corrupt("model", "is not an object");
  const std::string type = type_of(*model);

  ModelVocab mv;
  TokenId unk = -1;
  bool byte_fallback = false;
  if (type == "Unigram") {
    AG_ASSIGN_OR_RETURN(mv, read_vocab_pairs(*model));
    const json* u = find(*model, "unk_id");
    if (u != nullptr && !u->is_null()) {
      AG_ASSIGN_OR_RETURN(unk, as_id(*u, "model.unk_id"));
      if (static_cast<size_t>(unk) >= mv.tokens.size()) return corrupt("model.unk_id", "is outside the vocabulary");
    }
    AG_ASSIGN_OR_RETURN(byte_fallback, get_bool(*model, "byte_fallback", "model.byte_fallback", false));
  } else if (type == "BPE" || type == "WordLevel") {
    AG_ASSIGN_OR_RETURN(mv, read_vocab_object(*model));
    const json* u = find(*model, "unk_token");
    if (u != nullptr && !u->is_null()) {
      if (!u->is_string()) return corrupt("model.unk_token", "is not a string");
      // HF only fails when an unknown character needs it; here such characters are dropped.
      unk = id_of(mv, u->get<std::string>());
    }
  } else {
    return Unsupported("tokenizer.json: model type '" + type + "' is not supported");
  }

  std::unique_ptr<HfModel> hf_model;
  if (type == "Unigram") {
    std::vector<std::pair<std::string, double>> pieces;
    pieces.reserve(mv.tokens.size());
    for (size_t i = 0; i < mv.tokens.size(); ++i) pieces.emplace_back(mv.tokens[i], mv.scores[i]);
    hf_model = std::make_unique<UnigramModel>(pieces, unk, byte_fallback);
  } else if (type == "WordLevel") {
    hf_model = std::make_unique<WordLevelModel>(mv.tokens, unk);
  } else {
    CharBpeModel::Options mo;
    AG_ASSIGN_OR_RETURN(mo.byte_fallback, get_bool(*model, "byte_fallback", "model.byte_fallback", false));
    AG_ASSIGN_OR_RETURN(mo.fuse_unk, get_bool(*model, "fuse_unk", "model.fuse_unk", false));
    AG_ASSIGN_OR_RETURN(mo.ignore_merges, get_bool(*model, "ignore_merges", "model.ignore_merges", false));
    mo.unk = unk;
    byte_fallback = mo.byte_fallback;
    const json* dropout = find(*model, "dropout");
    if (dropout != nullptr && !dropout->is_null()) {
      if (!dropout->is_number()) return corrupt("model.dropout", "is not a number");
      if (dropout->get<double>() > 0) return Unsupported("tokenizer.json: BPE dropout (random merges) is not supported");
    }
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
      const json* v = find(*model, key);
      if (v != nullptr && !v->is_null() && !(v->is_string() && v->get_ref<const std::string&>().empty())) {
        return Unsupported(std::string("tokenizer.json: BPE ") + key + " is not supported");
      }
    }
    std::vector<std::pair<std::string, std::string>> merges;
    const json* m = find(*model, "merges");
    if (m != nullptr) AG_RETURN_IF_ERROR(parse_merges(*m, &merges));
    hf_model = std::make_unique<CharBpeModel>(mv.tokens, merges, mo);
  }

  HfPipelineOptions opts;
  AG_ASSIGN_OR_RETURN(opts.added_tokens, parse_added_tokens(root));
  uint64_t n = mv.tokens.size();
  for (const AddedToken& t : opts.added_tokens) n = std::max<uint64_t>(n, static_cast<uint64_t>(t.id) + 1);
  AG_RETURN_IF_ERROR(check_id_span(n, mv.tokens.size() + opts.added_tokens.size()));

  Vocab v;
  v.model = type == "Unigram" ? "unigram" : type == "WordLevel" ? "wordlevel" : "hf-bpe";
  v.add_space_prefix = false;
  v.tokens.assign(n, std::string());
  v.types.assign(n, TokenType::kUnused);
  for (size_t i = 0; i < mv.tokens.size(); ++i) {
    if (!mv.present[i]) continue;
    v.tokens[i] = mv.tokens[i];
    const std::string& t = mv.tokens[i];
    const bool is_byte = byte_fallback && t.size() == 6 && t.starts_with("<0x") && t.back() == '>';
    v.types[i] = is_byte ? TokenType::kByte : TokenType::kNormal;
  }
  for (const AddedToken& t : opts.added_tokens) {
    const auto i = static_cast<size_t>(t.id);
    v.tokens[i] = t.content;
    v.types[i] = t.special ? TokenType::kControl : TokenType::kUserDefined;
  }
  v.unk = unk;
  if (type == "Unigram") {
    v.scores.assign(n, 0.0f);
    for (size_t i = 0; i < mv.scores.size(); ++i) v.scores[i] = static_cast<float>(mv.scores[i]);
  }

  if (const json* nrm = find(root, "normalizer"); nrm != nullptr) {
    AG_RETURN_IF_ERROR(parse_normalizer(*nrm, "normalizer", &opts.normalizer));
  }
  if (const json* pre = find(root, "pre_tokenizer"); pre != nullptr) {
    AG_RETURN_IF_ERROR(parse_pre_tokenizer(*pre, "pre_tokenizer", &opts));
  }
  if (const json* post = find(root, "post_processor"); post != nullptr) {
    AG_RETURN_IF_ERROR(parse_post_processor(*post, "post_processor", &opts.prefix_specials, &opts.suffix_specials));
  }
  const json* decoder = find(root, "decoder");
  AG_RETURN_IF_ERROR(parse_decoder(decoder != nullptr ? *decoder : json(), &opts));
  if (const json* trunc = find(root, "truncation"); trunc != nullptr && !trunc->is_null()) {
    return Unsupported("tokenizer.json: truncation with a " + type + " model is not supported");
  }
  for (const auto* list : {&opts.prefix_specials, &opts.suffix_specials}) {
    for (TokenId id : *list) {
      if (static_cast<uint64_t>(id) >= n) return corrupt("post_processor", "names id " + std::to_string(id) + " outside the vocabulary");
    }
  }
  if (!opts.prefix_specials.empty()) {
    v.bos = opts.prefix_specials.front();
    v.add_bos = true;
  }
  if (!opts.suffix_specials.empty()) {
    v.eos = opts.suffix_specials.back();
    v.add_eos = true;
  }
  auto tok = HfPipelineTokenizer::create(std::move(v), std::move(hf_model), std::move(opts));
  if (!tok.ok()) return CorruptFile("tokenizer.json: " + tok.status().message());
  return std::unique_ptr<Tokenizer>(std::move(tok).value());
}

}  // namespace autoglm
