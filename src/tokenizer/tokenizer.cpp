#include "tokenizer/tokenizer.h"

#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/spm_tokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer/wordpiece_tokenizer.h"

namespace autoglm {

namespace {

// The start-of-text rule shared by decode() and StreamDecoder: the first piece that is not
// transparent loses one leading space if it may (the space the encoder added).
void append_piece(Tokenizer::DecodePiece& p, bool* at_start, std::string* out) {
  if (!p.transparent) {
    if (*at_start && p.has_start_text) {
      p.text = std::move(p.at_start_text);
    } else if (*at_start && p.strip_space && !p.text.empty() && p.text[0] == ' ') {
      p.text.erase(0, 1);
    }
    *at_start = false;
  }
  utf8::append_sanitized(p.text, out);  // token texts from a file are not trusted to be UTF-8
}

}  // namespace

Tokenizer::DecodePiece Tokenizer::decode_piece(TokenId id, bool render_special) const {
  DecodePiece p;
  p.text = token_to_piece(id, render_special);
  return p;
}

std::string Tokenizer::decode(const std::vector<TokenId>& ids, bool render_special) const {
  std::string out;
  std::string byte_run;  // consecutive byte tokens, validated together
  bool at_start = true;
  for (TokenId id : ids) {
    DecodePiece p = decode_piece(id, render_special);
    if (p.is_byte) {
      byte_run.append(p.text);
      at_start = false;
      continue;
    }
    utf8::append_sanitized(byte_run, &out);
    byte_run.clear();
    append_piece(p, &at_start, &out);
  }
  utf8::append_sanitized(byte_run, &out);
  return out;
}

Result<std::unique_ptr<Tokenizer>> make_tokenizer(Vocab vocab) {
  if (vocab.model == "llama") {
    AG_ASSIGN_OR_RETURN(std::unique_ptr<SpmTokenizer> tok, SpmTokenizer::create(std::move(vocab)));
    return std::unique_ptr<Tokenizer>(std::move(tok));
  }
  if (vocab.model == "bert") {
    AG_ASSIGN_OR_RETURN(std::unique_ptr<WordPieceTokenizer> tok, WordPieceTokenizer::from_gguf_vocab(std::move(vocab)));
    return std::unique_ptr<Tokenizer>(std::move(tok));
  }
  if (vocab.model == "gpt2") {
    AG_ASSIGN_OR_RETURN(std::unique_ptr<BpeTokenizer> tok, BpeTokenizer::from_gguf_vocab(std::move(vocab)));
    return std::unique_ptr<Tokenizer>(std::move(tok));
  }
  return Unsupported("tokenizer model '" + vocab.model + "' is not supported");
}

StreamDecoder::StreamDecoder(const Tokenizer& tok, bool render_special) : tok_(tok), render_special_(render_special) {}

std::string StreamDecoder::push(TokenId id) {
  Tokenizer::DecodePiece p = tok_.decode_piece(id, render_special_);
  std::string out;
  if (!p.is_byte) {
    out = flush();
    append_piece(p, &at_start_, &out);
    return out;
  }
  at_start_ = false;
  pending_.append(p.text);
  // Emit every decided character; keep a well-formed prefix that more bytes could complete.
  size_t i = 0;
  while (i < pending_.size()) {
    const utf8::CharInfo c = utf8::classify(std::string_view(pending_).substr(i));
    if (c.kind == utf8::Lead::kTruncated) break;
    if (c.kind == utf8::Lead::kComplete) {
      out.append(pending_, i, c.len);
      i += c.len;
    } else {
      out.append(utf8::kReplacement);
      ++i;
    }
  }
  pending_.erase(0, i);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out = utf8::sanitize(pending_);
  pending_.clear();
  return out;
}

}  // namespace autoglm
