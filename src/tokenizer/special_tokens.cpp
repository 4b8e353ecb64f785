#include "tokenizer/special_tokens.h"

#include <algorithm>
#include <functional>

namespace autoglm {

void SpecialTokenIndex::add(std::string_view text, TokenId id) {
  if (text.empty() || !by_text_.emplace(text, id).second) return;
  lengths_by_byte_[static_cast<uint8_t>(text[0])].push_back(text.size());
}

void SpecialTokenIndex::finish() {
  for (std::vector<size_t>& lens : lengths_by_byte_) {
    std::sort(lens.begin(), lens.end(), std::greater<>());
    lens.erase(std::unique(lens.begin(), lens.end()), lens.end());
  }
}

std::vector<TextFragment> SpecialTokenIndex::split(std::string_view text) const {
  std::vector<TextFragment> frags;
  size_t text_start = 0;
  size_t i = 0;
  while (i < text.size()) {
    TokenId match = -1;
    size_t match_len = 0;
    for (size_t len : lengths_by_byte_[static_cast<uint8_t>(text[i])]) {
      if (len > text.size() - i) continue;
      const auto it = by_text_.find(text.substr(i, len));
      if (it != by_text_.end()) {
        match = it->second;
        match_len = len;
        break;
      }
    }
    if (match < 0) {
      ++i;
      continue;
    }
    if (i > text_start) frags.push_back({false, -1, text.substr(text_start, i - text_start)});
    frags.push_back({true, match, {}});
    i += match_len;
    text_start = i;
  }
  if (text_start < text.size()) frags.push_back({false, -1, text.substr(text_start)});
  return frags;
}

}  // namespace autoglm
