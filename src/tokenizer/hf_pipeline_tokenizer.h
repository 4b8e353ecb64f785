// A Hugging Face tokenizer pipeline for the tokenizer.json models that are not byte-level BPE or
// WordPiece: Llama-2-style BPE with byte fallback (char_bpe_model.h), Unigram
// (unigram_model.h) and WordLevel (word_level_model.h).
//
// Encoding, as HF tokenizers does:
//   1. Ill-formed UTF-8 bytes become U+FFFD (HF only ever sees valid text).
//   2. The text is split at added tokens whose `normalized` flag is off (added_tokens.h: special
//      ones only with parse_special; lstrip/rstrip/single_word as HF).
//   3. Each other fragment is normalized (normalizer.h), then split at the normalized added tokens
//      (matched by their normalized content).
//   4. Pre-tokenization: none, WhitespaceSplit, or Metaspace (' ' -> replacement; prepend the
//      replacement always, only to the piece that starts the input ("first"), or never; with
//      split, a new word before every replacement character).
//   5. The model tokenizes each word; add_special wraps the ids in the post-processor's tokens.
// Decoding, per token (control tokens skipped unless render_special): <0xNN> tokens are bytes
// with a ByteFallback decoder; otherwise Replace (e.g. "\u2581" -> " "), then Strip's one leading
// space of the text (after Fuse), or Metaspace's rule (the replacement becomes ' ', and in the
// first token it is dropped unless prepend_scheme is "never"); no decoder joins tokens with ' '.
// One difference from HF: a run of byte tokens that is not valid UTF-8 keeps its valid
// characters (HF makes every byte of such a run U+FFFD).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/hf_model.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/tokenizer.h"

namespace autoglm {

struct HfPipelineOptions {
  std::vector<AddedToken> added_tokens;
  text::Normalizer normalizer;

  enum class PreTokenizer { kNone, kWhitespaceSplit, kMetaspace };
  enum class Prepend { kAlways, kFirst, kNever };
  PreTokenizer pre_tokenizer = PreTokenizer::kNone;
  std::string meta_replacement = "\xE2\x96\x81";  // one character, U+2581 by default
  Prepend meta_prepend = Prepend::kAlways;
  bool meta_split = true;

  std::vector<TokenId> prefix_specials;  // add_special: before the text
  std::vector<TokenId> suffix_specials;  // add_special: after the text

  struct Decoder {
    bool join_with_space = false;  // no decoder: HF joins the tokens with ' '
    bool byte_fallback = false;    // <0xNN> tokens are bytes
    std::vector<std::pair<std::string, std::string>> replace;  // literal replacements, in order
    bool strip_first_space = false;  // Strip(' ', 1, 0) after Fuse
    bool metaspace = false;          // Metaspace decoder with meta_replacement / meta_prepend
  };
  Decoder decoder;
};

class HfPipelineTokenizer final : public Tokenizer {
 public:
  // InvalidArgument when the vocabulary is empty, ids are out of range or the model is missing.
  static Result<std::unique_ptr<HfPipelineTokenizer>> create(Vocab vocab, std::unique_ptr<HfModel> model,
                                                             HfPipelineOptions options);

  std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special = false) const override;
  std::string token_to_piece(TokenId id, bool render_special = false) const override;
  DecodePiece decode_piece(TokenId id, bool render_special) const override;

 private:
  HfPipelineTokenizer(Vocab v, std::unique_ptr<HfModel> model, HfPipelineOptions options);
  void encode_piece(std::string_view piece, bool starts_input, std::vector<TokenId>* out) const;

  std::unique_ptr<HfModel> model_;
  HfPipelineOptions opts_;
  AddedTokenSplitter raw_added_;         // normalized = false
  AddedTokenSplitter normalized_added_;  // normalized = true, by the normalized content
};

}  // namespace autoglm
