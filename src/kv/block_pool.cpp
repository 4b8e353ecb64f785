#include "kv/block_pool.h"

#include "core/check.h"

namespace autoglm::kv {

BlockPool::BlockPool(int32_t n_blocks) : refs_(static_cast<size_t>(n_blocks), 0) {
  free_.reserve(static_cast<size_t>(n_blocks));
  for (int32_t b = n_blocks - 1; b >= 0; --b) free_.push_back(b);
}

std::optional<int32_t> BlockPool::allocate() {
  if (free_.empty()) return std::nullopt;
  int32_t b = free_.back();
  free_.pop_back();
  refs_[static_cast<size_t>(b)] = 1;
  return b;
}

void BlockPool::retain(int32_t block) {
  AG_CHECK(block >= 0 && block < n_total() && refs_[static_cast<size_t>(block)] > 0);
  ++refs_[static_cast<size_t>(block)];
}

void BlockPool::release(int32_t block) {
  AG_CHECK(block >= 0 && block < n_total() && refs_[static_cast<size_t>(block)] > 0);
  if (--refs_[static_cast<size_t>(block)] == 0) free_.push_back(block);
}

}  // namespace autoglm::kv
