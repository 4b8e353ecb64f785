#include "tokenizer/bpe_tokenizer.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <limits>

#include "tokenizer/utf8.h"

namespace autoglm {

namespace {

// Normalizes the well-formed runs of s; ill-formed bytes are kept as they are.
void append_normalized(std::string_view s, BpeOptions::Normalization form, std::string* out) {
  int options = UTF8PROC_STABLE;
  switch (form) {
    case BpeOptions::Normalization::kNone: out->append(s); return;
    case BpeOptions::Normalization::kNFC: options |= UTF8PROC_COMPOSE; break;
    case BpeOptions::Normalization::kNFKC: options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    case BpeOptions::Normalization::kNFD: options |= UTF8PROC_DECOMPOSE; break;
    case BpeOptions::Normalization::kNFKD: options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
  }
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size()) {
      const utf8::CharInfo c = utf8::classify(s.substr(j));
      if (c.kind != utf8::Lead::kComplete) break;
      j += c.len;
    }
    if (j > i) {
      utf8proc_uint8_t* dst = nullptr;
      const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                                              static_cast<utf8proc_ssize_t>(j - i), &dst,
                                              static_cast<utf8proc_option_t>(options));
      if (n >= 0 && dst != nullptr) {
        out->append(reinterpret_cast<const char*>(dst), static_cast<size_t>(n));
      } else {
        out->append(s.substr(i, j - i));  // out of memory: leave the run as it is
      }
      std::free(dst);
    }
    if (j < s.size()) out->push_back(s[j++]);  // an ill-formed byte
    i = j;
  }
}

struct Symbol {
  TokenId id;  // -1: a byte without a token; kDead: merged into its left neighbour
  int32_t prev;
  int32_t next;
};
constexpr TokenId kDead = -2;

struct QueuedPair {
  uint32_t rank;
  uint32_t pos;  // the left symbol
};
// std heaps are max-heaps: "less" puts the lowest rank, then the leftmost pair, on top.
struct QueuedLess {
  bool operator()(const QueuedPair& a, const QueuedPair& b) const {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  }
};

uint64_t pair_key(TokenId a, TokenId b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

}  // namespace

struct BpeTokenizer::Scratch {
  std::string normalized;
  std::string mapped;
  std::vector<std::string_view> pieces;
  std::vector<Symbol> syms;
  std::vector<QueuedPair> heap;
};

Result<std::unique_ptr<BpeTokenizer>> BpeTokenizer::create(Vocab vocab, const std::vector<MergePair>& merges,
                                                           BpeOptions options) {
  const size_t n = vocab.tokens.size();
  if (n == 0) return InvalidArgument("tokenizer: empty vocabulary");
  if (n > static_cast<size_t>(std::numeric_limits<TokenId>::max())) {
    return InvalidArgument("tokenizer: vocabulary too large");
  }
  if (!vocab.types.empty() && vocab.types.size() != n) {
    return InvalidArgument("tokenizer: " + std::to_string(vocab.types.size()) + " token types for " +
                           std::to_string(n) + " tokens");
  }
  if (merges.size() > std::numeric_limits<uint32_t>::max()) return InvalidArgument("tokenizer: too many merges");
  for (TokenId id : {vocab.bos, vocab.eos, vocab.unk, vocab.pad}) {
    if (id < -1 || (id >= 0 && static_cast<size_t>(id) >= n)) {
      return InvalidArgument("tokenizer: special token id " + std::to_string(id) + " out of range");
    }
  }
  std::unique_ptr<BpeTokenizer> tok(new BpeTokenizer(std::move(vocab), std::move(options)));
  tok->build_tables(merges);
  return tok;
}

Result<std::unique_ptr<BpeTokenizer>> BpeTokenizer::from_gguf_vocab(Vocab vocab) {
  std::vector<MergePair> merges;
  merges.reserve(vocab.merges.size());
  for (size_t i = 0; i < vocab.merges.size(); ++i) {
    const std::string& m = vocab.merges[i];
    // Search from 1: a left side could itself be a space in a vocabulary that is not byte-level.
    const size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
    if (sp == std::string::npos) {
      return CorruptFile("tokenizer merge " + std::to_string(i) + " has no space between its two tokens");
    }
    merges.emplace_back(m.substr(0, sp), m.substr(sp + 1));
  }
  BpeOptions options;
  AG_ASSIGN_OR_RETURN(options.pre, PreTokenizer::for_ggml_pre(vocab.pre));
  // Llama 3's tokenizer.json sets ignore_merges; llama.cpp keys it on the pre-tokenizer name.
  options.ignore_merges = vocab.pre == "llama3" || vocab.pre == "llama-bpe" || vocab.pre == "llama-v3";
  return create(std::move(vocab), merges, std::move(options));
}

