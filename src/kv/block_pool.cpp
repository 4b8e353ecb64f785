#include "kv/block_pool.h"

#include "core/check.h"

namespace autoglm::kv {

BlockPool::BlockPool(int32_t n_blocks)
    : refs_(static_cast<size_t>(n_blocks), 0),
      lru_pos_(static_cast<size_t>(n_blocks)),
      in_lru_(static_cast<size_t>(n_blocks), false),
      hashed_(static_cast<size_t>(n_blocks), false),
      hash_(static_cast<size_t>(n_blocks), 0) {
  free_.reserve(static_cast<size_t>(n_blocks));
  for (int32_t b = n_blocks - 1; b >= 0; --b) free_.push_back(b);
}

std::optional<int32_t> BlockPool::allocate() {
  int32_t b;
  if (!free_.empty()) {
    b = free_.back();
    free_.pop_back();
  } else if (!lru_.empty()) {
    b = lru_.front();
    lru_.pop_front();
    in_lru_[static_cast<size_t>(b)] = false;
    forget_hash(b);
  } else {
    return std::nullopt;
  }
  refs_[static_cast<size_t>(b)] = 1;
  return b;
}

void BlockPool::retain(int32_t block) {
  AG_CHECK(block >= 0 && block < n_total() && refs_[static_cast<size_t>(block)] > 0);
  ++refs_[static_cast<size_t>(block)];
}

void BlockPool::release(int32_t block) {
  const size_t b = static_cast<size_t>(block);
  AG_CHECK(block >= 0 && block < n_total() && refs_[b] > 0);
  if (--refs_[b] != 0) return;
  if (hashed_[b]) {
    lru_pos_[b] = lru_.insert(lru_.end(), block);
    in_lru_[b] = true;
  } else {
    free_.push_back(block);
  }
}

void BlockPool::register_hash(int32_t block, uint64_t hash) {
  const size_t b = static_cast<size_t>(block);
  AG_CHECK(block >= 0 && block < n_total() && refs_[b] > 0);
  if (hashed_[b] || by_hash_.count(hash)) return;
  hashed_[b] = true;
  hash_[b] = hash;
  by_hash_[hash] = block;
}

std::optional<int32_t> BlockPool::acquire_cached(uint64_t hash) {
  auto it = by_hash_.find(hash);
  if (it == by_hash_.end()) return std::nullopt;
  const int32_t block = it->second;
  const size_t b = static_cast<size_t>(block);
  if (in_lru_[b]) {
    lru_.erase(lru_pos_[b]);
    in_lru_[b] = false;
  }
  ++refs_[b];
  return block;
}

void BlockPool::forget_hash(int32_t block) {
  const size_t b = static_cast<size_t>(block);
  if (!hashed_[b]) return;
  by_hash_.erase(hash_[b]);
  hashed_[b] = false;
}

uint64_t chain_hash(uint64_t prev, const int32_t* tokens, int32_t n) {
  // FNV-1a over the previous hash and the token ids, then a final avalanche (splitmix64).
  uint64_t h = 1469598103934665603ull ^ prev;
  auto mix = [&](uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  };
  mix(prev);
  for (int32_t i = 0; i < n; ++i) mix(static_cast<uint32_t>(tokens[i]));
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

}  // namespace autoglm::kv
