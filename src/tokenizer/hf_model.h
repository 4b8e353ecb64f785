// The model step of a Hugging Face tokenizer pipeline (hf_pipeline_tokenizer.h): one
// pre-tokenized word in, token ids out.
#pragma once

#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace autoglm {

class HfModel {
 public:
  virtual ~HfModel() = default;
  // Appends the ids of `word` (normalized, pre-tokenized, non-empty) to out.
  virtual void tokenize(std::string_view word, std::vector<TokenId>* out) const = 0;
};

// "<0x0A>" for byte 0x0A: the byte tokens of byte_fallback models.
inline std::string byte_token_text(uint8_t b) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  return std::string{'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>'};
}

}  // namespace autoglm
