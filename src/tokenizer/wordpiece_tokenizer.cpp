#include "tokenizer/wordpiece_tokenizer.h"

#include <utf8proc.h>

#include <algorithm>
#include <functional>
#include <limits>

namespace autoglm {

namespace {

constexpr std::string_view kWordStart = "\xE2\x96\x81";  // U+2581, llama.cpp's word-initial mark

bool is_continuation_byte(char c) { return (static_cast<uint8_t>(c) & 0xC0) == 0x80; }

// Start of the character that ends at s.size() (s non-empty).
size_t last_char_start(std::string_view s) {
  size_t i = s.size() - 1;
  for (int k = 0; k < 3 && i > 0 && is_continuation_byte(s[i]); ++k) --i;
  return i;
}

void replace_all(std::string* s, std::string_view from, std::string_view to) {
  for (size_t pos = 0; (pos = s->find(from, pos)) != std::string::npos; pos += to.size()) {
    s->replace(pos, from.size(), to);
  }
}

// HF's WordPiece decoder cleanup, applied to each piece (with its separating space).
std::string cleanup(std::string s) {
  static constexpr std::pair<std::string_view, std::string_view> kRules[] = {
      {" .", "."},     {" ?", "?"},     {" !", "!"},          {" ,", ","},         {" ' ", "'"},    {" n't", "n't"},
      {" 'm", "'m"},   {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  if (s.find(' ') == std::string::npos) return s;
  for (const auto& [from, to] : kRules) replace_all(&s, from, to);
  return s;
}

}  // namespace

Result<std::unique_ptr<WordPieceTokenizer>> WordPieceTokenizer::create(Vocab vocab, WordPieceOptions opts) {
  const size_t n = vocab.tokens.size();
  if (n == 0) return InvalidArgument("wordpiece: empty vocabulary");
  if (n > static_cast<size_t>(std::numeric_limits<TokenId>::max())) {
    return InvalidArgument("wordpiece: vocabulary too large");
  }
  if (vocab.types.empty()) vocab.types.assign(n, TokenType::kNormal);
  if (vocab.types.size() != n) {
    return InvalidArgument("wordpiece: " + std::to_string(vocab.types.size()) + " token types for " +
                           std::to_string(n) + " tokens");
  }
  if (!vocab.scores.empty() && vocab.scores.size() != n) {
    return InvalidArgument("wordpiece: " + std::to_string(vocab.scores.size()) + " scores for " + std::to_string(n) +
                           " tokens");
  }
  auto in_range = [n](TokenId id) { return id >= 0 && static_cast<size_t>(id) < n; };
  for (TokenId id : {vocab.bos, vocab.eos, vocab.pad}) {
    if (id != -1 && !in_range(id)) return InvalidArgument("wordpiece: special token id " + std::to_string(id) +
                                                          " out of range");
  }
  if (!in_range(vocab.unk)) return InvalidArgument("wordpiece: the vocabulary has no unknown token");
  for (const auto* list : {&opts.prefix_specials, &opts.suffix_specials}) {
    for (TokenId id : *list) {
      if (!in_range(id)) return InvalidArgument("wordpiece: post-processor token id " + std::to_string(id) +
                                                " out of range");
    }
  }
  for (const AddedToken& t : opts.added_tokens) {
    if (!in_range(t.id)) return InvalidArgument("wordpiece: added token id " + std::to_string(t.id) + " out of range");
  }
  if (opts.max_input_chars_per_word == 0) return InvalidArgument("wordpiece: max_input_chars_per_word is 0");
  std::unique_ptr<WordPieceTokenizer> tok(new WordPieceTokenizer(std::move(vocab), std::move(opts)));
  AG_RETURN_IF_ERROR(tok->build());
  return tok;
}

Result<std::unique_ptr<WordPieceTokenizer>> WordPieceTokenizer::from_gguf_vocab(Vocab vocab) {
  auto find_text = [&vocab](std::string_view text) -> TokenId {
    for (size_t i = 0; i < vocab.tokens.size(); ++i) {
      if (vocab.tokens[i] == text) return static_cast<TokenId>(i);
    }
    return -1;
  };
  // llama.cpp's "bert" vocabularies store cls/sep under their own keys; bos/eos when present.
  if (vocab.bos < 0) vocab.bos = find_text("[CLS]");
  if (vocab.eos < 0) vocab.eos = find_text("[SEP]");
  if (vocab.unk < 0) vocab.unk = find_text("[UNK]");
  vocab.add_bos = vocab.bos >= 0;
  vocab.add_eos = vocab.eos >= 0;
  vocab.add_space_prefix = false;
  WordPieceOptions opts;
  opts.normalizer.add_bert({});
  if (vocab.add_bos) opts.prefix_specials.push_back(vocab.bos);
  if (vocab.add_eos) opts.suffix_specials.push_back(vocab.eos);
  return create(std::move(vocab), std::move(opts));
}

WordPieceTokenizer::WordPieceTokenizer(Vocab v, WordPieceOptions o) : Tokenizer(std::move(v)), opts_(std::move(o)) {}

Status WordPieceTokenizer::build() {
  const size_t n = vocab_.tokens.size();
  kinds_.resize(n);
  surfaces_.resize(n);
  lookup_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string& t = vocab_.tokens[i];
    const auto id = static_cast<TokenId>(i);
    switch (vocab_.types[i]) {
      case TokenType::kControl:
      case TokenType::kUnused:
        kinds_[i] = PieceKind::kControl;
        surfaces_[i] = t;
        continue;
      case TokenType::kUserDefined:
      case TokenType::kUnknown:
        kinds_[i] = PieceKind::kInitial;  // decoded as a word of its own
        surfaces_[i] = t;
        continue;
      case TokenType::kNormal:
      case TokenType::kUndefined:
      case TokenType::kByte:
        break;
    }
    std::string key;
    if (t.starts_with(kWordStart)) {
      kinds_[i] = PieceKind::kInitial;
      surfaces_[i] = t.substr(kWordStart.size());
      key = surfaces_[i];
    } else {
      kinds_[i] = PieceKind::kContinuation;
      surfaces_[i] = t;
      key = opts_.continuing_prefix + t;
    }
    if (key.empty()) continue;
    max_key_len_ = std::max(max_key_len_, key.size());
    lookup_.emplace(std::move(key), id);  // the first of duplicate spellings wins
  }

  added_ = opts_.added_tokens;
  if (added_.empty()) {
    for (size_t i = 0; i < n; ++i) {
      const TokenType type = vocab_.types[i];
      if (type == TokenType::kControl || type == TokenType::kUserDefined) {
        AddedToken a;
        a.id = static_cast<TokenId>(i);
        a.content = vocab_.tokens[i];
        a.special = type == TokenType::kControl;
        added_.push_back(std::move(a));
      }
    }
  }
  for (const AddedToken& a : added_) {
    if (a.normalized && !opts_.normalizer.empty()) {
      normalized_added_.add(opts_.normalizer.apply(a.content), a);
    } else {
      raw_added_.add(a.content, a);
    }
  }
  raw_added_.finish();
  normalized_added_.finish();
  return Status::OK();
}

std::vector<TokenId> WordPieceTokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  std::vector<TokenId> body;
  encode_text(text, parse_special, &body);
  const size_t n_special = add_special ? opts_.prefix_specials.size() + opts_.suffix_specials.size() : 0;
  if (opts_.truncation > 0) {
    const size_t budget = opts_.truncation > n_special ? opts_.truncation - n_special : 0;
    if (body.size() > budget) body.resize(budget);
  }
  if (!add_special) return body;
  std::vector<TokenId> out;
  out.reserve(body.size() + n_special);
  out.insert(out.end(), opts_.prefix_specials.begin(), opts_.prefix_specials.end());
  out.insert(out.end(), body.begin(), body.end());
  out.insert(out.end(), opts_.suffix_specials.begin(), opts_.suffix_specials.end());
  return out;
}

void WordPieceTokenizer::encode_text(std::string_view raw, bool parse_special, std::vector<TokenId>* out) const {
  std::vector<AddedSplit> frags, parts;
  raw_added_.split(raw, parse_special, &frags);
  for (const AddedSplit& f : frags) {
    if (f.is_token) {
      out->push_back(f.id);
      continue;
    }
    const std::string_view text = raw.substr(f.begin, f.end - f.begin);
    const std::string normalized = opts_.normalizer.empty() ? std::string(text) : opts_.normalizer.apply(text);
    parts.clear();
    normalized_added_.split(normalized, parse_special, &parts);
    for (const AddedSplit& p : parts) {
      if (p.is_token) {
        out->push_back(p.id);
      } else {
        encode_normalized(std::string_view(normalized).substr(p.begin, p.end - p.begin), out);
      }
    }
  }
}

void WordPieceTokenizer::encode_normalized(std::string_view text, std::vector<TokenId>* out) const {
  std::string scratch;
  if (opts_.pre_tokenizer == WordPieceOptions::PreTokenizer::kNone) {
    if (!text.empty()) encode_word(text, &scratch, out);
    return;
  }
  const bool split_punct = opts_.pre_tokenizer == WordPieceOptions::PreTokenizer::kBert;
  size_t word_start = 0;
  size_t i = 0;
  while (i < text.size()) {
    char32_t cp;
    const size_t len = text::next_char(text.substr(i), &cp);
    const bool space = text::is_whitespace(cp);
    if (space || (split_punct && text::is_punctuation(cp))) {
      if (i > word_start) encode_word(text.substr(word_start, i - word_start), &scratch, out);
      if (!space) encode_word(text.substr(i, len), &scratch, out);
      word_start = i + len;
    }
    i += len;
  }
  if (i > word_start) encode_word(text.substr(word_start), &scratch, out);
}

void WordPieceTokenizer::encode_word(std::string_view word, std::string* scratch, std::vector<TokenId>* out) const {
  size_t n_chars = 0;
  for (char c : word) n_chars += is_continuation_byte(c) ? 0 : 1;
  if (n_chars > opts_.max_input_chars_per_word) {
    out->push_back(vocab_.unk);
    return;
  }
  const size_t mark = out->size();
  const std::string& prefix = opts_.continuing_prefix;
  size_t start = 0;
  while (start < word.size()) {
    // Only keys up to the longest vocabulary entry can match.
    const size_t room = start == 0 ? max_key_len_ : (max_key_len_ > prefix.size() ? max_key_len_ - prefix.size() : 0);
    size_t end = std::min(word.size(), start + room);
    while (end > start && end < word.size() && is_continuation_byte(word[end])) --end;
    TokenId found = -1;
    while (end > start) {
      std::string_view key = word.substr(start, end - start);
      if (start > 0) {
        scratch->assign(prefix);
        scratch->append(key);
        key = *scratch;
      }
      auto it = lookup_.find(key);
      if (it != lookup_.end()) {
        found = it->second;
        break;
      }
      end = last_char_start(word.substr(0, end));
      if (end < start) end = start;
    }
    if (found < 0) {
      out->resize(mark);
      out->push_back(vocab_.unk);
      return;
    }
    out->push_back(found);
    start = end;
  }
}

std::string WordPieceTokenizer::token_to_piece(TokenId id, bool render_special) const {
  if (id < 0 || static_cast<size_t>(id) >= n_vocab()) return {};
  const auto i = static_cast<size_t>(id);
  switch (kinds_[i]) {
    case PieceKind::kControl:
      return render_special ? " " + surfaces_[i] : std::string();
    case PieceKind::kInitial:
      return " " + surfaces_[i];
    case PieceKind::kContinuation:
      return opts_.decode_glue ? surfaces_[i] : " " + opts_.continuing_prefix + surfaces_[i];
  }
  return {};
}

Tokenizer::DecodePiece WordPieceTokenizer::decode_piece(TokenId id, bool render_special) const {
  DecodePiece p;
  if (id < 0 || static_cast<size_t>(id) >= n_vocab() ||
      (kinds_[static_cast<size_t>(id)] == PieceKind::kControl && !render_special)) {
    p.transparent = true;  // skipped, as HF's decode(skip_special_tokens=True) does
    return p;
  }
  p.text = token_to_piece(id, render_special);
  if (opts_.decode_cleanup) p.text = cleanup(std::move(p.text));
  p.strip_space = true;  // the first piece has no separating space
  return p;
}

}  // namespace autoglm
