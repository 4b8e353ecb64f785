#include "tokenizer/hf_tokenizer_json.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <limits>
#include <new>
#include <unordered_map>

#include "autoglm/json_limits.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/wordpiece_tokenizer.h"

namespace autoglm {

namespace {

using nlohmann::json;

constexpr size_t kMaxDepth = 256;                       // real files nest < 10 deep
constexpr uint64_t kMaxFileBytes = uint64_t{1} << 30;   // the largest real ones are ~35 MB
constexpr std::string_view kWordStart = "\xE2\x96\x81";  // U+2581

Status corrupt(std::string_view field, std::string_view what) {
  return CorruptFile("tokenizer.json: '" + std::string(field) + "' " + std::string(what));
}

// Field readers: `path` names the field in errors ("model.unk_token").
const json* find(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

Result<std::string> get_string(const json& obj, const char* key, const std::string& path) {
  const json* v = find(obj, key);
  if (v == nullptr) return corrupt(path, "is missing");
  if (!v->is_string()) return corrupt(path, "is not a string");
  return v->get<std::string>();
}

Result<bool> get_bool(const json& obj, const char* key, const std::string& path, bool fallback) {
  const json* v = find(obj, key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_boolean()) return corrupt(path, "is not a boolean");
  return v->get<bool>();
}

// A non-negative integer that fits a TokenId.
Result<TokenId> as_id(const json& v, const std::string& path) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u < static_cast<uint64_t>(std::numeric_limits<TokenId>::max())) return static_cast<TokenId>(u);
    return corrupt(path, "is out of range");
  }
  if (v.is_number_integer()) return corrupt(path, "is negative");
  return corrupt(path, "is not an integer");
}

Result<int64_t> get_count(const json& obj, const char* key, const std::string& path, int64_t fallback, int64_t max) {
  const json* v = find(obj, key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_number_unsigned() || v->get<uint64_t>() > static_cast<uint64_t>(max)) {
    return corrupt(path, "is not an integer in 0.." + std::to_string(max));
  }
  return static_cast<int64_t>(v->get<uint64_t>());
}

std::string type_of(const json& section) {
  const json* t = find(section, "type");
  return t != nullptr && t->is_string() ? t->get<std::string>() : std::string();
}

Result<std::vector<AddedToken>> parse_added_tokens(const json& root) {
  std::vector<AddedToken> out;
  const json* list = find(root, "added_tokens");
  if (list == nullptr || list->is_null()) return out;
  if (!list->is_array()) return corrupt("added_tokens", "is not an array");
  for (size_t i = 0; i < list->size(); ++i) {
    const json& e = (*list)[i];
    const std::string path = "added_tokens[" + std::to_string(i) + "]";
    if (!e.is_object()) return corrupt(path, "is not an object");
    AddedToken t;
    const json* id = find(e, "id");
    if (id == nullptr) return corrupt(path + ".id", "is missing");
    AG_ASSIGN_OR_RETURN(t.id, as_id(*id, path + ".id"));
    AG_ASSIGN_OR_RETURN(t.content, get_string(e, "content", path + ".content"));
    if (t.content.empty()) return corrupt(path + ".content", "is empty");
    AG_ASSIGN_OR_RETURN(t.special, get_bool(e, "special", path + ".special", false));
    AG_ASSIGN_OR_RETURN(t.single_word, get_bool(e, "single_word", path + ".single_word", false));
    AG_ASSIGN_OR_RETURN(t.lstrip, get_bool(e, "lstrip", path + ".lstrip", false));
    AG_ASSIGN_OR_RETURN(t.rstrip, get_bool(e, "rstrip", path + ".rstrip", false));
    AG_ASSIGN_OR_RETURN(t.normalized, get_bool(e, "normalized", path + ".normalized", !t.special));
    out.push_back(std::move(t));
  }
  return out;
}

