// SentencePiece's precompiled_charsmap (the `Precompiled` normalizer of Hugging Face tokenizers;
// T5, ALBERT, XLM-R and other Unigram models): the normalization rules of the model, compiled
// into one blob:
//   u32 LE trie_size | trie_size / 4 u32 LE units: a darts-clone double-array trie over UTF-8
//   byte strings | the rest: NUL-terminated UTF-8 replacement strings, which a trie value
//   indexes by byte offset.
// Normalization follows HF (tokenizers' normalizers/precompiled.rs with spm_precompiled), not
// sentencepiece's own longest match: the text is split into extended grapheme clusters; a
// cluster of fewer than 6 bytes whose start has a rule is replaced as a whole by the value of
// the SHORTEST rule that is a prefix of it (HF's results[0]; so "Ａ\u0301" becomes "a" under
// nmt_nfkc_cf); otherwise each character is replaced by its own rule or kept.
//
// The blob is hostile input: sizes are checked when it is read (CorruptFile), and each trie step
// is bounds-checked when it runs, where a step outside the array or a value outside the strings
// (or not at a character start) ends the search as "no rule" (HF would panic there).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "autoglm/status.h"

namespace autoglm::text {

class PrecompiledCharsmap {
 public:
  // The decoded blob; `what` names it in errors (the JSON field).
  static Result<PrecompiledCharsmap> from_bytes(std::string_view blob, std::string_view what);
  // The base64 text of tokenizer.json's precompiled_charsmap.
  static Result<PrecompiledCharsmap> from_base64(std::string_view b64, std::string_view what);

  // The replacement for `chunk` by its shortest prefix rule, or nullopt when no prefix has one.
  std::optional<std::string_view> transform(std::string_view chunk) const;
  // The whole normalization (see above) of UTF-8 text (well-formed: the pipeline decoded it).
  std::string normalize(std::string_view utf8) const;

  size_t trie_units() const { return units_.size(); }

 private:
  std::vector<uint32_t> units_;
  std::string strings_;  // the replacement strings, NUL-separated
};

}  // namespace autoglm::text