BpeTokenizer::BpeTokenizer(Vocab v, BpeOptions options) : Tokenizer(std::move(v)), options_(std::move(options)) {}

TokenType BpeTokenizer::type_of(TokenId id) const {
  return vocab_.types.empty() ? TokenType::kNormal : vocab_.types[static_cast<size_t>(id)];
}

void BpeTokenizer::build_tables(const std::vector<MergePair>& merges) {
  const auto n = static_cast<TokenId>(vocab_.tokens.size());
  token_ids_.reserve(static_cast<size_t>(n));
  for (TokenId id = 0; id < n; ++id) {
    const std::string& text = vocab_.tokens[static_cast<size_t>(id)];
    token_ids_.emplace(text, id);  // the first of duplicate texts wins
    const TokenType type = type_of(id);
    if (type == TokenType::kUserDefined) user_defined_.add(text, id);
    if (type == TokenType::kUserDefined || type == TokenType::kControl) all_special_.add(text, id);
  }
  user_defined_.finish();
  all_special_.finish();
  for (const AddedToken& t : options_.added_tokens) {
    if (t.normalized) {
      std::string normalized;
      append_normalized(t.content, options_.normalization, &normalized);
      normalized_added_.add(std::move(normalized), t);
    } else {
      raw_added_.add(t.content, t);
    }
  }
  raw_added_.finish();
  normalized_added_.finish();

  std::string ch;
  for (int b = 0; b < 256; ++b) {
    ch.clear();
    const char byte = static_cast<char>(b);
    append_byte_level(std::string_view(&byte, 1), &ch);
    const auto it = token_ids_.find(ch);
    byte_ids_[static_cast<size_t>(b)] = it == token_ids_.end() ? -1 : it->second;
  }

  merges_.reserve(merges.size());
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const auto l = token_ids_.find(left);
    const auto r = token_ids_.find(right);
    if (l == token_ids_.end() || r == token_ids_.end()) continue;
    joined.assign(left).append(right);
    const auto res = token_ids_.find(joined);
    if (res == token_ids_.end()) continue;
    merges_.emplace(pair_key(l->second, r->second), Merge{static_cast<uint32_t>(rank), res->second});
  }
}

std::vector<TokenId> BpeTokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  std::vector<TokenId> out;
  if (add_special && vocab_.add_bos && vocab_.bos >= 0) out.push_back(vocab_.bos);
  Scratch scratch;
  if (options_.added_tokens.empty()) {
    for (const TextFragment& f : (parse_special ? all_special_ : user_defined_).split(text)) {
      if (f.is_token) {
        out.push_back(f.id);
      } else {
        encode_text(f.text, &scratch, &out);
      }
    }
  } else {
    // HF: added tokens in the raw text, then in each normalized fragment (normalizing twice is
    // harmless: the Unicode forms are idempotent).
    std::vector<AddedSplit> frags, parts;
    std::string normalized;
    raw_added_.split(text, parse_special, &frags);
    for (const AddedSplit& f : frags) {
      const std::string_view frag = text.substr(f.begin, f.end - f.begin);
      if (f.is_token) {
        out.push_back(f.id);
      } else if (normalized_added_.empty()) {
        encode_text(frag, &scratch, &out);
      } else {
        normalized.clear();
        append_normalized(frag, options_.normalization, &normalized);
        parts.clear();
        normalized_added_.split(normalized, parse_special, &parts);
        for (const AddedSplit& p : parts) {
          if (p.is_token) {
            out.push_back(p.id);
          } else {
            encode_text(std::string_view(normalized).substr(p.begin, p.end - p.begin), &scratch, &out);
          }
        }
      }
    }
  }
  if (add_special && vocab_.add_eos && vocab_.eos >= 0) out.push_back(vocab_.eos);
  return out;
}

void BpeTokenizer::encode_text(std::string_view text, Scratch* scratch, std::vector<TokenId>* out) const {
  if (text.empty()) return;
  std::string_view s = text;
  if (options_.normalization != BpeOptions::Normalization::kNone || options_.add_prefix_space) {
    std::string& buf = scratch->normalized;
    buf.clear();
    append_normalized(text, options_.normalization, &buf);
    if (options_.add_prefix_space && !buf.empty() && buf[0] != ' ') buf.insert(buf.begin(), ' ');
    s = buf;
  }
  // The pieces view scratch->normalized, which encode_piece does not touch.
  std::vector<std::string_view> pieces;
  pieces.swap(scratch->pieces);
  options_.pre.split(s, &pieces);
  for (std::string_view piece : pieces) encode_piece(piece, scratch, out);
  pieces.swap(scratch->pieces);
}

void BpeTokenizer::emit(TokenId id, std::vector<TokenId>* out) const {
  if (id >= 0) {
    out->push_back(id);
  } else if (vocab_.unk >= 0) {
    out->push_back(vocab_.unk);
  }
}

