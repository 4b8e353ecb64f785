#include "tokenizer/hf_tokenizer_json.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <limits>
#include <new>
#include <unordered_map>

#include "autoglm/json_limits.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/hf_json_fields.h"
#include "tokenizer/hf_pipeline_json.h"
#include "tokenizer/wordpiece_tokenizer.h"

namespace autoglm {

namespace {

using nlohmann::json;
using namespace hfjson;  // NOLINT: the field readers

constexpr size_t kMaxDepth = 256;                       // real files nest < 10 deep
constexpr uint64_t kMaxFileBytes = uint64_t{1} << 30;   // the largest real ones are ~35 MB
constexpr std::string_view kWordStart = "\xE2\x96\x81";  // U+2581

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

// GPT-2-style BPE (bpe_tokenizer.h): a ByteLevel pre-tokenizer or decoder. Other BPE files
// (Llama-2-style: Metaspace or none, byte_fallback) go to the pipeline (hf_pipeline_json.h).
bool has_byte_level(const json& section, const char* list_key) {
  if (type_of(section) == "ByteLevel") return true;
  const json* list = find(section, list_key);
  if (list == nullptr || !list->is_array()) return false;
  return std::any_of(list->begin(), list->end(), [](const json& s) { return type_of(s) == "ByteLevel"; });
}

bool is_byte_level(const json& root) {
  const json* pre = find(root, "pre_tokenizer");
  const json* dec = find(root, "decoder");
  return (pre != nullptr && has_byte_level(*pre, "pretokenizers")) || (dec != nullptr && has_byte_level(*dec, "decoders"));
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
  if (type == "BPE") return is_byte_level(root) ? make_bpe_from_hf_json(root) : make_pipeline_from_hf_json(root);
  if (type == "Unigram" || type == "WordLevel") return make_pipeline_from_hf_json(root);
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
