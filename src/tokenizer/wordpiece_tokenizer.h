// WordPiece tokenizer for BERT-family models: GGUF vocabularies with tokenizer.ggml.model = "bert"
// and Hugging Face tokenizer.json files with model.type = "WordPiece" (hf_tokenizer_json.h).
//
// The vocabulary uses llama.cpp's GGUF convention whatever the source: a word-initial piece is
// stored with a leading U+2581 "▁" ("▁hello"), a continuation piece without HF's "##" ("llo");
// added/special tokens ([CLS], [SEP], ...) are stored as they are, typed control (special) or
// user-defined. Lookups use the HF spelling rebuilt from that ("hello", "##llo"), so matching is
// exactly HF's.
//
// Encoding, as HF tokenizers does:
//   1. The raw text is split at added tokens whose `normalized` flag is off (user-defined always;
//      control only with parse_special), leftmost-longest, honouring lstrip/rstrip/single_word.
//   2. Each remaining fragment is normalized (BertNormalizer: clean text, spaces around CJK
//      ideographs, NFD + drop nonspacing marks, lower-case), then split at normalized added tokens.
//   3. Pre-tokenization (BertPreTokenizer): split on whitespace, every punctuation character is a
//      word of its own.
//   4. Each word: greedy longest-match-first; continuation lookups carry the "##" prefix; a word
//      longer than max_input_chars_per_word characters, or one with an unmatchable rest, is [UNK].
//   5. Truncation (if set) drops ids from the end; add_special wraps the result in the
//      post-processor's tokens ([CLS] ... [SEP]), which truncation leaves room for.
// Decoding follows HF's WordPiece decoder: pieces joined with spaces, continuation pieces glued
// to the previous one, " ." " ?" " !" " ," lose their space (cleanup); control tokens are skipped
// unless render_special.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/tokenizer.h"

namespace autoglm {

struct WordPieceOptions {
  text::Normalizer normalizer;
  enum class PreTokenizer { kNone, kBert, kWhitespaceSplit };
  PreTokenizer pre_tokenizer = PreTokenizer::kBert;
  std::string continuing_prefix = "##";
  size_t max_input_chars_per_word = 100;
  std::vector<TokenId> prefix_specials;  // add_special: before the text ([CLS])
  std::vector<TokenId> suffix_specials;  // add_special: after the text ([SEP])
  // Tokens matched before the model. Empty: the vocabulary's control/user-defined tokens.
  std::vector<AddedToken> added_tokens;
  bool decode_glue = true;     // WordPiece decoder: continuation pieces join the previous piece
  bool decode_cleanup = true;  // WordPiece decoder cleanup (" ." -> ".", ...)
  size_t truncation = 0;       // max ids per encode (0: no limit)
};

class WordPieceTokenizer final : public Tokenizer {
 public:
  // InvalidArgument when the vocabulary is inconsistent (empty, array lengths differ, ids out of
  // range, no unknown token, added tokens out of range).
  static Result<std::unique_ptr<WordPieceTokenizer>> create(Vocab vocab, WordPieceOptions opts);
  // A GGUF "bert" vocabulary: BertNormalizer with lower-casing, BertPreTokenizer, [CLS] A [SEP]
  // (bos/eos ids when the file has them, else the [CLS]/[SEP] texts), unk = [UNK] when unset.
  static Result<std::unique_ptr<WordPieceTokenizer>> from_gguf_vocab(Vocab vocab);

  std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special = false) const override;
  // Word-initial pieces: " " + text; continuation pieces: text; control: "" unless render_special.
  std::string token_to_piece(TokenId id, bool render_special = false) const override;
  DecodePiece decode_piece(TokenId id, bool render_special) const override;

  // Keeps at most max_len ids per encode, the special tokens included (0: no limit).
  void set_truncation(size_t max_len) { opts_.truncation = max_len; }
  size_t truncation() const { return opts_.truncation; }
  const WordPieceOptions& options() const { return opts_; }

 private:
  struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using TextMap = std::unordered_map<std::string, TokenId, SvHash, std::equal_to<>>;
  enum class PieceKind : uint8_t { kInitial, kContinuation, kControl };

  WordPieceTokenizer(Vocab v, WordPieceOptions o);
  Status build();
  void encode_text(std::string_view raw, bool parse_special, std::vector<TokenId>* out) const;
  void encode_normalized(std::string_view text, std::vector<TokenId>* out) const;
  void encode_word(std::string_view word, std::string* scratch, std::vector<TokenId>* out) const;

  WordPieceOptions opts_;
  TextMap lookup_;             // HF spelling ("hello", "##llo") -> id
  size_t max_key_len_ = 0;     // longest key, in bytes
  std::vector<PieceKind> kinds_;
  std::vector<std::string> surfaces_;  // decode text without the separating space
  std::vector<AddedToken> added_;
  AddedTokenSplitter raw_added_;         // normalized = false
  AddedTokenSplitter normalized_added_;  // normalized = true, by the normalized content
};

}  // namespace autoglm
