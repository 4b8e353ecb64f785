// AutoTokenizer: a model file's tokenizer on its own, without loading the weights.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "autoglm/status.h"

namespace autoglm {

class Tokenizer;

class AutoTokenizer {
 public:
  // A GGUF file, a Hugging Face tokenizer.json, or a folder holding tokenizer.json.
  static Result<AutoTokenizer> from_pretrained(const std::string& path);

  // parse_special: recognise control-token texts such as "<s>" in `text` (off for user text).
  std::vector<int32_t> encode(std::string_view text, bool add_special = true, bool parse_special = false) const;
  std::string decode(const std::vector<int32_t>& ids) const;
  // Text of one token as the model stores it (for display).
  std::string token_text(int32_t id) const;
  int64_t vocab_size() const;

 private:
  explicit AutoTokenizer(std::shared_ptr<const Tokenizer> t) : tok_(std::move(t)) {}
  std::shared_ptr<const Tokenizer> tok_;
};

}  // namespace autoglm