Status parse_normalizer(const json& n, const std::string& path, text::Normalizer* out) {
  if (n.is_null()) return Status::OK();
  if (!n.is_object()) return corrupt(path, "is not an object");
  const std::string type = type_of(n);
  if (type == "Sequence") {
    const json* list = find(n, "normalizers");
    if (list == nullptr || !list->is_array()) return corrupt(path + ".normalizers", "is not an array");
    for (size_t i = 0; i < list->size(); ++i) {
      AG_RETURN_IF_ERROR(parse_normalizer((*list)[i], path + ".normalizers[" + std::to_string(i) + "]", out));
    }
  } else if (type == "BertNormalizer") {
    text::BertNormalizerOptions o;
    AG_ASSIGN_OR_RETURN(o.clean_text, get_bool(n, "clean_text", path + ".clean_text", true));
    AG_ASSIGN_OR_RETURN(o.handle_chinese_chars, get_bool(n, "handle_chinese_chars", path + ".handle_chinese_chars", true));
    AG_ASSIGN_OR_RETURN(o.lowercase, get_bool(n, "lowercase", path + ".lowercase", true));
    AG_ASSIGN_OR_RETURN(o.strip_accents, get_bool(n, "strip_accents", path + ".strip_accents", o.lowercase));
    out->add_bert(o);
  } else if (type == "Lowercase") {
    out->add_lowercase();
  } else if (type == "StripAccents") {
    out->add_strip_accents();
  } else if (type == "NFD") {
    out->add_form(text::NormForm::kNFD);
  } else if (type == "NFC") {
    out->add_form(text::NormForm::kNFC);
  } else if (type == "NFKD") {
    out->add_form(text::NormForm::kNFKD);
  } else if (type == "NFKC") {
    out->add_form(text::NormForm::kNFKC);
  } else if (type == "Strip") {
    bool left = true, right = true;
    AG_ASSIGN_OR_RETURN(left, get_bool(n, "strip_left", path + ".strip_left", true));
    AG_ASSIGN_OR_RETURN(right, get_bool(n, "strip_right", path + ".strip_right", true));
    out->add_strip(left, right);
  } else if (type.empty()) {
    return corrupt(path + ".type", "is missing");
  } else {
    return Unsupported("tokenizer.json: normalizer '" + type + "' is not supported");
  }
  return Status::OK();
}

Status parse_pre_tokenizer(const json& p, const std::string& path, WordPieceOptions::PreTokenizer* out) {
  using P = WordPieceOptions::PreTokenizer;
  if (p.is_null()) return Status::OK();
  if (!p.is_object()) return corrupt(path, "is not an object");
  const std::string type = type_of(p);
  if (type == "BertPreTokenizer") {
    *out = P::kBert;
  } else if (type == "WhitespaceSplit") {
    *out = P::kWhitespaceSplit;
  } else if (type == "Sequence") {
    const json* list = find(p, "pretokenizers");
    if (list == nullptr || !list->is_array()) return corrupt(path + ".pretokenizers", "is not an array");
    if (list->size() > 1) return Unsupported("tokenizer.json: a Sequence of several pre-tokenizers for WordPiece");
    if (list->size() == 1) return parse_pre_tokenizer((*list)[0], path + ".pretokenizers[0]", out);
  } else if (type.empty()) {
    return corrupt(path + ".type", "is missing");
  } else {
    return Unsupported("tokenizer.json: pre-tokenizer '" + type + "' is not supported for WordPiece");
  }
  return Status::OK();
}

// ["[CLS]", 101] as BertProcessing/RobertaProcessing write cls and sep.
Result<TokenId> pair_id(const json& pp, const char* key, const std::string& path) {
  const json* v = find(pp, key);
  if (v == nullptr || !v->is_array() || v->size() != 2 || !(*v)[0].is_string()) {
    return corrupt(path, "is not a [text, id] pair");
  }
  return as_id((*v)[1], path + "[1]");
}

