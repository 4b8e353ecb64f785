// Hugging Face added tokens (tokenizer.json "added_tokens"): texts matched in the input before
// the model runs, with HF's matching rules (AddedVocabulary::find_matches).
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace autoglm {

// One entry of HF's added_tokens (content matched in the text before the model runs).
struct AddedToken {
  TokenId id = -1;
  std::string content;
  bool special = false;      // control: matched only with parse_special, skipped by decode
  bool single_word = false;  // only where no word character touches it
  bool lstrip = false;       // swallows whitespace on its left
  bool rstrip = false;       // swallows whitespace on its right
  bool normalized = false;   // matched in the normalized text instead of the raw text
};

// A piece of the input: an added token or the text between two, by byte offsets.
struct AddedSplit {
  bool is_token = false;
  TokenId id = -1;
  size_t begin = 0, end = 0;
};

// Finds added tokens as HF does: the leftmost match, the longest there. A match that may not be
// used (a special token without parse_special, a single_word token touching a word character)
// stays text and the search goes on after it, as HF's automaton does. lstrip/rstrip make the
// token swallow the whitespace next to it (never text an earlier token took).
class AddedTokenSplitter {
 public:
  // `pattern` is what is searched for: the token's content, or its normalized form. The first
  // token added with a pattern keeps it.
  void add(std::string pattern, const AddedToken& token);
  void finish();  // once, after the last add()
  bool empty() const { return by_text_.empty(); }
  // Appends the splits of `text` (covering it all, none empty) to out.
  void split(std::string_view text, bool parse_special, std::vector<AddedSplit>* out) const;

 private:
  struct Entry {
    TokenId id;
    bool special, single_word, lstrip, rstrip;
  };
  struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Entry, SvHash, std::equal_to<>> by_text_;
  std::array<std::vector<size_t>, 256> lengths_by_byte_{};  // pattern lengths by first byte, longest first
};

}  // namespace autoglm
