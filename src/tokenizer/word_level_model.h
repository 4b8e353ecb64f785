// Hugging Face's WordLevel model: each pre-tokenized word is one vocabulary entry, else unk
// (dropped when there is no unk token; HF refuses to encode it).
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/hf_model.h"

namespace autoglm {

class WordLevelModel final : public HfModel {
 public:
  // tokens[id] is the text of id (holes are "").
  WordLevelModel(const std::vector<std::string>& tokens, TokenId unk);
  void tokenize(std::string_view word, std::vector<TokenId>* out) const override;

 private:
  struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, TokenId, SvHash, std::equal_to<>> ids_;
  TokenId unk_;
};

}  // namespace autoglm
