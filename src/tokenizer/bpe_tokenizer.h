// Byte-level BPE tokenizer (GPT-2 family): GGUF vocabularies with tokenizer.ggml.model = "gpt2"
// (GPT-2, Llama 3, Qwen2, DeepSeek, Falcon, StarCoder, MPT, GLM-4, ...) and Hugging Face
// tokenizer.json files with a ByteLevel BPE model (SmolLM2, ...).
//
// Encoding, as Hugging Face tokenizers does:
//   1. The text is split at special-token texts: user-defined tokens always, control tokens only
//      when parse_special is on (leftmost, longest match; same convention as SpmTokenizer). From a
//      tokenizer.json: its added tokens with HF's rules (added_tokens.h), normalized ones matched
//      in the normalized fragments.
//   2. Each other fragment is optionally normalized (tokenizer.json normalizer: NFC/NFKC/NFD/NFKD),
//      then cut into pieces by the model's pre-tokenizer (pretokenizer.h).
//   3. Each piece's bytes become byte-level symbols (GPT-2's byte-to-unicode map), and adjacent
//      symbols are merged by rank: always the lowest-rank merge present, the leftmost on ties
//      (priority queue, O(n log n), so a 1 MB piece stays fast).
//   4. A byte whose byte-level character is not in the vocabulary becomes unk when there is one,
//      else it is dropped (as Hugging Face does without unk_token).
// Ill-formed UTF-8 input is kept byte for byte (each bad byte is its own character for the
// pre-tokenizer); decoding turns bytes that do not form UTF-8 into U+FFFD.
//
// Merges whose two sides or result are not tokens are ignored (Hugging Face refuses such files;
// llama.cpp would merge into a string it then cannot look up).
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/added_tokens.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/tokenizer.h"

namespace autoglm {

struct BpeOptions {
  PreTokenizer pre;
  // Unicode normalization before pre-tokenization (tokenizer.json's normalizer).
  enum class Normalization { kNone, kNFC, kNFKC, kNFD, kNFKD };
  Normalization normalization = Normalization::kNone;
  // ByteLevel add_prefix_space: a text fragment not starting with ' ' gets one.
  bool add_prefix_space = false;
  // A piece that is itself a token is emitted as is, without merging (Llama 3's BPE option).
  bool ignore_merges = false;
  // tokenizer.json's added tokens, matched with HF's rules (added_tokens.h: lstrip, rstrip,
  // single_word, normalized). Empty: the vocabulary's user-defined and control tokens, as
  // llama.cpp matches them (GGUF).
  std::vector<AddedToken> added_tokens;
};

class BpeTokenizer final : public Tokenizer {
 public:
  using MergePair = std::pair<std::string, std::string>;

  // InvalidArgument when the vocabulary is inconsistent (empty, array lengths differ, special
  // ids out of range). merges[i] has rank i.
  static Result<std::unique_ptr<BpeTokenizer>> create(Vocab vocab, const std::vector<MergePair>& merges,
                                                      BpeOptions options);
  // From a GGUF vocabulary: merges from vocab.merges ("left right"), pre-tokenizer from
  // vocab.pre. CorruptFile for a merge without a separating space; Unsupported for an unknown
  // pre-tokenizer.
  static Result<std::unique_ptr<BpeTokenizer>> from_gguf_vocab(Vocab vocab);

  std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special = false) const override;
  // The bytes a token stands for (possibly part of a character): its byte-level text mapped back
  // to bytes, or the text itself when a character is outside the map (Hugging Face's rule, also
  // for added tokens). Control/unused tokens: "" unless render_special.
  std::string token_to_piece(TokenId id, bool render_special = false) const override;
  DecodePiece decode_piece(TokenId id, bool render_special) const override;

  const BpeOptions& options() const { return options_; }
  size_t n_merges() const { return merges_.size(); }

 private:
  struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct PairHash {
    size_t operator()(uint64_t k) const {
      k ^= k >> 33;
      k *= 0xff51afd7ed558ccdULL;
      k ^= k >> 33;
      return static_cast<size_t>(k);
    }
  };
  struct Merge {
    uint32_t rank;
    TokenId result;
  };
  struct Scratch;

  BpeTokenizer(Vocab v, BpeOptions options);
  void build_tables(const std::vector<MergePair>& merges);
  TokenType type_of(TokenId id) const;
  void encode_text(std::string_view text, Scratch* scratch, std::vector<TokenId>* out) const;
  void encode_piece(std::string_view piece, Scratch* scratch, std::vector<TokenId>* out) const;
  void emit(TokenId id, std::vector<TokenId>* out) const;

  BpeOptions options_;
  // Every token text -> its first id (merging may produce any token, user-defined ones included:
  // DeepSeek stores some byte characters as user-defined tokens).
  std::unordered_map<std::string_view, TokenId, SvHash, std::equal_to<>> token_ids_;
  std::array<TokenId, 256> byte_ids_{};  // the token of each byte's byte-level character, or -1
  std::unordered_map<uint64_t, Merge, PairHash> merges_;  // (left id << 32 | right id) -> merge
  SpecialTokenIndex user_defined_;  // always matched
  SpecialTokenIndex all_special_;   // user-defined and control: with parse_special
  AddedTokenSplitter raw_added_;         // options_.added_tokens with normalized = false
  AddedTokenSplitter normalized_added_;  // ... normalized = true, by their normalized content
};

// A tokenizer.json with model.type "BPE" and a ByteLevel pre-tokenizer/decoder: vocab and merges
// (either "a b" strings or ["a", "b"] pairs), added_tokens (special -> control, else
// user-defined; lstrip/rstrip/single_word/normalized as HF), normalizer (null, NFC/NFKC/NFD/NFKD or a Sequence of them), pre_tokenizer
// (ByteLevel, Digits, Split with a known regex, Punctuation, Sequence), ignore_merges, and a
// TemplateProcessing post_processor that adds a BOS/EOS token. InvalidArgument/Unsupported
// naming the part it cannot use.
Result<std::unique_ptr<Tokenizer>> make_bpe_from_hf_json(const nlohmann::json& root);

}  // namespace autoglm
