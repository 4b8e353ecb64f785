// Hugging Face's BPE model over characters (not byte-level): Llama-2-style tokenizer.json files
// converted from SentencePiece, with byte_fallback and <0xNN> byte tokens.
//
// A word is split into UTF-8 characters; a character that is not a token becomes its bytes'
// <0xNN> tokens when byte_fallback is on and all of them exist, else unk (consecutive unks fused
// into one with fuse_unk; dropped without an unk token). Then adjacent symbols merge by rank:
// always the lowest-rank merge present, the leftmost on ties. With ignore_merges a word that is
// itself a token is that token. (As HF's BPE::merge_word and Word::merge_all.)
#pragma once

#include <array>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tokenizer/hf_model.h"

namespace autoglm {

class CharBpeModel final : public HfModel {
 public:
  struct Options {
    bool byte_fallback = false;
    bool fuse_unk = false;
    bool ignore_merges = false;
    TokenId unk = -1;  // -1: none
  };
  // tokens[id] is the text of id (holes are ""); merges[i] has rank i, and merges whose sides or
  // result are not tokens are ignored.
  CharBpeModel(const std::vector<std::string>& tokens, const std::vector<std::pair<std::string, std::string>>& merges,
               Options options);

  void tokenize(std::string_view word, std::vector<TokenId>* out) const override;

 private:
  struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Merge {
    uint32_t rank;
    TokenId result;
  };
  Options options_;
  std::unordered_map<std::string, TokenId, SvHash, std::equal_to<>> ids_;
  std::unordered_map<uint64_t, Merge> merges_;  // (left << 32 | right) -> merge
  std::array<TokenId, 256> byte_ids_{};         // <0xNN> tokens, -1 where missing
};

}  // namespace autoglm
