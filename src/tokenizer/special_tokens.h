// Finding special-token texts (control, user-defined) inside input text, shared by the
// tokenizers: the text is split into fragments that are either one special token or plain
// text between them, which each tokenizer then encodes its own way.
#pragma once

#include <array>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace autoglm {

struct TextFragment {
  bool is_token = false;
  TokenId id = -1;        // when is_token
  std::string_view text;  // when !is_token (a view into the input)
};

// Special-token texts, found by trying each length a special token starting with that byte
// has, longest first: a few hash look-ups per position even with thousands of specials.
class SpecialTokenIndex {
 public:
  // `text` must outlive the index (views into the vocabulary). The first id of a text wins.
  void add(std::string_view text, TokenId id);
  // Call once after the last add().
  void finish();
  std::vector<TextFragment> split(std::string_view text) const;

 private:
  struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string_view, TokenId, SvHash, std::equal_to<>> by_text_;
  std::array<std::vector<size_t>, 256> lengths_by_byte_{};
};

}  // namespace autoglm
