// Loading tokenizers from the GGUF fixtures in ../shared/models (needs the GGUF reader).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "formats/gguf.h"
#include "tok_test_util.h"
#include "tokenizer/tokenizer.h"

namespace autoglm::test {

// Loads (once per process) the tokenizer of a fixture GGUF; nullptr after an ADD_FAILURE.
inline const Tokenizer* fixture_tokenizer(const std::string& rel) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto it = cache.find(rel);
  if (it != cache.end()) return it->second.get();
  auto file = gguf::File::open(shared_model(rel));
  if (!file.ok()) {
    ADD_FAILURE() << rel << ": " << file.status().to_string();
    return nullptr;
  }
  auto tok = make_tokenizer(**file);
  if (!tok.ok()) {
    ADD_FAILURE() << rel << ": " << tok.status().to_string();
    return nullptr;
  }
  return (cache[rel] = std::move(tok).value()).get();
}

inline const Tokenizer* llama_spm() { return fixture_tokenizer("ggml-vocab/ggml-vocab-llama-spm.gguf"); }
inline const Tokenizer* stories260k() { return fixture_tokenizer("stories260K/stories260K.gguf"); }

}  // namespace autoglm::test
