#include "tokenizer/char_bpe_model.h"

#include <algorithm>
#include <limits>

#include "tokenizer/utf8.h"

namespace autoglm {

namespace {

uint64_t pair_key(TokenId a, TokenId b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

struct Symbol {
  TokenId id;
  int32_t prev, next;
  bool dead;
};

struct Queued {
  uint32_t rank;
  uint32_t pos;
};
// std heaps are max-heaps: the lowest rank, then the leftmost pair, on top.
struct QueuedLess {
  bool operator()(const Queued& a, const Queued& b) const {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  }
};

}  // namespace

CharBpeModel::CharBpeModel(const std::vector<std::string>& tokens,
                           const std::vector<std::pair<std::string, std::string>>& merges, Options options)
    : options_(options) {
  ids_.reserve(tokens.size());
  for (size_t id = 0; id < tokens.size(); ++id) {
    if (!tokens[id].empty()) ids_.emplace(tokens[id], static_cast<TokenId>(id));
  }
  for (int b = 0; b < 256; ++b) {
    const auto it = ids_.find(byte_token_text(static_cast<uint8_t>(b)));
    byte_ids_[static_cast<size_t>(b)] = it == ids_.end() ? -1 : it->second;
  }
  merges_.reserve(merges.size());
  std::string joined;
  const size_t n = std::min<size_t>(merges.size(), std::numeric_limits<uint32_t>::max());
  for (size_t rank = 0; rank < n; ++rank) {
    const auto& [left, right] = merges[rank];
    const auto l = ids_.find(left);
    const auto r = ids_.find(right);
    if (l == ids_.end() || r == ids_.end()) continue;
    joined.assign(left).append(right);
    const auto res = ids_.find(joined);
    if (res == ids_.end()) continue;
    // A repeated pair keeps its last rank, as HF's merge map is built.
    merges_.insert_or_assign(pair_key(l->second, r->second), Merge{static_cast<uint32_t>(rank), res->second});
  }
}

void CharBpeModel::tokenize(std::string_view word, std::vector<TokenId>* out) const {
  if (word.empty()) return;
  if (options_.ignore_merges) {
    if (const auto it = ids_.find(word); it != ids_.end()) {
      out->push_back(it->second);
      return;
    }
  }
  std::vector<Symbol> syms;
  syms.reserve(word.size());
  auto add = [&](TokenId id) {
    syms.push_back({id, static_cast<int32_t>(syms.size()) - 1, static_cast<int32_t>(syms.size()) + 1, false});
  };
  // An unknown character waits here, so that fuse_unk can extend it; it is added when a known
  // character comes (byte-fallback bytes do not flush it: HF's order).
  bool unk_pending = false;
  for (size_t i = 0; i < word.size();) {
    const size_t len = utf8::char_len(word.substr(i));
    const std::string_view ch = word.substr(i, len);
    i += len;
    if (const auto it = ids_.find(ch); it != ids_.end()) {
      if (unk_pending) add(options_.unk);
      unk_pending = false;
      add(it->second);
      continue;
    }
    if (options_.byte_fallback &&
        std::all_of(ch.begin(), ch.end(), [&](char c) { return byte_ids_[static_cast<uint8_t>(c)] >= 0; })) {
      for (char c : ch) add(byte_ids_[static_cast<uint8_t>(c)]);
      continue;
    }
    if (options_.unk < 0) continue;
    if (unk_pending && !options_.fuse_unk) add(options_.unk);
    unk_pending = true;
  }
  if (unk_pending) add(options_.unk);
  if (syms.empty()) return;
  syms.back().next = -1;

  std::vector<Queued> heap;
  const QueuedLess less;
  auto lookup = [&](int32_t left) -> const Merge* {
    if (left < 0) return nullptr;
    const Symbol& l = syms[static_cast<size_t>(left)];
    if (l.next < 0) return nullptr;
    const auto it = merges_.find(pair_key(l.id, syms[static_cast<size_t>(l.next)].id));
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
    const Queued q = heap.back();
    heap.pop_back();
    Symbol& l = syms[q.pos];
    if (l.dead) continue;
    const Merge* m = lookup(static_cast<int32_t>(q.pos));
    if (m == nullptr || m->rank != q.rank) continue;  // stale: a neighbour changed
    Symbol& r = syms[static_cast<size_t>(l.next)];
    l.id = m->result;
    r.dead = true;
    l.next = r.next;
    if (r.next >= 0) syms[static_cast<size_t>(r.next)].prev = static_cast<int32_t>(q.pos);
    queue(l.prev);
    queue(static_cast<int32_t>(q.pos));
  }
  for (int32_t i = 0; i >= 0; i = syms[static_cast<size_t>(i)].next) out->push_back(syms[static_cast<size_t>(i)].id);
}

}  // namespace autoglm