void BpeTokenizer::encode_piece(std::string_view piece, Scratch* scratch, std::vector<TokenId>* out) const {
  if (piece.empty()) return;
  if (piece.size() == 1) {
    emit(byte_ids_[static_cast<uint8_t>(piece[0])], out);
    return;
  }
  if (options_.ignore_merges) {
    scratch->mapped.clear();
    append_byte_level(piece, &scratch->mapped);
    const auto it = token_ids_.find(scratch->mapped);
    if (it != token_ids_.end()) {
      out->push_back(it->second);
      return;
    }
  }
  std::vector<Symbol>& syms = scratch->syms;
  syms.clear();
  for (size_t i = 0; i < piece.size(); ++i) {
    syms.push_back({byte_ids_[static_cast<uint8_t>(piece[i])], static_cast<int32_t>(i) - 1,
                    static_cast<int32_t>(i) + 1});
  }
  syms.back().next = -1;

  std::vector<QueuedPair>& heap = scratch->heap;
  heap.clear();
  const QueuedLess less;
  auto lookup = [&](int32_t left) -> const Merge* {
    if (left < 0) return nullptr;
    const Symbol& l = syms[static_cast<size_t>(left)];
    if (l.next < 0 || l.id < 0) return nullptr;
    const TokenId r = syms[static_cast<size_t>(l.next)].id;
    if (r < 0) return nullptr;
    const auto it = merges_.find(pair_key(l.id, r));
    return it == merges_.end() ? nullptr : &it->second;
  };
  auto queue = [&](int32_t left) {
    if (const Merge* m = lookup(left)) {
      heap.push_back({m->rank, static_cast<uint32_t>(left)});
      std::push_heap(heap.begin(), heap.end(), less);
    }
  };
  for (size_t i = 0; i + 1 < syms.size(); ++i) queue(static_cast<int32_t>(i));

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), less);
    const QueuedPair q = heap.back();
    heap.pop_back();
    Symbol& l = syms[q.pos];
    if (l.id == kDead) continue;
    // Stale entry: a neighbour changed since it was queued (a rank names exactly one pair).
    const Merge* m = lookup(static_cast<int32_t>(q.pos));
    if (m == nullptr || m->rank != q.rank) continue;
    Symbol& r = syms[static_cast<size_t>(l.next)];
    l.id = m->result;
    r.id = kDead;
    l.next = r.next;
    if (r.next >= 0) syms[static_cast<size_t>(r.next)].prev = static_cast<int32_t>(q.pos);
    queue(l.prev);
    queue(static_cast<int32_t>(q.pos));
  }

  for (int32_t i = 0; i >= 0; i = syms[static_cast<size_t>(i)].next) emit(syms[static_cast<size_t>(i)].id, out);
}

std::string BpeTokenizer::token_to_piece(TokenId id, bool render_special) const {
  if (id < 0 || static_cast<size_t>(id) >= n_vocab()) return {};
  const std::string& text = vocab_.tokens[static_cast<size_t>(id)];
  const TokenType type = type_of(id);
  if ((type == TokenType::kControl || type == TokenType::kUnused) && !render_special) return {};
  // Hugging Face's ByteLevel decoder, on every token (added ones too): when each character is in
  // the byte-level map, the bytes it stands for; otherwise the token's text as it is. So
  // DeepSeek's user-defined "\u00F5" decodes to the byte F5, MPT's "  " to two spaces.
  std::string out;
  out.reserve(text.size());
  const std::string_view t = text;
  for (size_t i = 0; i < t.size();) {
    const utf8::CharInfo c = utf8::classify(t.substr(i));
    int b = -1;
    if (c.kind == utf8::Lead::kComplete && c.len <= 2) {
      uint32_t cp = static_cast<uint8_t>(t[i]);
      if (c.len == 2) cp = ((cp & 0x1F) << 6) | (static_cast<uint8_t>(t[i + 1]) & 0x3F);
      b = codepoint_to_byte(cp);
    }
    if (b < 0) return text;
    out.push_back(static_cast<char>(b));
    i += c.len;
  }
  return out;
}

Tokenizer::DecodePiece BpeTokenizer::decode_piece(TokenId id, bool render_special) const {
  DecodePiece p;
  if (id < 0 || static_cast<size_t>(id) >= n_vocab()) {
    p.transparent = true;
    return p;
  }
  p.text = token_to_piece(id, render_special);
  const TokenType type = type_of(id);
  // Control tokens do not end the start-of-text window; every other piece is bytes that may
  // hold part of a character, validated with its neighbours.
  p.transparent = type == TokenType::kControl || type == TokenType::kUnused;
  p.is_byte = !p.transparent;
  return p;
}

}  // namespace autoglm
