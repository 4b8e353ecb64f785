#include "tokenizer/spm_tokenizer.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>

#include "tokenizer/utf8.h"

namespace autoglm {

namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";          // U+2581, SentencePiece's space
constexpr std::string_view kUnkSurface = " \xE2\x81\x87 ";       // " ⁇ ", SentencePiece's unk
// Symbol positions are 32-bit; a larger fragment is encoded in pieces of this size (cut at a
// character boundary). Only hostile inputs are that large.
constexpr size_t kMaxChunk = size_t{1} << 30;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string unescape_spaces(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    if (s.substr(i, kSpaceMark.size()) == kSpaceMark) {
      out.push_back(' ');
      i += kSpaceMark.size();
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

// One symbol of the merge list: a byte range of the escaped text, linked to its neighbours.
struct Symbol {
  uint32_t start;
  uint32_t len;  // 0 once merged into its left neighbour
  int32_t prev;
  int32_t next;
};

struct Bigram {
  float score;
  uint32_t left;
  uint32_t right;
  uint32_t len;
};

// Highest score first; on ties the leftmost pair (smaller left index) first.
struct BigramLess {
  bool operator()(const Bigram& a, const Bigram& b) const {
    if (a.score != b.score) return a.score < b.score;
    return a.left > b.left;
  }
};

}  // namespace

Result<std::unique_ptr<SpmTokenizer>> SpmTokenizer::create(Vocab vocab) {
  const size_t n = vocab.tokens.size();
  if (n == 0) return InvalidArgument("tokenizer: empty vocabulary");
  if (n > static_cast<size_t>(std::numeric_limits<TokenId>::max())) {
    return InvalidArgument("tokenizer: vocabulary too large");
  }
  if (!vocab.scores.empty() && vocab.scores.size() != n) {
    return InvalidArgument("tokenizer: " + std::to_string(vocab.scores.size()) + " scores for " + std::to_string(n) +
                           " tokens");
  }
  if (!vocab.types.empty() && vocab.types.size() != n) {
    return InvalidArgument("tokenizer: " + std::to_string(vocab.types.size()) + " token types for " +
                           std::to_string(n) + " tokens");
  }
  for (TokenId id : {vocab.bos, vocab.eos, vocab.unk, vocab.pad}) {
    if (id < -1 || (id >= 0 && static_cast<size_t>(id) >= n)) {
      return InvalidArgument("tokenizer: special token id " + std::to_string(id) + " out of range");
    }
  }
  std::unique_ptr<SpmTokenizer> tok(new SpmTokenizer(std::move(vocab)));
  tok->build_tables();
  return tok;
}

SpmTokenizer::SpmTokenizer(Vocab v) : Tokenizer(std::move(v)) {}

TokenType SpmTokenizer::type_of(TokenId id) const {
  return vocab_.types.empty() ? TokenType::kNormal : vocab_.types[static_cast<size_t>(id)];
}

float SpmTokenizer::score_of(TokenId id) const {
  return vocab_.scores.empty() ? 0.0f : vocab_.scores[static_cast<size_t>(id)];
}

int SpmTokenizer::byte_value(TokenId id) const {
  const std::string& t = vocab_.tokens[static_cast<size_t>(id)];
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
  const int hi = hex_digit(t[3]), lo = hex_digit(t[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

void SpmTokenizer::build_tables() {
  byte_tokens_.fill(-1);
  const auto n = static_cast<TokenId>(vocab_.tokens.size());
  mergeable_.reserve(static_cast<size_t>(n));
  for (TokenId id = 0; id < n; ++id) {
    const std::string& text = vocab_.tokens[static_cast<size_t>(id)];
    const TokenType type = type_of(id);
    if (type == TokenType::kNormal || type == TokenType::kUndefined) {
      mergeable_.emplace(text, id);  // the first of duplicate texts wins
      max_token_len_ = std::max(max_token_len_, text.size());
      const std::string_view t = text;
      for (size_t i = 0, prev = std::string_view::npos; i < t.size();) {
        const size_t len = utf8::char_len(t.substr(i));
        if (prev != std::string_view::npos) inner_pairs_.insert(t.substr(prev, i + len - prev));
        prev = i;
        i += len;
      }
    }
    // A byte token is found by its text, whatever its declared type (files without types).
    const int b = byte_value(id);
    if (b >= 0 && (type == TokenType::kByte || vocab_.types.empty()) && byte_tokens_[static_cast<size_t>(b)] < 0) {
      byte_tokens_[static_cast<size_t>(b)] = id;
    }
    if (type == TokenType::kUserDefined) user_defined_.add(text, id);
    if (type == TokenType::kUserDefined || type == TokenType::kControl || type == TokenType::kUnknown) {
      all_special_.add(text, id);
    }
  }
  user_defined_.finish();
  all_special_.finish();
}

std::vector<TokenId> SpmTokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  std::vector<TokenId> out;
  if (add_special && vocab_.add_bos && vocab_.bos >= 0) out.push_back(vocab_.bos);
  bool after_special = true;  // the first fragment gets the space prefix too
  for (const TextFragment& f : (parse_special ? all_special_ : user_defined_).split(text)) {
    if (f.is_token) {
      out.push_back(f.id);
      after_special = true;
    } else {
      encode_fragment(f.text, vocab_.add_space_prefix && after_special, &out);
      after_special = false;
    }
  }
  if (add_special && vocab_.add_eos && vocab_.eos >= 0) out.push_back(vocab_.eos);
  return out;
}

void SpmTokenizer::encode_fragment(std::string_view text, bool space_prefix, std::vector<TokenId>* out) const {
  if (text.empty()) return;
  std::string s;
  s.reserve(text.size() + kSpaceMark.size());
  if (space_prefix) s.append(kSpaceMark);
  for (char c : text) {
    if (c == ' ') {
      s.append(kSpaceMark);
    } else {
      s.push_back(c);
    }
  }
  std::string_view rest = s;
  while (rest.size() > kMaxChunk) {
    size_t cut = kMaxChunk;
    while (cut > 0 && (static_cast<uint8_t>(rest[cut]) & 0xC0) == 0x80) --cut;
    if (cut == 0) cut = kMaxChunk;
    encode_escaped(rest.substr(0, cut), out);
    rest.remove_prefix(cut);
  }
  encode_escaped(rest, out);
}

struct SpmTokenizer::MergeScratch {
  std::vector<Symbol> syms;
  std::vector<Bigram> heap;
};

void SpmTokenizer::encode_escaped(std::string_view s, std::vector<TokenId>* out) const {
  MergeScratch scratch;
  size_t seg_start = 0;
  size_t prev_start = 0;
  size_t prev_len = 0;
  for (size_t i = 0; i < s.size();) {
    const size_t len = utf8::char_len(s.substr(i));
    if (prev_len > 0 && !inner_pairs_.contains(s.substr(prev_start, prev_len + len))) {
      merge_segment(s.substr(seg_start, i - seg_start), &scratch, out);
      seg_start = i;
    }
    prev_start = i;
    prev_len = len;
    i += len;
  }
  merge_segment(s.substr(seg_start), &scratch, out);
}

void SpmTokenizer::merge_segment(std::string_view s, MergeScratch* scratch, std::vector<TokenId>* out) const {
  if (s.empty()) return;
  if (s.size() == 1 || utf8::char_len(s) == s.size()) {
    emit_symbol(s, out);  // one character: nothing to merge
    return;
  }
  std::vector<Symbol>& syms = scratch->syms;
  syms.clear();
  for (size_t i = 0; i < s.size();) {
    const size_t len = utf8::char_len(s.substr(i));
    const auto idx = static_cast<int32_t>(syms.size());
    syms.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(len), idx - 1, idx + 1});
    i += len;
  }
  syms.back().next = -1;

  std::vector<Bigram>& heap = scratch->heap;
  heap.clear();
  const BigramLess less;
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = syms[static_cast<size_t>(left)];
    const Symbol& r = syms[static_cast<size_t>(right)];
    const size_t len = size_t{l.len} + r.len;
    if (len > max_token_len_) return;
    auto it = mergeable_.find(s.substr(l.start, len));
    if (it == mergeable_.end()) return;
    heap.push_back({score_of(it->second), static_cast<uint32_t>(left), static_cast<uint32_t>(right),
                    static_cast<uint32_t>(len)});
    std::push_heap(heap.begin(), heap.end(), less);
  };
  for (size_t i = 1; i < syms.size(); ++i) try_add(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), less);
    const Bigram b = heap.back();
    heap.pop_back();
    Symbol& l = syms[b.left];
    Symbol& r = syms[b.right];
    // Stale entry: one side was merged elsewhere since this pair was queued.
    if (l.len == 0 || r.len == 0 || l.next != static_cast<int32_t>(b.right) || l.len + r.len != b.len) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) syms[static_cast<size_t>(r.next)].prev = static_cast<int32_t>(b.left);
    try_add(l.prev, static_cast<int32_t>(b.left));
    try_add(static_cast<int32_t>(b.left), l.next);
  }

  for (int32_t i = 0; i >= 0; i = syms[static_cast<size_t>(i)].next) {
    const Symbol& sym = syms[static_cast<size_t>(i)];
    emit_symbol(s.substr(sym.start, sym.len), out);
  }
}