Status parse_post_processor(const json& pp, const std::string& path, std::vector<TokenId>* prefix,
                            std::vector<TokenId>* suffix) {
  if (pp.is_null()) return Status::OK();
  if (!pp.is_object()) return corrupt(path, "is not an object");
  const std::string type = type_of(pp);
  if (type == "Sequence") {
    const json* list = find(pp, "processors");
    if (list == nullptr || !list->is_array()) return corrupt(path + ".processors", "is not an array");
    for (size_t i = 0; i < list->size(); ++i) {
      AG_RETURN_IF_ERROR(parse_post_processor((*list)[i], path + ".processors[" + std::to_string(i) + "]", prefix,
                                              suffix));
    }
  } else if (type == "BertProcessing" || type == "RobertaProcessing") {
    AG_ASSIGN_OR_RETURN(TokenId cls, pair_id(pp, "cls", path + ".cls"));
    AG_ASSIGN_OR_RETURN(TokenId sep, pair_id(pp, "sep", path + ".sep"));
    prefix->push_back(cls);
    suffix->push_back(sep);
  } else if (type == "TemplateProcessing") {
    const json* single = find(pp, "single");
    if (single == nullptr || !single->is_array()) return corrupt(path + ".single", "is not an array");
    const json* specials = find(pp, "special_tokens");
    bool seen_sequence = false;
    for (size_t i = 0; i < single->size(); ++i) {
      const json& item = (*single)[i];
      const std::string ipath = path + ".single[" + std::to_string(i) + "]";
      if (find(item, "Sequence") != nullptr) {
        seen_sequence = true;
        continue;
      }
      const json* st = find(item, "SpecialToken");
      if (st == nullptr) return corrupt(ipath, "is neither a Sequence nor a SpecialToken");
      AG_ASSIGN_OR_RETURN(std::string name, get_string(*st, "id", ipath + ".SpecialToken.id"));
      const json* entry = specials != nullptr ? find(*specials, name.c_str()) : nullptr;
      if (entry == nullptr) return corrupt(path + ".special_tokens", "has no entry '" + name + "'");
      const json* ids = find(*entry, "ids");
      const std::string epath = path + ".special_tokens." + name + ".ids";
      if (ids == nullptr || !ids->is_array()) return corrupt(epath, "is not an array");
      for (size_t k = 0; k < ids->size(); ++k) {
        AG_ASSIGN_OR_RETURN(TokenId id, as_id((*ids)[k], epath + "[" + std::to_string(k) + "]"));
        (seen_sequence ? suffix : prefix)->push_back(id);
      }
    }
    if (!seen_sequence) return corrupt(path + ".single", "has no Sequence");
  } else if (type == "ByteLevel") {
    // Offsets only; the ids are unchanged.
  } else if (type.empty()) {
    return corrupt(path + ".type", "is missing");
  } else {
    return Unsupported("tokenizer.json: post-processor '" + type + "' is not supported");
  }
  return Status::OK();
}

Status parse_decoder(const json& d, WordPieceOptions* opts) {
  if (d.is_null()) {
    // No decoder: HF joins the tokens with spaces, as they are.
    opts->decode_glue = false;
    opts->decode_cleanup = false;
    return Status::OK();
  }
  if (!d.is_object()) return corrupt("decoder", "is not an object");
  const std::string type = type_of(d);
  if (type != "WordPiece") {
    return type.empty() ? corrupt("decoder.type", "is missing")
                        : Unsupported("tokenizer.json: decoder '" + type + "' is not supported for WordPiece");
  }
  AG_ASSIGN_OR_RETURN(std::string prefix, get_string(d, "prefix", "decoder.prefix"));
  if (prefix != opts->continuing_prefix) {
    return Unsupported("tokenizer.json: decoder.prefix differs from model.continuing_subword_prefix");
  }
  AG_ASSIGN_OR_RETURN(opts->decode_cleanup, get_bool(d, "cleanup", "decoder.cleanup", true));
  opts->decode_glue = true;
  return Status::OK();
}

