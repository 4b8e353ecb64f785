#include "tokenizer/hf_json_fields.h"

#include <array>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>

#include "tokenizer/precompiled_charsmap.h"

namespace autoglm::hfjson {

namespace {

// The one Regex form Replace supports: a literal character (not a regex metacharacter) followed by
// "{n,}" with n >= 1, the pattern transformers' SentencePiece converters write (" {2,}").
bool parse_run_regex(std::string_view re, char32_t* c, size_t* min_run) {
  if (re.empty()) return false;
  const size_t len = text::next_char(re, c);
  if (*c == 0xFFFD || std::string_view("\\^$.|?*+()[]{}").find(re[0]) != std::string_view::npos) return false;
  std::string_view rest = re.substr(len);
  if (rest.size() < 4 || rest.front() != '{' || rest.substr(rest.size() - 2) != ",}") return false;
  const std::string_view digits = rest.substr(1, rest.size() - 3);
  size_t n = 0;
  const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || p != digits.data() + digits.size() || n < 1 || n > 1000000) return false;
  *min_run = n;
  return true;
}

// ["[CLS]", 101] as BertProcessing/RobertaProcessing write cls and sep.
Result<TokenId> pair_id(const json& pp, const char* key, const std::string& path) {
  const json* v = find(pp, key);
  if (v == nullptr || !v->is_array() || v->size() != 2 || !(*v)[0].is_string()) {
    return corrupt(path, "is not a [text, id] pair");
  }
  return as_id((*v)[1], path + "[1]");
}

}  // namespace

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
  } else if (type == "Prepend") {
    AG_ASSIGN_OR_RETURN(std::string prepend, get_string(n, "prepend", path + ".prepend"));
    out->add_prepend(prepend);
  } else if (type == "Replace") {
    const json* pattern = find(n, "pattern");
    const json* literal = pattern != nullptr ? find(*pattern, "String") : nullptr;
    if (const json* regex = pattern != nullptr ? find(*pattern, "Regex") : nullptr) {
      if (!regex->is_string()) return corrupt(path + ".pattern.Regex", "is not a string");
      AG_ASSIGN_OR_RETURN(std::string content, get_string(n, "content", path + ".content"));
      char32_t c = 0;
      size_t min_run = 0;
      if (!parse_run_regex(regex->get<std::string>(), &c, &min_run)) {
        return Unsupported("tokenizer.json: " + path + ": Replace with the Regex '" + regex->get<std::string>() +
                           "' is not supported (only a run of one character, such as ' {2,}')");
      }
      out->add_replace_run(c, min_run, content);
      return Status::OK();
    }
    if (literal == nullptr || !literal->is_string()) return corrupt(path + ".pattern.String", "is not a string");
    AG_ASSIGN_OR_RETURN(std::string content, get_string(n, "content", path + ".content"));
    out->add_replace(literal->get<std::string>(), content);
  } else if (type == "Nmt") {
    out->add_nmt();
  } else if (type == "Precompiled") {
    // HF accepts a null or empty charsmap only through the Python constructor; a file must hold
    // the blob (its parser rejects an empty one).
    AG_ASSIGN_OR_RETURN(std::string b64, get_string(n, "precompiled_charsmap", path + ".precompiled_charsmap"));
    auto charsmap = text::PrecompiledCharsmap::from_base64(b64, "tokenizer.json: '" + path + ".precompiled_charsmap'");
    if (!charsmap.ok()) return charsmap.status();
    out->add_precompiled(std::make_shared<const text::PrecompiledCharsmap>(std::move(charsmap).value()));
  } else if (type.empty()) {
    return corrupt(path + ".type", "is missing");
  } else {
    return Unsupported("tokenizer.json: normalizer '" + type + "' is not supported");
  }
  return Status::OK();
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


double serde_json_f64(double exact) {
  if (!std::isfinite(exact) || exact == 0) return exact;
  // Shortest digits d1.d2...dn e X: serde reads the digits as an integer, then scales it by one
  // division (or multiplication) by a correctly rounded power of ten.
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, exact, std::chars_format::scientific);
  if (res.ec != std::errc()) return exact;
  const std::string_view text(buf, static_cast<size_t>(res.ptr - buf));
  const size_t e = text.find('e');
  if (e == std::string_view::npos) return exact;
  uint64_t significand = 0;
  int digits = 0;
  for (size_t i = 0; i < e; ++i) {
    if (text[i] < '0' || text[i] > '9') continue;
    significand = significand * 10 + static_cast<uint64_t>(text[i] - '0');
    ++digits;
  }
  int exponent = std::atoi(std::string(text.substr(e + 1)).c_str()) - (digits - 1);
  static const auto pow10 = [] {
    std::array<double, 309> p{};
    for (int i = 0; i <= 308; ++i) p[static_cast<size_t>(i)] = std::strtod(("1e" + std::to_string(i)).c_str(), nullptr);
    return p;
  }();
  double f = static_cast<double>(significand);
  while (true) {
    const int a = exponent < 0 ? -exponent : exponent;
    if (a <= 308) {
      if (exponent >= 0) {
        f *= pow10[static_cast<size_t>(a)];
      } else {
        f /= pow10[static_cast<size_t>(a)];
      }
      break;
    }
    if (f == 0 || exponent >= 0) break;
    f /= 1e308;
    exponent += 308;
  }
  return exact < 0 ? -f : f;
}

Status parse_merges(const json& merges, std::vector<std::pair<std::string, std::string>>* out) {
  if (!merges.is_array()) return corrupt("model.merges", "is not an array");
  out->reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const json& m = merges[i];
    if (m.is_string()) {
      const std::string& s = m.get_ref<const std::string&>();
      const size_t sp = s.find(' ');
      if (sp != std::string::npos && s.find(' ', sp + 1) == std::string::npos) {
        out->emplace_back(s.substr(0, sp), s.substr(sp + 1));
        continue;
      }
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      out->emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
      continue;
    }
    return corrupt("model.merges[" + std::to_string(i) + "]", "is not two tokens");
  }
  return Status::OK();
}

}  // namespace autoglm::hfjson