void SpmTokenizer::emit_symbol(std::string_view sym, std::vector<TokenId>* out) const {
  auto it = mergeable_.find(sym);
  if (it != mergeable_.end()) {
    out->push_back(it->second);
    return;
  }
  const bool have_bytes = std::all_of(sym.begin(), sym.end(),
                                      [this](char c) { return byte_tokens_[static_cast<uint8_t>(c)] >= 0; });
  if (have_bytes) {
    for (char c : sym) out->push_back(byte_tokens_[static_cast<uint8_t>(c)]);
  } else if (vocab_.unk >= 0) {
    out->push_back(vocab_.unk);  // one unk per unknown character, as SentencePiece does
  }
}

std::string SpmTokenizer::token_to_piece(TokenId id, bool render_special) const {
  if (id < 0 || static_cast<size_t>(id) >= n_vocab()) return {};
  const std::string& text = vocab_.tokens[static_cast<size_t>(id)];
  switch (type_of(id)) {
    case TokenType::kByte: {
      const int b = byte_value(id);
      return b >= 0 ? std::string(1, static_cast<char>(b)) : unescape_spaces(text);
    }
    case TokenType::kControl:
    case TokenType::kUnused:
      return render_special ? text : std::string();
    case TokenType::kUnknown:
      return std::string(kUnkSurface);
    case TokenType::kNormal:
    case TokenType::kUndefined:
    case TokenType::kUserDefined:
      break;
  }
  return unescape_spaces(text);
}

Tokenizer::DecodePiece SpmTokenizer::decode_piece(TokenId id, bool render_special) const {
  DecodePiece p;
  if (id < 0 || static_cast<size_t>(id) >= n_vocab()) {
    p.transparent = true;
    return p;
  }
  p.text = token_to_piece(id, render_special);
  switch (type_of(id)) {
    case TokenType::kByte:
      p.is_byte = byte_value(id) >= 0;
      p.strip_space = !p.is_byte && vocab_.add_space_prefix;
      break;
    case TokenType::kControl:
    case TokenType::kUnused:
      p.transparent = true;
      break;
    case TokenType::kUnknown:
      break;  // ends the start window but keeps its spaces, as SentencePiece does
    case TokenType::kNormal:
    case TokenType::kUndefined:
    case TokenType::kUserDefined:
      p.strip_space = vocab_.add_space_prefix;
      break;
  }
  return p;
}

}  // namespace autoglm
