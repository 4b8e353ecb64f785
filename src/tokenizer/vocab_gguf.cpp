// Vocab::from_gguf: the tokenizer.ggml.* metadata of a GGUF file. Kept apart from the
// tokenizers so they build and test without the GGUF reader.
#include <cmath>
#include <optional>
#include <string>

#include "formats/gguf.h"
#include "tokenizer/tokenizer.h"

namespace autoglm {

namespace {

constexpr int64_t kNoToken32 = 0xFFFFFFFF;  // how converters write "none" in a uint32 id

Status wrong_type(std::string_view key, const char* want) {
  return CorruptFile("tokenizer metadata '" + std::string(key) + "' is not " + want);
}

// An optional special-token id: absent, -1 and 0xFFFFFFFF mean none.
Status read_token_id(const gguf::File& f, std::string_view key, size_t n_vocab, TokenId* id) {
  if (f.find(key) == nullptr) return Status::OK();
  const std::optional<int64_t> v = f.get_int(key);
  if (!v) return wrong_type(key, "an integer");
  if (*v == -1 || *v == kNoToken32) {
    *id = -1;
    return Status::OK();
  }
  if (*v < 0 || static_cast<uint64_t>(*v) >= n_vocab) {
    return CorruptFile("tokenizer metadata '" + std::string(key) + "' = " + std::to_string(*v) +
                       " is outside the vocabulary of " + std::to_string(n_vocab));
  }
  *id = static_cast<TokenId>(*v);
  return Status::OK();
}

Status read_bool(const gguf::File& f, std::string_view key, bool* out) {
  if (f.find(key) == nullptr) return Status::OK();
  const std::optional<bool> v = f.get_bool(key);
  if (!v) return wrong_type(key, "a bool");
  *out = *v;
  return Status::OK();
}

}  // namespace

Result<Vocab> Vocab::from_gguf(const gguf::File& f) {
  Vocab v;
  constexpr std::string_view kModel = "tokenizer.ggml.model";
  if (f.find(kModel) == nullptr) return NotFound("no tokenizer in file (missing tokenizer.ggml.model)");
  std::optional<std::string> model = f.get_string(kModel);
  if (!model) return wrong_type(kModel, "a string");
  v.model = std::move(*model);

  constexpr std::string_view kPre = "tokenizer.ggml.pre";
  if (f.find(kPre) != nullptr) {
    std::optional<std::string> pre = f.get_string(kPre);
    if (!pre) return wrong_type(kPre, "a string");
    v.pre = std::move(*pre);
  }

  constexpr std::string_view kTokens = "tokenizer.ggml.tokens";
  const std::vector<std::string>* tokens = f.get_string_array(kTokens);
  if (tokens == nullptr) {
    return f.find(kTokens) == nullptr ? CorruptFile("tokenizer metadata 'tokenizer.ggml.tokens' is missing")
                                      : wrong_type(kTokens, "an array of strings");
  }
  if (tokens->empty()) return CorruptFile("tokenizer metadata 'tokenizer.ggml.tokens' is empty");
  if (tokens->size() > static_cast<size_t>(INT32_MAX)) {
    return CorruptFile("tokenizer metadata 'tokenizer.ggml.tokens' has too many entries");
  }
  v.tokens = *tokens;
  const size_t n = v.tokens.size();

  constexpr std::string_view kScores = "tokenizer.ggml.scores";
  if (f.find(kScores) != nullptr) {
    std::optional<std::vector<double>> scores = f.get_float_array(kScores);
    if (!scores) return wrong_type(kScores, "an array of numbers");
    if (scores->size() != n) {
      return CorruptFile("tokenizer metadata 'tokenizer.ggml.scores' has " + std::to_string(scores->size()) +
                         " entries for " + std::to_string(n) + " tokens");
    }
    v.scores.reserve(n);
    for (double s : *scores) {
      if (std::isnan(s)) return CorruptFile("tokenizer metadata 'tokenizer.ggml.scores' holds NaN");
      v.scores.push_back(static_cast<float>(s));
    }
  }

  constexpr std::string_view kTypes = "tokenizer.ggml.token_type";
  if (f.find(kTypes) != nullptr) {
    std::optional<std::vector<int64_t>> types = f.get_int_array(kTypes);
    if (!types) return wrong_type(kTypes, "an array of integers");
    if (types->size() != n) {
      return CorruptFile("tokenizer metadata 'tokenizer.ggml.token_type' has " + std::to_string(types->size()) +
                         " entries for " + std::to_string(n) + " tokens");
    }
    v.types.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const int64_t t = (*types)[i];
      if (t < static_cast<int64_t>(TokenType::kUndefined) || t > static_cast<int64_t>(TokenType::kByte)) {
        return CorruptFile("tokenizer metadata 'tokenizer.ggml.token_type' of token " + std::to_string(i) +
                           " is " + std::to_string(t));
      }
      v.types.push_back(static_cast<TokenType>(t));
    }
  } else {
    v.types.assign(n, TokenType::kNormal);
  }

  constexpr std::string_view kMerges = "tokenizer.ggml.merges";
  if (f.find(kMerges) != nullptr) {
    const std::vector<std::string>* merges = f.get_string_array(kMerges);
    if (merges == nullptr) return wrong_type(kMerges, "an array of strings");
    v.merges = *merges;
  }

  // llama.cpp's defaults for SentencePiece vocabularies when the ids are not stored.
  const bool spm = v.model == "llama";
  if (spm && n > 2) {
    v.unk = 0;
    v.bos = 1;
    v.eos = 2;
  }
  AG_RETURN_IF_ERROR(read_token_id(f, "tokenizer.ggml.bos_token_id", n, &v.bos));
  AG_RETURN_IF_ERROR(read_token_id(f, "tokenizer.ggml.eos_token_id", n, &v.eos));
  AG_RETURN_IF_ERROR(read_token_id(f, "tokenizer.ggml.unknown_token_id", n, &v.unk));
  AG_RETURN_IF_ERROR(read_token_id(f, "tokenizer.ggml.padding_token_id", n, &v.pad));

  v.add_bos = spm;
  v.add_eos = false;
  v.add_space_prefix = spm;
  AG_RETURN_IF_ERROR(read_bool(f, "tokenizer.ggml.add_bos_token", &v.add_bos));
  AG_RETURN_IF_ERROR(read_bool(f, "tokenizer.ggml.add_eos_token", &v.add_eos));
  AG_RETURN_IF_ERROR(read_bool(f, "tokenizer.ggml.add_space_prefix", &v.add_space_prefix));
  return v;
}

Result<std::unique_ptr<Tokenizer>> make_tokenizer(const gguf::File& file) {
  AG_ASSIGN_OR_RETURN(Vocab vocab, Vocab::from_gguf(file));
  return make_tokenizer(std::move(vocab));
}

}  // namespace autoglm
