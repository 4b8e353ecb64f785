// BlockPool: fixed-size KV blocks handed out by id, with reference counts so that a block can
// be shared (prefix caching, sessions) and returns to the pool when its last user goes.
//
// Prefix caching: a full block can be registered under a hash of the token prefix it holds.
// When its last user releases it, a registered block is not wiped: it waits in an LRU list
// ("cached") and can be found again by hash until allocate() needs the memory back.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <unordered_map>
#include <vector>

namespace autoglm::kv {

class BlockPool {
 public:
  explicit BlockPool(int32_t n_blocks);

  int32_t n_total() const { return static_cast<int32_t>(refs_.size()); }
  // Blocks that allocate() can hand out: never-used/free ones plus cached ones it may evict.
  int32_t n_free() const { return static_cast<int32_t>(free_.size() + lru_.size()); }
  int32_t n_used() const { return n_total() - n_free(); }
  int32_t n_cached() const { return static_cast<int32_t>(lru_.size()); }

  // A block with reference count 1 (evicting the least recently used cached block if no
  // block is free), or nullopt when every block is in use.
  std::optional<int32_t> allocate();
  void retain(int32_t block);
  // Drops one reference; at zero the block becomes free, or cached if it has a hash.
  void release(int32_t block);
  int32_t ref_count(int32_t block) const { return refs_[static_cast<size_t>(block)]; }

  // Registers a full block's prefix hash (first registration of a hash wins).
  void register_hash(int32_t block, uint64_t hash);
  bool has_hash(int32_t block) const { return hashed_[static_cast<size_t>(block)]; }
  // The block holding this prefix hash, retained for the caller, or nullopt.
  std::optional<int32_t> acquire_cached(uint64_t hash);

 private:
  void forget_hash(int32_t block);

  std::vector<int32_t> refs_;
  std::vector<int32_t> free_;  // a stack: the most recently freed block is reused first
  std::list<int32_t> lru_;     // cached blocks with no user, oldest first
  std::vector<std::list<int32_t>::iterator> lru_pos_;
  std::vector<bool> in_lru_;
  std::vector<bool> hashed_;
  std::vector<uint64_t> hash_;
  std::unordered_map<uint64_t, int32_t> by_hash_;
};

// Hash of a block's tokens chained onto the hash of everything before it.
uint64_t chain_hash(uint64_t prev, const int32_t* tokens, int32_t n);

}  // namespace autoglm::kv
