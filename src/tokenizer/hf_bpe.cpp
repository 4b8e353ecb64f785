// make_bpe_from_hf_json: a Hugging Face tokenizer.json with a byte-level BPE model.
#include <nlohmann/json.hpp>

#include <limits>
#include <optional>

#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/hf_json_fields.h"

namespace autoglm {

namespace {

using nlohmann::json;

std::string type_of_section(const json& j) {
  const auto it = j.find("type");
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool get_bool(const json& j, const char* key, bool fallback) {
  const auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

Status parse_normalizer(const json& j, BpeOptions* options) {
  if (j.is_null()) return Status::OK();
  if (!j.is_object()) return InvalidArgument("tokenizer.json: normalizer is not an object");
  const std::string type = type_of_section(j);
  if (type == "Sequence") {
    const auto it = j.find("normalizers");
    if (it == j.end() || !it->is_array()) return InvalidArgument("tokenizer.json: normalizer Sequence without a list");
    for (const json& n : *it) AG_RETURN_IF_ERROR(parse_normalizer(n, options));
    return Status::OK();
  }
  using N = BpeOptions::Normalization;
  N form;
  if (type == "NFC") {
    form = N::kNFC;
  } else if (type == "NFKC") {
    form = N::kNFKC;
  } else if (type == "NFD") {
    form = N::kNFD;
  } else if (type == "NFKD") {
    form = N::kNFKD;
  } else {
    return Unsupported("tokenizer.json: normalizer '" + type + "' is not supported with a BPE model");
  }
  if (options->normalization != N::kNone && options->normalization != form) {
    return Unsupported("tokenizer.json: more than one Unicode normalization form");
  }
  options->normalization = form;
  return Status::OK();
}

struct PreState {
  std::vector<PreTokenizer::Step> steps;
  bool byte_level = false;  // a ByteLevel step was seen: later rules see byte-level characters
  bool add_prefix_space = false;
};

Status parse_pre_tokenizer(const json& j, PreState* st) {
  if (j.is_null()) return Status::OK();
  if (!j.is_object()) return InvalidArgument("tokenizer.json: pre_tokenizer is not an object");
  const std::string type = type_of_section(j);
  if (type == "Sequence") {
    const auto it = j.find("pretokenizers");
    if (it == j.end() || !it->is_array()) {
      return InvalidArgument("tokenizer.json: pre_tokenizer Sequence without a list");
    }
    for (const json& p : *it) AG_RETURN_IF_ERROR(parse_pre_tokenizer(p, st));
    return Status::OK();
  }
  const bool view = st->byte_level;
  if (type == "ByteLevel") {
    if (st->byte_level) return Unsupported("tokenizer.json: two ByteLevel pre-tokenizers");
    if (get_bool(j, "add_prefix_space", false)) {
      // Prepended to each piece that exists when ByteLevel runs: only the whole text if it is first.
      if (!st->steps.empty()) return Unsupported("tokenizer.json: ByteLevel add_prefix_space after other splits");
      st->add_prefix_space = true;
    }
    if (get_bool(j, "use_regex", true)) st->steps.push_back({PreRule::kGpt2, false});
    st->byte_level = true;
    return Status::OK();
  }
  if (type == "Digits") {
    st->steps.push_back({get_bool(j, "individual_digits", false) ? PreRule::kDigit : PreRule::kDigitRun, view});
    return Status::OK();
  }
  if (type == "Punctuation") {
    const auto it = j.find("behavior");
    const std::string behavior = it != j.end() && it->is_string() ? it->get<std::string>() : "Isolated";
    if (behavior == "Isolated") {
      st->steps.push_back({PreRule::kPunctAlone, view});
    } else if (behavior == "Contiguous") {
      st->steps.push_back({PreRule::kFalconPunct, view});
    } else {
      return Unsupported("tokenizer.json: Punctuation behavior '" + behavior + "'");
    }
    return Status::OK();
  }
  if (type == "Split") {
    const auto pat = j.find("pattern");
    const auto beh = j.find("behavior");
    if (pat == j.end() || !pat->is_object() || !pat->contains("Regex") || !(*pat)["Regex"].is_string()) {
      return Unsupported("tokenizer.json: Split pre-tokenizer without a Regex pattern");
    }
    if (beh == j.end() || !beh->is_string() || beh->get<std::string>() != "Isolated" || get_bool(j, "invert", false)) {
      return Unsupported("tokenizer.json: Split pre-tokenizer other than Isolated");
    }
    AG_ASSIGN_OR_RETURN(PreRule rule, PreTokenizer::rule_for_regex((*pat)["Regex"].get<std::string>()));
    st->steps.push_back({rule, view});
    return Status::OK();
  }
  return Unsupported("tokenizer.json: pre_tokenizer '" + type + "' is not supported with a byte-level BPE model");
}

// Adds the ids a TemplateProcessing/RobertaProcessing post-processor puts around a single text.
Status parse_post_processor(const json& j, Vocab* v) {
  if (j.is_null()) return Status::OK();
  if (!j.is_object()) return InvalidArgument("tokenizer.json: post_processor is not an object");
  const std::string type = type_of_section(j);
  if (type == "Sequence") {
    const auto it = j.find("processors");
    if (it == j.end() || !it->is_array()) return InvalidArgument("tokenizer.json: post_processor Sequence without a list");
    for (const json& p : *it) AG_RETURN_IF_ERROR(parse_post_processor(p, v));
    return Status::OK();
  }
  if (type == "ByteLevel") return Status::OK();  // offsets only
  auto id_in_range = [&](const json& id) -> std::optional<TokenId> {
    if (!id.is_number_integer()) return std::nullopt;
    const int64_t x = id.get<int64_t>();
    if (x < 0 || static_cast<uint64_t>(x) >= v->tokens.size()) return std::nullopt;
    return static_cast<TokenId>(x);
  };
  if (type == "RobertaProcessing") {
    const auto cls = j.find("cls");
    const auto sep = j.find("sep");
    if (cls == j.end() || sep == j.end() || !cls->is_array() || !sep->is_array() || cls->size() != 2 ||
        sep->size() != 2 || !id_in_range((*cls)[1]) || !id_in_range((*sep)[1])) {
      return InvalidArgument("tokenizer.json: RobertaProcessing needs cls and sep [text, id]");
    }
    v->bos = *id_in_range((*cls)[1]);
    v->eos = *id_in_range((*sep)[1]);
    v->add_bos = v->add_eos = true;
    return Status::OK();
  }
  if (type != "TemplateProcessing") {
    return Unsupported("tokenizer.json: post_processor '" + type + "' is not supported with a BPE model");
  }
  const auto single = j.find("single");
  const auto specials = j.find("special_tokens");
  if (single == j.end() || !single->is_array()) return InvalidArgument("tokenizer.json: TemplateProcessing without single");
  std::vector<TokenId> before, after;
  bool seen_sequence = false;
  for (const json& piece : *single) {
    if (piece.contains("Sequence")) {
      seen_sequence = true;
      continue;
    }
    const auto st = piece.find("SpecialToken");
    if (st == piece.end() || !st->is_object() || !st->contains("id") || !(*st)["id"].is_string()) {
      return InvalidArgument("tokenizer.json: TemplateProcessing piece is neither Sequence nor SpecialToken");
    }
    const std::string name = (*st)["id"].get<std::string>();
    if (specials == j.end() || !specials->is_object() || !specials->contains(name) ||
        !(*specials)[name].contains("ids") || !(*specials)[name]["ids"].is_array()) {
      return InvalidArgument("tokenizer.json: TemplateProcessing special token '" + name + "' has no ids");
    }
    for (const json& id : (*specials)[name]["ids"]) {
      const std::optional<TokenId> t = id_in_range(id);
      if (!t) return InvalidArgument("tokenizer.json: TemplateProcessing id of '" + name + "' is out of range");
      (seen_sequence ? after : before).push_back(*t);
    }
  }
  if (before.size() > 1 || after.size() > 1) {
    return Unsupported("tokenizer.json: TemplateProcessing adds more than one token on a side");
  }
  if (!before.empty()) {
    v->bos = before[0];
    v->add_bos = true;
  }
  if (!after.empty()) {
    v->eos = after[0];
    v->add_eos = true;
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> make_bpe_from_hf_json(const json& root) {
  if (!root.is_object()) return InvalidArgument("tokenizer.json: not an object");
  const auto model_it = root.find("model");
  if (model_it == root.end() || !model_it->is_object()) return InvalidArgument("tokenizer.json: no model");
  const json& model = *model_it;
  const std::string mtype = type_of_section(model);
  if (!mtype.empty() && mtype != "BPE") return InvalidArgument("tokenizer.json: model type '" + mtype + "' is not BPE");
  if (get_bool(model, "byte_fallback", false)) {
    return Unsupported("tokenizer.json: BPE with byte_fallback (SentencePiece-style) is not supported yet");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const auto it = model.find(key);
    if (it != model.end() && !it->is_null() && !(it->is_string() && it->get_ref<const std::string&>().empty())) {
      return Unsupported(std::string("tokenizer.json: BPE ") + key + " is not supported");
    }
  }
  if (const auto it = model.find("dropout"); it != model.end() && it->is_number() && it->get<double>() > 0) {
    return Unsupported("tokenizer.json: BPE dropout is not supported");
  }

  const auto vocab_it = model.find("vocab");
  if (vocab_it == model.end() || !vocab_it->is_object() || vocab_it->empty()) {
    return InvalidArgument("tokenizer.json: model.vocab is missing or empty");
  }
  const json empty_array = json::array();
  const auto added_it = root.find("added_tokens");
  const json& added = added_it != root.end() && !added_it->is_null() ? *added_it : empty_array;
  if (!added.is_array()) return InvalidArgument("tokenizer.json: added_tokens is not an array");

  // Ids may leave holes, but not so many that a tiny file makes us allocate a huge table.
  const uint64_t entries = vocab_it->size() + added.size();
  const uint64_t id_limit = std::min<uint64_t>(entries * 2 + 1024, std::numeric_limits<TokenId>::max());
  auto check_id = [&](const json& id, const std::string& what) -> Result<TokenId> {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || static_cast<uint64_t>(id.get<int64_t>()) >= id_limit) {
      return InvalidArgument("tokenizer.json: id of " + what + " is not a valid token id");
    }
    return static_cast<TokenId>(id.get<int64_t>());
  };

  Vocab v;
  v.model = "gpt2";
  v.add_space_prefix = false;
  for (auto it = vocab_it->begin(); it != vocab_it->end(); ++it) {
    AG_ASSIGN_OR_RETURN(TokenId id, check_id(it.value(), "token '" + it.key().substr(0, 64) + "'"));
    if (static_cast<size_t>(id) >= v.tokens.size()) {
      v.tokens.resize(static_cast<size_t>(id) + 1);
      v.types.resize(static_cast<size_t>(id) + 1, TokenType::kUnused);
    }
    if (v.types[static_cast<size_t>(id)] != TokenType::kUnused) {
      return InvalidArgument("tokenizer.json: token id " + std::to_string(id) + " is used twice in model.vocab");
    }
    v.tokens[static_cast<size_t>(id)] = it.key();
    v.types[static_cast<size_t>(id)] = TokenType::kNormal;
  }
  for (const json& a : added) {
    if (!a.is_object() || !a.contains("content") || !a["content"].is_string() || !a.contains("id")) {
      return InvalidArgument("tokenizer.json: an added token lacks id or content");
    }
    const std::string& content = a["content"].get_ref<const std::string&>();
    AG_ASSIGN_OR_RETURN(TokenId id, check_id(a["id"], "added token '" + content.substr(0, 64) + "'"));
    if (static_cast<size_t>(id) >= v.tokens.size()) {
      v.tokens.resize(static_cast<size_t>(id) + 1);
      v.types.resize(static_cast<size_t>(id) + 1, TokenType::kUnused);
    }
    v.tokens[static_cast<size_t>(id)] = content;
    v.types[static_cast<size_t>(id)] = get_bool(a, "special", false) ? TokenType::kControl : TokenType::kUserDefined;
  }
  if (const auto unk = model.find("unk_token"); unk != model.end() && unk->is_string()) {
    for (size_t i = 0; i < v.tokens.size(); ++i) {
      if (v.tokens[i] == unk->get_ref<const std::string&>() && v.types[i] != TokenType::kUnused) {
        v.unk = static_cast<TokenId>(i);
        break;
      }
    }
  }

  BpeOptions options;
  AG_ASSIGN_OR_RETURN(options.added_tokens, hfjson::parse_added_tokens(root));
  options.ignore_merges = get_bool(model, "ignore_merges", false);
  if (const auto it = root.find("normalizer"); it != root.end()) AG_RETURN_IF_ERROR(parse_normalizer(*it, &options));
  PreState pre;
  if (const auto it = root.find("pre_tokenizer"); it != root.end()) AG_RETURN_IF_ERROR(parse_pre_tokenizer(*it, &pre));
  if (!pre.byte_level) {
    return Unsupported("tokenizer.json: BPE without a ByteLevel pre-tokenizer is not supported yet");
  }
  options.pre = PreTokenizer(std::move(pre.steps));
  options.add_prefix_space = pre.add_prefix_space;
  if (const auto it = root.find("post_processor"); it != root.end()) AG_RETURN_IF_ERROR(parse_post_processor(*it, &v));

  std::vector<BpeTokenizer::MergePair> merges;
  if (const auto it = model.find("merges"); it != model.end()) AG_RETURN_IF_ERROR(hfjson::parse_merges(*it, &merges));
  AG_ASSIGN_OR_RETURN(std::unique_ptr<BpeTokenizer> tok, BpeTokenizer::create(std::move(v), merges, std::move(options)));
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

}  // namespace autoglm
