// Hugging Face's Unigram model (SentencePiece unigram, as tokenizers implements it): the
// segmentation of a word with the highest total piece score (Viterbi over byte positions).
//
// At each character boundary every vocabulary piece that starts there is a candidate (a byte
// trie); a character no piece of exactly its length covers may also be unk, scored
// min(score) - 10. Ties keep the earlier candidate (strictly better replaces). Adjacent unks in
// the best path are fused into one; an unk's text becomes its bytes' <0xNN> tokens when
// byte_fallback is on and all exist, else the unk id. Scores are added as doubles in HF's order,
// so equal-score paths resolve the same way. Without an unk id, text no piece covers is dropped
// (HF refuses to encode it).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tokenizer/hf_model.h"

namespace autoglm {

class UnigramModel final : public HfModel {
 public:
  // pieces[id] = (text, score); unk is an index into pieces or -1.
  UnigramModel(const std::vector<std::pair<std::string, double>>& pieces, TokenId unk, bool byte_fallback);

  void tokenize(std::string_view word, std::vector<TokenId>* out) const override;

 private:
  struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Trie edge (node << 8 | byte) -> child node; node_id_[node] is the piece ending there or -1.
  int32_t child(int32_t node, uint8_t byte) const;

  std::vector<double> scores_;
  std::unordered_map<std::string, TokenId, SvHash, std::equal_to<>> ids_;
  std::unordered_map<uint64_t, int32_t> edges_;
  std::vector<TokenId> node_id_;
  TokenId unk_;
  bool byte_fallback_;
  double unk_score_ = 0;
};

}  // namespace autoglm
