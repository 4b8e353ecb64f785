// SequenceKV: the block table of one sequence, i.e. which pool blocks hold its tokens.
// Token at position p lives in blocks[p / block_size], slot p % block_size.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "autoglm/status.h"
#include "kv/kv_cache.h"

namespace autoglm::kv {

class SequenceKV {
 public:
  SequenceKV() = default;
  SequenceKV(const SequenceKV&) = delete;
  SequenceKV& operator=(const SequenceKV&) = delete;

  // Makes room for positions [0, n_positions): allocates blocks as needed. On failure no
  // block is leaked and the table is unchanged (ResourceExhausted).
  Status reserve(KVCache& cache, int32_t n_positions);
  // Gives every block back to the pool.
  void release(KVCache& cache);
  // Appends a block the caller already holds a reference to (a prefix-cache hit).
  void adopt(int32_t block) { blocks_.push_back(block); }
  // Keeps positions [0, n_positions): later blocks go back to the pool.
  void truncate(KVCache& cache, int32_t n_positions);

  int32_t capacity(const KVCache& cache) const {
    return static_cast<int32_t>(blocks_.size()) * cache.config().block_size;
  }
  // Number of positions whose K/V have been written (the attention span of the next token).
  int32_t n_cached() const { return n_cached_; }
  void set_n_cached(int32_t n) { n_cached_ = n; }
  const std::vector<int32_t>& blocks() const { return blocks_; }
  std::pair<int32_t, int32_t> locate(const KVCache& cache, int32_t pos) const {
    const int32_t bs = cache.config().block_size;
    return {blocks_[static_cast<size_t>(pos / bs)], pos % bs};
  }

 private:
  std::vector<int32_t> blocks_;
  int32_t n_cached_ = 0;
};

}  // namespace autoglm::kv
