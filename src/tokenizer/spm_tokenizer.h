// SentencePiece-style BPE tokenizer for GGUF vocabularies with tokenizer.ggml.model = "llama"
// (Llama 1/2, Mistral, Phi-3, TinyLlama, llama2.c's stories models).
//
// Encoding, as SentencePiece's BPE model and llama.cpp's SPM tokenizer do:
//   1. The text is split into fragments at special-token texts: user-defined tokens always,
//      control/unknown tokens only when parse_special is on (longest match, left to right).
//   2. A text fragment that starts the input or follows a special token gets one leading space
//      when add_space_prefix is on (llama.cpp's rule); every ' ' becomes U+2581 "▁".
//   3. The fragment is split into UTF-8 characters (an ill-formed byte is one character), and
//      adjacent symbols are merged greedily: always the pair whose concatenation is the
//      highest-scoring normal token, the leftmost pair on ties (priority queue, O(n log n)).
//   4. A symbol that is not a token falls back to its bytes' <0xXX> tokens, or to unk when the
//      vocabulary has no byte tokens.
// Deliberate difference from SentencePiece: SentencePiece replaces an ill-formed input byte with
// U+FFFD before encoding; we keep the byte (byte fallback), as llama.cpp does, so the model sees
// what the user sent. Decoding still turns such bytes into U+FFFD, like SentencePiece.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tokenizer/special_tokens.h"
#include "tokenizer/tokenizer.h"

namespace autoglm {

class SpmTokenizer final : public Tokenizer {
 public:
  // InvalidArgument when the vocabulary is inconsistent (empty, array lengths differ, special
  // ids out of range).
  static Result<std::unique_ptr<SpmTokenizer>> create(Vocab vocab);

  std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special = false) const override;
  // Normal tokens: text with U+2581 -> ' '. Byte tokens: the raw byte. Control and unused tokens:
  // "" unless render_special. Unknown tokens: " \u2047 " (SentencePiece's surface for unk).
  std::string token_to_piece(TokenId id, bool render_special = false) const override;
  DecodePiece decode_piece(TokenId id, bool render_special) const override;

  // The <0xXX> token for a byte, or -1 when the vocabulary has none.
  TokenId byte_token(uint8_t b) const { return byte_tokens_[b]; }

 private:
  struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  explicit SpmTokenizer(Vocab v);
  void build_tables();
  TokenType type_of(TokenId id) const;
  float score_of(TokenId id) const;
  int byte_value(TokenId id) const;  // 0..255 for a well-formed <0xXX> token, else -1
  void encode_fragment(std::string_view text, bool space_prefix, std::vector<TokenId>* out) const;
  struct MergeScratch;
  void encode_escaped(std::string_view s, std::vector<TokenId>* out) const;
  void merge_segment(std::string_view s, MergeScratch* scratch, std::vector<TokenId>* out) const;
  void emit_symbol(std::string_view sym, std::vector<TokenId>* out) const;

  // Tokens that merging may produce (normal, undefined), by text; keys view vocab_.tokens.
  std::unordered_map<std::string_view, TokenId, SvHash, std::equal_to<>> mergeable_;
  std::array<TokenId, 256> byte_tokens_{};
  size_t max_token_len_ = 0;
  // Every pair of adjacent characters inside a mergeable token. Where the text has a pair that
  // is not here, no merge can cross, so the text is merged in independent segments (small heaps;
  // the result is the same as merging the whole text at once).
  std::unordered_set<std::string_view, SvHash, std::equal_to<>> inner_pairs_;
  SpecialTokenIndex user_defined_;  // always matched
  SpecialTokenIndex all_special_;   // user-defined, control and unknown: with parse_special
};

}  // namespace autoglm
