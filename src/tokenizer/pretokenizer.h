// Pre-tokenizers of byte-level BPE models: the regex splits that cut text into pieces before BPE
// merges run inside each piece. Each rule is a hand-written matcher over code points (Unicode
// categories from utf8proc) that behaves like the model's regex under Hugging Face tokenizers
// (Oniguruma): leftmost match, alternatives in order, greedy quantifiers with backtracking. Text
// between matches becomes pieces too ("Isolated" split), and a sequence of rules splits each piece
// of the previous rule independently (lookarounds and `$` see only the piece).
//
// Classes as Oniguruma sees them: \s is Unicode White_Space (U+0009-000D, 0020, 0085, 00A0, 1680,
// 2000-200A, 2028, 2029, 202F, 205F, 3000); \p{L} = Lu Ll Lt Lm Lo; \p{N} = Nd Nl No; \p{P} = Pc
// Pd Ps Pe Pi Pf Po. An ill-formed UTF-8 byte is one character of none of these classes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "autoglm/status.h"

namespace autoglm {

// One rule: a regex of some model's pre_tokenizer (named after the pattern, not the model).
enum class PreRule : uint8_t {
  // GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  kGpt2,
  // Llama 3 / GLM-4 (tiktoken cl100k): (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|
  //   \p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  kLlama3,
  // Qwen2: as kLlama3 with \p{N} (one digit) instead of \p{N}{1,3}.
  kQwen2,
  kDigit,          // \p{N}: every numeric character alone (HF Digits, individual_digits = true)
  kDigitRun,       // \p{N}+ (HF Digits, individual_digits = false; DeepSeek LLM)
  kThreeDigits,    // [0-9][0-9][0-9] (Falcon)
  kFalconPunct,    // [\p{P}\$\+<=>\^~\|`]+ (HF Punctuation: Unicode or ASCII punctuation, contiguous)
  kPunctAlone,     // the same class, one character per piece (HF Punctuation, Isolated)
  kNewline,        // [\r\n] (DeepSeek)
  kSpaceLetters,   // \s?\p{L}+ (DeepSeek Coder)
  kSpacePunct,     // \s?\p{P}+ (DeepSeek Coder)
  kDeepseekCased,  // \s?[A-Za-zµÀ-ÖØ-öø-ƺ...𞤀-𞥃]+: DeepSeek LLM's list of cased-letter ranges
  kDeepseekPunct,  // \s?[!-/:-~！-／：-～‘-‟　-。]+ (DeepSeek LLM)
  kTrailingSpace,  // \s+$ (DeepSeek LLM; Oniguruma's $ also matches before '\n')
  kDeepseekCjk,    // [一-龥ࠀ-一가-퟿]+ = [U+0800-U+9FA5 U+AC00-U+D7FF]+ (DeepSeek)
};

class PreTokenizer {
 public:
  struct Step {
    PreRule rule;
    // The rule sees the byte-level characters (GPT-2's byte-to-unicode image of each byte)
    // instead of the text's own: rules placed after a ByteLevel step in a tokenizer.json.
    bool byte_view = false;
  };

  PreTokenizer() = default;
  explicit PreTokenizer(std::vector<Step> steps) : steps_(std::move(steps)) {}

  // The rules llama.cpp names by GGUF tokenizer.ggml.pre ("" = GPT-2's). Unsupported for an
  // unknown name.
  static Result<PreTokenizer> for_ggml_pre(std::string_view pre);
  // The rule a tokenizer.json Split pattern spells, matched by its exact text. Unsupported for
  // any other regex.
  static Result<PreRule> rule_for_regex(std::string_view regex);

  // Cuts text into pieces, in order, that together are exactly `text`. No piece is empty.
  void split(std::string_view text, std::vector<std::string_view>* pieces) const;
  const std::vector<Step>& steps() const { return steps_; }

 private:
  std::vector<Step> steps_;
};

// GPT-2's byte-to-unicode map: bytes 0x21-0x7E, 0xA1-0xAC, 0xAE-0xFF stand for themselves, the
// other 68 bytes for U+0100 onwards in byte order. Byte-level vocabularies spell tokens in it.
uint32_t byte_to_codepoint(uint8_t b);
// The byte a code point stands for, or -1 when it is not in the map's image.
int codepoint_to_byte(uint32_t cp);
// Appends the byte-level spelling of raw bytes (each byte -> its code point in UTF-8).
void append_byte_level(std::string_view bytes, std::string* out);

}  // namespace autoglm
