#include "tokenizer/added_tokens.h"

#include <utf8proc.h>

#include <algorithm>
#include <functional>

#include "tokenizer/normalizer.h"

namespace autoglm {

namespace {

bool is_continuation_byte(char c) { return (static_cast<uint8_t>(c) & 0xC0) == 0x80; }

// The start of the last character of s (non-empty); an ill-formed tail is one byte.
size_t last_char_start(std::string_view s) {
  size_t i = s.size() - 1;
  for (int k = 0; k < 3 && i > 0 && is_continuation_byte(s[i]); ++k) --i;
  char32_t cp;
  return text::next_char(s.substr(i), &cp) == s.size() - i ? i : s.size() - 1;
}

char32_t char_at(std::string_view s, size_t i) {
  char32_t cp;
  text::next_char(s.substr(i), &cp);
  return cp;
}

// \w of a Unicode regex engine (Rust's regex): letters, marks, digits, connector punctuation.
bool is_word_char(char32_t c) {
  if (c == U'_' || c == 0x200C || c == 0x200D) return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

}  // namespace

void AddedTokenSplitter::add(std::string pattern, const AddedToken& t) {
  if (pattern.empty()) return;
  const auto first = static_cast<uint8_t>(pattern[0]);
  const size_t len = pattern.size();
  if (by_text_.emplace(std::move(pattern), Entry{t.id, t.special, t.single_word, t.lstrip, t.rstrip}).second) {
    lengths_by_byte_[first].push_back(len);
  }
}

void AddedTokenSplitter::finish() {
  for (std::vector<size_t>& lens : lengths_by_byte_) {
    std::sort(lens.begin(), lens.end(), std::greater<>());
    lens.erase(std::unique(lens.begin(), lens.end()), lens.end());
  }
}

void AddedTokenSplitter::split(std::string_view text, bool parse_special, std::vector<AddedSplit>* out) const {
  size_t text_start = 0;  // where the pending text begins (after the last token taken)
  size_t i = 0;
  while (i < text.size()) {
    const Entry* match = nullptr;
    size_t len = 0;
    for (size_t l : lengths_by_byte_[static_cast<uint8_t>(text[i])]) {
      if (l > text.size() - i) continue;
      const auto it = by_text_.find(text.substr(i, l));
      if (it != by_text_.end()) {
        match = &it->second;
        len = l;
        break;
      }
    }
    if (match == nullptr) {
      ++i;
      continue;
    }
    size_t start = i, stop = i + len;
    i = stop;  // an unusable match is skipped whole, as HF's non-overlapping search does
    if (match->special && !parse_special) continue;
    if (match->single_word) {
      const bool left_ok = start == 0 || !is_word_char(char_at(text, last_char_start(text.substr(0, start))));
      const bool right_ok = stop == text.size() || !is_word_char(char_at(text, stop));
      if (!left_ok || !right_ok) continue;
    }
    if (match->lstrip) {
      while (start > text_start) {
        const size_t s = last_char_start(text.substr(0, start));
        if (s < text_start || !text::is_whitespace(char_at(text, s))) break;
        start = s;
      }
    }
    if (match->rstrip) {
      while (stop < text.size()) {
        char32_t cp;
        const size_t n = text::next_char(text.substr(stop), &cp);
        if (!text::is_whitespace(cp)) break;
        stop += n;
      }
    }
    if (start > text_start) out->push_back({false, -1, text_start, start});
    out->push_back({true, match->id, start, stop});
    text_start = stop;
    i = stop;
  }
  if (text_start < text.size()) out->push_back({false, -1, text_start, text.size()});
}

}  // namespace autoglm
