// KVCache: paged storage of attention keys and values for every layer.
// Memory per layer is [n_blocks][block_size][token row] for K and for V, so one token's keys
// of one layer are contiguous and a block holds block_size consecutive tokens. A token row is
// n_kv_heads * head_dim values; for I8 each head is stored as an f16 scale followed by
// head_dim int8 values (symmetric, scale = max|x| / 127), about half the bytes of F16.
// Sequences own blocks through a SequenceKV block table (sequence_kv.h).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "autoglm/status.h"
#include "core/dtype.h"
#include "kv/block_pool.h"

namespace autoglm::kv {

struct KVCacheConfig {
  int32_t n_layers = 0;
  int32_t n_kv_heads = 0;
  int32_t head_dim = 0;
  int32_t block_size = 16;  // tokens per block
  int32_t n_blocks = 0;
  DType dtype = DType::F32;  // F32, F16, or I8 (int8 with an f16 scale per token and head)
};

class KVCache {
 public:
  static Result<std::unique_ptr<KVCache>> create(const KVCacheConfig& config);

  const KVCacheConfig& config() const { return cfg_; }
  BlockPool& pool() { return pool_; }
  const BlockPool& pool() const { return pool_; }
  int64_t row_elems() const { return static_cast<int64_t>(cfg_.n_kv_heads) * cfg_.head_dim; }
  size_t bytes() const { return bytes_per_side_ * 2; }
  size_t token_row_bytes() const { return row_bytes_; }

  // Writes one token's keys and values (row_elems() floats each) into (block, slot).
  void store(int32_t layer, int32_t block, int32_t slot, const float* k, const float* v);
  // Reads one kv head of one token as floats (head_dim values).
  void load_k(int32_t layer, int32_t block, int32_t slot, int32_t head, float* out) const;
  void load_v(int32_t layer, int32_t block, int32_t slot, int32_t head, float* out) const;
  // Raw F32 rows (only when dtype == F32): the fast path for attention.
  const float* k_row_f32(int32_t layer, int32_t block, int32_t slot) const;
  const float* v_row_f32(int32_t layer, int32_t block, int32_t slot) const;

 private:
  KVCache(const KVCacheConfig& c);
  size_t offset(int32_t layer, int32_t block, int32_t slot) const;

  KVCacheConfig cfg_;
  BlockPool pool_;
  size_t row_bytes_;
  struct FreeDeleter {
    void operator()(uint8_t* p) const;
  };
  size_t bytes_per_side_ = 0;
  std::unique_ptr<uint8_t[], FreeDeleter> k_, v_;  // calloc'd: untouched pages cost nothing
};

}  // namespace autoglm::kv