Result<std::unique_ptr<Tokenizer>> make_wordpiece(const json& root, const json& model) {
  WordPieceOptions opts;
  AG_ASSIGN_OR_RETURN(opts.continuing_prefix,
                      get_string(model, "continuing_subword_prefix", "model.continuing_subword_prefix"));
  AG_ASSIGN_OR_RETURN(int64_t max_chars, get_count(model, "max_input_chars_per_word",
                                                   "model.max_input_chars_per_word", 100, 1 << 24));
  if (max_chars == 0) return corrupt("model.max_input_chars_per_word", "is 0");
  opts.max_input_chars_per_word = static_cast<size_t>(max_chars);
  AG_ASSIGN_OR_RETURN(std::string unk_text, get_string(model, "unk_token", "model.unk_token"));

  const json* vocab_json = find(model, "vocab");
  if (vocab_json == nullptr || !vocab_json->is_object()) return corrupt("model.vocab", "is not an object");
  if (vocab_json->empty()) return corrupt("model.vocab", "is empty");
  AG_ASSIGN_OR_RETURN(opts.added_tokens, parse_added_tokens(root));

  // Ids may leave holes, but not so many that a hostile id allocates gigabytes.
  size_t n = 0;
  std::vector<std::pair<TokenId, const std::string*>> entries;
  entries.reserve(vocab_json->size());
  for (auto it = vocab_json->begin(); it != vocab_json->end(); ++it) {
    AG_ASSIGN_OR_RETURN(TokenId id, as_id(it.value(), "model.vocab." + it.key()));
    entries.emplace_back(id, &it.key());
    n = std::max(n, static_cast<size_t>(id) + 1);
  }
  for (const AddedToken& t : opts.added_tokens) n = std::max(n, static_cast<size_t>(t.id) + 1);
  if (n > 2 * (entries.size() + opts.added_tokens.size()) + 1024) {
    return corrupt("model.vocab", "has ids far beyond its size (" + std::to_string(n) + ")");
  }

  Vocab v;
  v.model = "bert";
  v.tokens.assign(n, std::string());
  v.types.assign(n, TokenType::kUnused);
  std::unordered_map<std::string_view, TokenId> by_text;
  const std::string& prefix = opts.continuing_prefix;
  for (const auto& [id, text] : entries) {
    const auto i = static_cast<size_t>(id);
    if (v.types[i] != TokenType::kUnused) return corrupt("model.vocab." + *text, "repeats id " + std::to_string(id));
    v.types[i] = TokenType::kNormal;
    // llama.cpp's convention (wordpiece_tokenizer.h): "##x" -> "x", "x" -> "▁x".
    const bool continuation = !prefix.empty() && text->starts_with(prefix);
    v.tokens[i] = continuation ? text->substr(prefix.size()) : std::string(kWordStart) + *text;
    by_text.emplace(*text, id);
  }
  for (const AddedToken& t : opts.added_tokens) {
    const auto i = static_cast<size_t>(t.id);
    v.tokens[i] = t.content;
    v.types[i] = t.special ? TokenType::kControl : TokenType::kUserDefined;
    by_text.emplace(t.content, t.id);
  }
  auto unk = by_text.find(unk_text);
  if (unk == by_text.end()) return corrupt("model.unk_token", "'" + unk_text + "' is not in the vocabulary");
  v.unk = unk->second;
  if (auto pad = by_text.find("[PAD]"); pad != by_text.end()) v.pad = pad->second;

  const json* normalizer = find(root, "normalizer");
  if (normalizer != nullptr) AG_RETURN_IF_ERROR(parse_normalizer(*normalizer, "normalizer", &opts.normalizer));
  opts.pre_tokenizer = WordPieceOptions::PreTokenizer::kNone;
  const json* pre = find(root, "pre_tokenizer");
  if (pre != nullptr) AG_RETURN_IF_ERROR(parse_pre_tokenizer(*pre, "pre_tokenizer", &opts.pre_tokenizer));
  const json* post = find(root, "post_processor");
  if (post != nullptr) {
    AG_RETURN_IF_ERROR(parse_post_processor(*post, "post_processor", &opts.prefix_specials, &opts.suffix_specials));
  }
  for (const auto* list : {&opts.prefix_specials, &opts.suffix_specials}) {
    for (TokenId id : *list) {
      if (static_cast<size_t>(id) >= n) return corrupt("post_processor", "names id " + std::to_string(id) +
                                                                        " outside the vocabulary");
    }
  }
  const json* decoder = find(root, "decoder");
  AG_RETURN_IF_ERROR(parse_decoder(decoder != nullptr ? *decoder : json(), &opts));

  const json* trunc = find(root, "truncation");
  if (trunc != nullptr && !trunc->is_null()) {
    if (!trunc->is_object()) return corrupt("truncation", "is not an object");
    AG_ASSIGN_OR_RETURN(int64_t max_len, get_count(*trunc, "max_length", "truncation.max_length", 0, 1LL << 40));
    const json* dir = find(*trunc, "direction");
    if (dir != nullptr && *dir != "Right") return Unsupported("tokenizer.json: truncation other than to the right");
    opts.truncation = static_cast<size_t>(max_len);
  }

  if (!opts.prefix_specials.empty()) v.bos = opts.prefix_specials.front();
  if (!opts.suffix_specials.empty()) v.eos = opts.suffix_specials.back();
  v.add_bos = !opts.prefix_specials.empty();
  v.add_eos = !opts.suffix_specials.empty();
  v.add_space_prefix = false;
  auto tok = WordPieceTokenizer::create(std::move(v), std::move(opts));
  if (!tok.ok()) return CorruptFile("tokenizer.json: " + tok.status().message());
  return std::unique_ptr<Tokenizer>(std::move(tok).value());
}

