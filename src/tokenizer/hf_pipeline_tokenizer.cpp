#include "tokenizer/hf_pipeline_tokenizer.h"

#include <limits>

#include "tokenizer/utf8.h"

namespace autoglm {

namespace {

// Linear: a 1 MB run of spaces must not shift the tail a million times.
void replace_all(std::string* s, std::string_view from, std::string_view to) {
  if (from.empty() || s->find(from) == std::string::npos) return;
  std::string out;
  out.reserve(s->size());
  size_t start = 0;
  for (size_t pos; (pos = s->find(from, start)) != std::string::npos; start = pos + from.size()) {
    out.append(*s, start, pos - start).append(to);
  }
  out.append(*s, start, std::string::npos);
  *s = std::move(out);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// HF's ByteFallback decoder: "<0xNN>" (either case of hex digits) is the byte NN.
int byte_of_token(std::string_view t) {
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return -1;
  const int hi = hex_digit(t[3]), lo = hex_digit(t[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

}  // namespace

Result<std::unique_ptr<HfPipelineTokenizer>> HfPipelineTokenizer::create(Vocab vocab, std::unique_ptr<HfModel> model,
                                                                         HfPipelineOptions options) {
  const size_t n = vocab.tokens.size();
  if (n == 0) return InvalidArgument("tokenizer: empty vocabulary");
  if (n > static_cast<size_t>(std::numeric_limits<TokenId>::max())) return InvalidArgument("tokenizer: vocabulary too large");
  if (model == nullptr) return InvalidArgument("tokenizer: no model");
  if (vocab.types.size() != n) return InvalidArgument("tokenizer: token types do not match the tokens");
  auto in_range = [n](TokenId id) { return id >= 0 && static_cast<size_t>(id) < n; };
  for (TokenId id : {vocab.bos, vocab.eos, vocab.unk, vocab.pad}) {
    if (id != -1 && !in_range(id)) return InvalidArgument("tokenizer: special token id " + std::to_string(id) + " out of range");
  }
  for (const auto* list : {&options.prefix_specials, &options.suffix_specials}) {
    for (TokenId id : *list) {
      if (!in_range(id)) return InvalidArgument("tokenizer: post-processor id " + std::to_string(id) + " out of range");
    }
  }
  for (const AddedToken& t : options.added_tokens) {
    if (!in_range(t.id)) return InvalidArgument("tokenizer: added token id " + std::to_string(t.id) + " out of range");
  }
  if (utf8::char_len(options.meta_replacement) != options.meta_replacement.size() || options.meta_replacement.empty()) {
    return InvalidArgument("tokenizer: the Metaspace replacement is not one character");
  }
  return std::unique_ptr<HfPipelineTokenizer>(
      new HfPipelineTokenizer(std::move(vocab), std::move(model), std::move(options)));
}

HfPipelineTokenizer::HfPipelineTokenizer(Vocab v, std::unique_ptr<HfModel> model, HfPipelineOptions options)
    : Tokenizer(std::move(v)), model_(std::move(model)), opts_(std::move(options)) {
  // HF shows a normalized added token as its normalized content (what it matches).
  for (const AddedToken& t : opts_.added_tokens) {
    if (t.normalized && !opts_.normalizer.empty()) vocab_.tokens[static_cast<size_t>(t.id)] = opts_.normalizer.apply(t.content);
  }
  // HF matches special tokens first, then the others, each set by its own rule.
  for (bool special : {true, false}) {
    for (const AddedToken& t : opts_.added_tokens) {
      if (t.special != special) continue;
      if (t.normalized) {
        normalized_added_.add(opts_.normalizer.apply(t.content), t);
      } else {
        raw_added_.add(t.content, t);
      }
    }
  }
  raw_added_.finish();
  normalized_added_.finish();
}

std::vector<TokenId> HfPipelineTokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  std::vector<TokenId> out;
  if (add_special) out.insert(out.end(), opts_.prefix_specials.begin(), opts_.prefix_specials.end());
  const std::string clean = utf8::sanitize(text);
  std::vector<AddedSplit> frags, parts;
  raw_added_.split(clean, parse_special, &frags);
  for (const AddedSplit& f : frags) {
    if (f.is_token) {
      out.push_back(f.id);
      continue;
    }
    const std::string_view raw = std::string_view(clean).substr(f.begin, f.end - f.begin);
    const std::string normalized = opts_.normalizer.empty() ? std::string(raw) : opts_.normalizer.apply(raw);
    parts.clear();
    normalized_added_.split(normalized, parse_special, &parts);
    for (const AddedSplit& p : parts) {
      if (p.is_token) {
        out.push_back(p.id);
      } else {
        encode_piece(std::string_view(normalized).substr(p.begin, p.end - p.begin), f.begin == 0 && p.begin == 0, &out);
      }
    }
  }
  if (add_special) out.insert(out.end(), opts_.suffix_specials.begin(), opts_.suffix_specials.end());
  return out;
}

void HfPipelineTokenizer::encode_piece(std::string_view piece, bool starts_input, std::vector<TokenId>* out) const {
  using P = HfPipelineOptions::PreTokenizer;
  switch (opts_.pre_tokenizer) {
    case P::kNone:
      if (!piece.empty()) model_->tokenize(piece, out);
      return;
    case P::kWhitespaceSplit: {
      size_t i = 0;
      while (i < piece.size()) {
        char32_t cp;
        size_t len = text::next_char(piece.substr(i), &cp);
        if (text::is_whitespace(cp)) {
          i += len;
          continue;
        }
        const size_t start = i;
        while (i < piece.size()) {
          len = text::next_char(piece.substr(i), &cp);
          if (text::is_whitespace(cp)) break;
          i += len;
        }
        model_->tokenize(piece.substr(start, i - start), out);
      }
      return;
    }
    case P::kMetaspace: {
      const std::string& rep = opts_.meta_replacement;
      std::string s(piece);
      replace_all(&s, " ", rep);
      const bool prepend = opts_.meta_prepend == HfPipelineOptions::Prepend::kAlways ||
                           (opts_.meta_prepend == HfPipelineOptions::Prepend::kFirst && starts_input);
      if (prepend && !s.starts_with(rep)) s.insert(0, rep);
      if (!opts_.meta_split) {
        if (!s.empty()) model_->tokenize(s, out);
        return;
      }
      // A new word before every replacement character (HF's MergedWithNext).
      size_t start = 0;
      for (size_t pos = s.find(rep, 1); pos != std::string::npos; pos = s.find(rep, pos + rep.size())) {
        model_->tokenize(std::string_view(s).substr(start, pos - start), out);
        start = pos;
      }
      if (start < s.size()) model_->tokenize(std::string_view(s).substr(start), out);
      return;
    }
  }
}

Tokenizer::DecodePiece HfPipelineTokenizer::decode_piece(TokenId id, bool render_special) const {
  DecodePiece p;
  if (id < 0 || static_cast<size_t>(id) >= n_vocab()) {
    p.transparent = true;
    return p;
  }
  const std::string& token = vocab_.tokens[static_cast<size_t>(id)];
  const TokenType type = vocab_.types[static_cast<size_t>(id)];
  if ((type == TokenType::kControl || type == TokenType::kUnused) && !render_special) {
    p.transparent = true;  // HF leaves skipped tokens out before the decoder runs
    return p;
  }
  const HfPipelineOptions::Decoder& d = opts_.decoder;
  if (d.join_with_space) {
    p.text = " " + token;
    p.has_start_text = true;
    p.at_start_text = token;
    return p;
  }
  std::string text = token;
  for (const auto& [from, to] : d.replace) replace_all(&text, from, to);
  if (d.byte_fallback) {
    if (const int b = byte_of_token(text); b >= 0) {
      p.text = std::string(1, static_cast<char>(b));
      p.is_byte = true;
      return p;
    }
  }
  if (d.metaspace) {
    std::string first = text;
    replace_all(&text, opts_.meta_replacement, " ");
    if (opts_.meta_prepend != HfPipelineOptions::Prepend::kNever) {
      replace_all(&first, opts_.meta_replacement, "");
      p.has_start_text = true;
      p.at_start_text = std::move(first);
    }
  }
  p.text = std::move(text);
  p.strip_space = d.strip_first_space;
  return p;
}

std::string HfPipelineTokenizer::token_to_piece(TokenId id, bool render_special) const {
  return decode_piece(id, render_special).text;
}

}  // namespace autoglm
