// Typed field readers for tokenizer.json sections shared by the model builders
// (hf_tokenizer_json.cpp, hf_pipeline_json.cpp). Every error names the field ("model.unk_token"):
// CorruptFile for a missing field or one of the wrong type, Unsupported for a valid section this
// engine does not implement.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/normalizer.h"

namespace autoglm::hfjson {

using nlohmann::json;

Status corrupt(std::string_view field, std::string_view what);
// The member `key` of obj, or nullptr (also when obj is not an object).
const json* find(const json& obj, const char* key);
Result<std::string> get_string(const json& obj, const char* key, const std::string& path);
// fallback when missing or null.
Result<bool> get_bool(const json& obj, const char* key, const std::string& path, bool fallback);
// A non-negative integer that fits a TokenId.
Result<TokenId> as_id(const json& v, const std::string& path);
Result<int64_t> get_count(const json& obj, const char* key, const std::string& path, int64_t fallback, int64_t max);
// section.type, or "" when missing.
std::string type_of(const json& section);

Result<std::vector<AddedToken>> parse_added_tokens(const json& root);
// Null, BertNormalizer, Lowercase, StripAccents, NFD/NFC/NFKD/NFKC, Strip, Prepend, Replace
// (literal pattern or a one-character run Regex "c{n,}"), Nmt, Precompiled and Sequences of
// them, appended to *out.
Status parse_normalizer(const json& n, const std::string& path, text::Normalizer* out);
// The ids BertProcessing/RobertaProcessing/TemplateProcessing (or a Sequence of them) put before
// and after a single text.
Status parse_post_processor(const json& pp, const std::string& path, std::vector<TokenId>* prefix,
                            std::vector<TokenId>* suffix);

// The double HF's JSON reader (serde_json without float_roundtrip) makes of the number whose
// exact parse is `exact`, which can differ in the last bit. Unigram scores must match HF's to
// break ties as it does. Assumes the file holds the shortest text of the number (what HF and
// Python write).
double serde_json_f64(double exact);

// model.merges: "left right" strings or ["left", "right"] pairs, rank = index.
Status parse_merges(const json& merges, std::vector<std::pair<std::string, std::string>>* out);

}  // namespace autoglm::hfjson
