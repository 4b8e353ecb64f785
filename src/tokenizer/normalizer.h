// Unicode text normalization for tokenizers, as Hugging Face `tokenizers` defines its normalizers:
// BertNormalizer (clean text, Chinese-character splitting, accent stripping, lower-casing),
// Lowercase, StripAccents, NFD/NFC/NFKD/NFKC, Strip, Prepend, Replace (a literal pattern or a run
// of one character), Nmt, Precompiled (precompiled_charsmap.h) and sequences of them. Unicode data
// (categories, decompositions, case mappings) comes from utf8proc.
//
// Text is handled as code points; UTF-8 input that is not well-formed is read with every bad byte
// as U+FFFD (which BertNormalizer's clean_text then drops), so any byte string is accepted.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace autoglm::text {

class PrecompiledCharsmap;
using CodePoints = std::u32string;

// UTF-8 -> code points; each byte that is not part of a well-formed character becomes U+FFFD.
CodePoints decode_utf8(std::string_view s);
void append_utf8(char32_t cp, std::string* out);
std::string encode_utf8(std::u32string_view cps);
// The character at s[0] (s non-empty): its code point and byte length; an ill-formed byte is
// U+FFFD of length 1.
size_t next_char(std::string_view s, char32_t* cp);

// Character classes as BERT (and HF's BertNormalizer / BertPreTokenizer) define them.
bool is_whitespace(char32_t c);    // \t \n \r and Unicode White_Space
bool is_control(char32_t c);       // categories Cc Cf Cs Co, except \t \n \r (counted as whitespace)
bool is_punctuation(char32_t c);   // ASCII punctuation/symbols (!../:..@[..`{..~) and categories P*
bool is_chinese_char(char32_t c);  // CJK Unified Ideographs blocks, as HF's BertNormalizer lists them
bool is_nonspacing_mark(char32_t c);  // category Mn
bool is_combining_mark(char32_t c);   // categories Mn Mc Me

// Full lower-case mapping of one character, as Rust's char::to_lowercase (U+0130 -> "i\u0307").
void append_lowercase(char32_t c, CodePoints* out);

enum class NormForm { kNFD, kNFC, kNFKD, kNFKC };
CodePoints normalize(std::u32string_view cps, NormForm form);

struct BertNormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;  // HF: strip_accents = null means "same as lowercase"
  bool lowercase = true;
};

// An ordered list of normalization steps (HF's normalizer, flattened).
class Normalizer {
 public:
  enum class Kind { kBert, kLowercase, kStripAccents, kForm, kStrip, kPrepend, kReplace, kReplaceRun, kNmt,
                    kPrecompiled };
  struct Step {
    Kind kind;
    BertNormalizerOptions bert;
    NormForm form = NormForm::kNFD;
    bool strip_left = false, strip_right = false;
    CodePoints pattern = {}, content = {};  // kReplace: pattern -> content; kPrepend: content
    size_t min_run = 0;                     // kReplaceRun: pattern[0] repeated >= min_run times
    std::shared_ptr<const PrecompiledCharsmap> charsmap = {};
  };

  void add_bert(const BertNormalizerOptions& o) { steps_.push_back({Kind::kBert, o}); }
  void add_lowercase() { steps_.push_back({Kind::kLowercase, {}}); }
  void add_strip_accents() { steps_.push_back({Kind::kStripAccents, {}}); }
  void add_form(NormForm f) { steps_.push_back({Kind::kForm, {}, f}); }
  void add_strip(bool left, bool right) { steps_.push_back({Kind::kStrip, {}, NormForm::kNFD, left, right}); }
  // Prepends `content` to a non-empty text (Llama's "\u2581").
  void add_prepend(std::string_view content);
  // Every non-overlapping occurrence of `pattern` (non-empty), left to right.
  void add_replace(std::string_view pattern, std::string_view content);
  // Every maximal run of at least min_run (>= 1) `c` characters: HF's Replace with the Regex
  // "c{min_run,}" (converters write " {2,}").
  void add_replace_run(char32_t c, size_t min_run, std::string_view content);
  void add_precompiled(std::shared_ptr<const PrecompiledCharsmap> charsmap);
  // SentencePiece's NMT rules: drops C0 controls (but \t \n \r \f), DEL, U+008F, U+009F; makes
  // \t \n \f \r U+1680 U+200B..U+200F U+2028 U+2029 U+2581 U+FEFF U+FFFD a space.
  void add_nmt() { steps_.push_back({Kind::kNmt, {}}); }
  bool empty() const { return steps_.empty(); }
  const std::vector<Step>& steps() const { return steps_; }

  void apply(CodePoints* cps) const;
  std::string apply(std::string_view utf8) const;

 private:
  std::vector<Step> steps_;
};

}  // namespace autoglm::text
