#include "kv/sequence_kv.h"

#include <string>

namespace autoglm::kv {

Status SequenceKV::reserve(KVCache& cache, int32_t n_positions) {
  const int32_t bs = cache.config().block_size;
  const size_t need = static_cast<size_t>((static_cast<int64_t>(n_positions) + bs - 1) / bs);
  const size_t had = blocks_.size();
  while (blocks_.size() < need) {
    auto b = cache.pool().allocate();
    if (!b) {
      for (size_t i = had; i < blocks_.size(); ++i) cache.pool().release(blocks_[i]);
      blocks_.resize(had);
      return ResourceExhausted("KV cache full: need " + std::to_string(need) + " blocks of " + std::to_string(bs) +
                               " tokens, " + std::to_string(cache.pool().n_free()) + " free");
    }
    blocks_.push_back(*b);
  }
  return Status::OK();
}

void SequenceKV::truncate(KVCache& cache, int32_t n_positions) {
  const int32_t bs = cache.config().block_size;
  const size_t keep = static_cast<size_t>((static_cast<int64_t>(n_positions) + bs - 1) / bs);
  while (blocks_.size() > keep) {
    cache.pool().release(blocks_.back());
    blocks_.pop_back();
  }
  if (n_cached_ > n_positions) n_cached_ = n_positions;
}

void SequenceKV::release(KVCache& cache) {
  for (int32_t b : blocks_) cache.pool().release(b);
  blocks_.clear();
  n_cached_ = 0;
}

}  // namespace autoglm::kv
