#include "tokenizer/unigram_model.h"

#include <algorithm>
#include <limits>

#include "tokenizer/utf8.h"

namespace autoglm {

namespace {
constexpr double kUnkPenalty = 10.0;  // HF's K_UNK_PENALTY
}  // namespace

UnigramModel::UnigramModel(const std::vector<std::pair<std::string, double>>& pieces, TokenId unk, bool byte_fallback)
    : unk_(unk), byte_fallback_(byte_fallback) {
  scores_.reserve(pieces.size());
  ids_.reserve(pieces.size());
  node_id_.push_back(-1);  // the root
  double min_score = std::numeric_limits<double>::infinity();
  for (size_t id = 0; id < pieces.size(); ++id) {
    const auto& [text, score] = pieces[id];
    scores_.push_back(score);
    min_score = std::min(min_score, score);
    ids_.insert_or_assign(text, static_cast<TokenId>(id));  // a repeated piece: the last id, as HF
  }
  // The trie holds each text once, under the id the lookup table kept.
  for (const auto& [text, id] : ids_) {
    int32_t node = 0;
    for (char c : text) {
      const uint64_t key = (static_cast<uint64_t>(node) << 8) | static_cast<uint8_t>(c);
      auto [it, inserted] = edges_.try_emplace(key, static_cast<int32_t>(node_id_.size()));
      if (inserted) node_id_.push_back(-1);
      node = it->second;
    }
    if (node != 0) node_id_[static_cast<size_t>(node)] = id;
  }
  unk_score_ = min_score - kUnkPenalty;
}

int32_t UnigramModel::child(int32_t node, uint8_t byte) const {
  const auto it = edges_.find((static_cast<uint64_t>(node) << 8) | byte);
  return it == edges_.end() ? -1 : it->second;
}

void UnigramModel::tokenize(std::string_view word, std::vector<TokenId>* out) const {
  const size_t n = word.size();
  if (n == 0) return;
  struct Best {
    TokenId id = -1;
    double score = 0;
    size_t start = 0;
    bool set = false;
  };
  std::vector<Best> best(n + 1);
  for (size_t start = 0; start < n;) {
    const size_t ch_len = utf8::char_len(word.substr(start));
    // Positions no path reaches (after text dropped for want of an unk) start from score 0.
    const double here = best[start].score;
    bool has_single = false;
    int32_t node = 0;
    for (size_t end = start; end < n; ++end) {
      node = child(node, static_cast<uint8_t>(word[end]));
      if (node < 0) break;
      const TokenId id = node_id_[static_cast<size_t>(node)];
      if (id < 0) continue;
      Best& b = best[end + 1];
      const double cand = scores_[static_cast<size_t>(id)] + here;
      if (!b.set || cand > b.score) b = {id, cand, start, true};
      if (end + 1 - start == ch_len) has_single = true;
    }
    if (!has_single && unk_ >= 0) {
      Best& b = best[start + ch_len];
      const double cand = unk_score_ + here;
      if (!b.set || cand > b.score) b = {unk_, cand, start, true};
    }
    start += ch_len;
  }

  // Back from the end: (start, end, id) pieces, adjacent unks fused.
  struct Piece {
    size_t start, end;
    TokenId id;
  };
  std::vector<Piece> pieces;
  for (size_t end = n; end > 0;) {
    const Best& b = best[end];
    if (!b.set) {  // no unk id: text no piece reaches is dropped
      do --end; while (end > 0 && !best[end].set);
      continue;
    }
    if (b.id == unk_ && !pieces.empty() && pieces.back().id == unk_ && pieces.back().start == end) {
      pieces.back().start = b.start;
    } else {
      pieces.push_back({b.start, end, b.id});
    }
    end = b.start;
  }
  std::reverse(pieces.begin(), pieces.end());
  for (const Piece& p : pieces) {
    const std::string_view text = word.substr(p.start, p.end - p.start);
    if (const auto it = ids_.find(text); it != ids_.end()) {
      out->push_back(it->second);
      continue;
    }
    if (byte_fallback_) {
      std::vector<TokenId> bytes;
      for (char c : text) {
        const auto it = ids_.find(byte_token_text(static_cast<uint8_t>(c)));
        if (it == ids_.end()) break;
        bytes.push_back(it->second);
      }
      if (bytes.size() == text.size()) {
        out->insert(out->end(), bytes.begin(), bytes.end());
        continue;
      }
    }
    if (unk_ >= 0) out->push_back(unk_);
  }
}

}  // namespace autoglm
