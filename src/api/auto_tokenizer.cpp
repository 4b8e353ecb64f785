#include "autoglm/tokenizer.h"

#include <filesystem>

#include "formats/gguf.h"
#include "tokenizer/hf_tokenizer_json.h"
#include "tokenizer/tokenizer.h"

namespace autoglm {

Result<AutoTokenizer> AutoTokenizer::from_pretrained(const std::string& path) {
  std::error_code ec;
  std::string json = path;
  if (std::filesystem::is_directory(path, ec)) json = (std::filesystem::path(path) / "tokenizer.json").string();
  if (json.size() >= 5 && json.compare(json.size() - 5, 5, ".json") == 0) {
    AG_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> t, load_hf_tokenizer(json));
    return AutoTokenizer(std::shared_ptr<const Tokenizer>(std::move(t)));
  }
  AG_ASSIGN_OR_RETURN(std::unique_ptr<gguf::File> f, gguf::File::open(path));
  AG_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> t, make_tokenizer(*f));
  return AutoTokenizer(std::shared_ptr<const Tokenizer>(std::move(t)));
}

std::vector<int32_t> AutoTokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  return tok_->encode(text, add_special, parse_special);
}

std::string AutoTokenizer::decode(const std::vector<int32_t>& ids) const { return tok_->decode(ids); }

std::string AutoTokenizer::token_text(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= tok_->n_vocab()) return {};
  return tok_->vocab().tokens[static_cast<size_t>(id)];
}

int64_t AutoTokenizer::vocab_size() const { return static_cast<int64_t>(tok_->n_vocab()); }

}  // namespace autoglm