Result<std::unique_ptr<Tokenizer>> load_parsed(const json& root) {
  if (!root.is_object()) return corrupt("(root)", "is not an object");
  const json* model = find(root, "model");
  if (model == nullptr || !model->is_object()) return corrupt("model", "is not an object");
  std::string type = type_of(*model);
  if (type.empty()) {
    // Older files leave the type out; the fields tell.
    if (find(*model, "merges") != nullptr) {
      type = "BPE";
    } else if (find(*model, "continuing_subword_prefix") != nullptr) {
      type = "WordPiece";
    }
  }
  if (type == "WordPiece") return make_wordpiece(root, *model);
  if (type == "BPE") return make_bpe_from_hf_json(root);
  if (type.empty()) return corrupt("model.type", "is missing");
  return Unsupported("tokenizer.json: model type '" + type + "' is not supported");
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> load_hf_tokenizer_json(std::string_view json_text) {
  if (!json_nesting_within(json_text, kMaxDepth)) {
    return CorruptFile("tokenizer.json: nested deeper than " + std::to_string(kMaxDepth));
  }
  try {
    const json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded()) return CorruptFile("tokenizer.json: not valid JSON");
    return load_parsed(root);
  } catch (const json::exception& e) {
    return CorruptFile(std::string("tokenizer.json: ") + e.what());
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("tokenizer.json: out of memory");
  }
}

Result<std::unique_ptr<Tokenizer>> load_hf_tokenizer(const std::string& tokenizer_json_path) {
  std::ifstream f(tokenizer_json_path, std::ios::binary | std::ios::ate);
  if (!f) return IOError("cannot open '" + tokenizer_json_path + "'");
  const std::streamoff size = f.tellg();
  if (size < 0) return IOError("cannot read '" + tokenizer_json_path + "'");
  if (static_cast<uint64_t>(size) > kMaxFileBytes) return CorruptFile("'" + tokenizer_json_path + "' is too large");
  std::string text(static_cast<size_t>(size), '\0');
  f.seekg(0);
  if (!f.read(text.data(), size)) return IOError("cannot read '" + tokenizer_json_path + "'");
  auto tok = load_hf_tokenizer_json(text);
  if (!tok.ok()) {
    return Status(tok.status().code(), tokenizer_json_path + ": " + tok.status().message());
  }
  return tok;
}

}  // namespace autoglm
