// BlockPool: fixed-size KV blocks handed out by id, with reference counts so that a block
// can later be shared (prefix caching, forked sequences) and is freed when its last user goes.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace autoglm::kv {

class BlockPool {
 public:
  explicit BlockPool(int32_t n_blocks);

  int32_t n_total() const { return static_cast<int32_t>(refs_.size()); }
  int32_t n_free() const { return static_cast<int32_t>(free_.size()); }
  int32_t n_used() const { return n_total() - n_free(); }

  // A free block with reference count 1, or nullopt when the pool is exhausted.
  std::optional<int32_t> allocate();
  void retain(int32_t block);
  // Drops one reference; the block returns to the free list at zero.
  void release(int32_t block);
  int32_t ref_count(int32_t block) const { return refs_[static_cast<size_t>(block)]; }

 private:
  std::vector<int32_t> refs_;
  std::vector<int32_t> free_;  // a stack: the most recently freed block is reused first
};

}  // namespace autoglm::kv
