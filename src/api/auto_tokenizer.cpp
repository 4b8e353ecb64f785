#include "autoglm/tokenizer.h"

#include "formats/gguf.h"
#include "tokenizer/tokenizer.h"

namespace autoglm {

Result<AutoTokenizer> AutoTokenizer::from_pretrained(const std::string& path) {
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
