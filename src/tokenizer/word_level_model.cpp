#include "tokenizer/word_level_model.h"

namespace autoglm {

WordLevelModel::WordLevelModel(const std::vector<std::string>& tokens, TokenId unk) : unk_(unk) {
  ids_.reserve(tokens.size());
  for (size_t id = 0; id < tokens.size(); ++id) {
    if (!tokens[id].empty()) ids_.emplace(tokens[id], static_cast<TokenId>(id));
  }
}

void WordLevelModel::tokenize(std::string_view word, std::vector<TokenId>* out) const {
  if (const auto it = ids_.find(word); it != ids_.end()) {
    out->push_back(it->second);
  } else if (unk_ >= 0) {
    out->push_back(unk_);
  }
}

}  // namespace autoglm
