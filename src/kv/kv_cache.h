// KVCache: paged storage of attention keys and values for every layer.
//
// Memory is laid out per (layer, block, kv head) so that attention reads one head's block of
// block_size tokens as one contiguous piece:
//   keys   [layer][block][head][dim][slot]  (transposed: one dim of every slot is contiguous,
//                                            so a query's scores for a block are vector FMAs)
//   values [layer][block][head][slot][dim]
// F32 and F16 store the values as they are. I8 stores per (token, head) int8 codes plus float
// parameters in side arrays:
//   values: symmetric, x = scale * q, scale = max|x| / 127;
//   keys:   first rotated by an orthonormal Hadamard transform (rotate_keys(); spreads outlier
//           dimensions over the head so one large dim no longer coarsens the others' grid),
//           then asymmetric, x' = scale * q + zero over [min, max]. Scores are invariant:
//           q.k == H(q).H(k), so attention rotates its queries instead of un-rotating keys.
// At head_dim 64 that is 64+8 (K) and 64+4 (V) bytes against 128 + 128 for F16 (0.55x).
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
  DType dtype = DType::F32;  // F32, F16, or I8 (see above)
};

// One kv head's keys in one block: data is [head_dim][block_size] elements of the cache type;
// for I8, per slot x' = scale[slot] * q + zero[slot] in the rotated basis (else both null).
struct KeyBlockView {
  const void* data = nullptr;
  const float* scale = nullptr;
  const float* zero = nullptr;
};
// One kv head's values in one block: data is [block_size][head_dim]; for I8 x = scale[slot] * q.
struct ValueBlockView {
  const void* data = nullptr;
  const float* scale = nullptr;
};

class KVCache {
 public:
  static Result<std::unique_ptr<KVCache>> create(const KVCacheConfig& config);

  const KVCacheConfig& config() const { return cfg_; }
  BlockPool& pool() { return pool_; }
  const BlockPool& pool() const { return pool_; }
  int64_t row_elems() const { return static_cast<int64_t>(cfg_.n_kv_heads) * cfg_.head_dim; }
  // All K and V storage, I8 parameters included.
  size_t bytes() const { return bytes_; }

  // Writes one token's keys and values (row_elems() floats each) into (block, slot).
  void store(int32_t layer, int32_t block, int32_t slot, const float* k, const float* v);
  // Reads one kv head of one token as floats (head_dim values, keys in the original basis).
  void load_k(int32_t layer, int32_t block, int32_t slot, int32_t head, float* out) const;
  void load_v(int32_t layer, int32_t block, int32_t slot, int32_t head, float* out) const;
  // Whole-block views for attention.
  KeyBlockView key_block(int32_t layer, int32_t block, int32_t head) const;
  ValueBlockView value_block(int32_t layer, int32_t block, int32_t head) const;
  // True when key_block() holds rotate_keys()'d keys (I8): queries must be rotated too.
  bool keys_rotated() const { return cfg_.dtype == DType::I8; }

  // The orthonormal Walsh-Hadamard transform on consecutive power-of-two pieces of x (the
  // largest power of two dividing n; a no-op for odd n). It is its own inverse.
  static void rotate_keys(float* x, int32_t n);

 private:
  KVCache(const KVCacheConfig& c);
  // Index of (layer, block, head) among all head-blocks; checks the ranges.
  size_t head_block(int32_t layer, int32_t block, int32_t head) const;

  KVCacheConfig cfg_;
  BlockPool pool_;
  size_t elem_bytes_ = 0;        // bytes per stored value
  size_t head_block_elems_ = 0;  // block_size * head_dim
  size_t bytes_ = 0;
  struct FreeDeleter {
    void operator()(void* p) const;
  };
  // calloc'd: untouched pages cost nothing.
  std::shared_ptr<void> k_mem_, v_mem_;  // core/large_buffer.h: lazily zeroed, on huge pages
  uint8_t* k_ = nullptr;
  uint8_t* v_ = nullptr;
  std::unique_ptr<float[], FreeDeleter> k_scale_, k_zero_, v_scale_;  // I8 only: [head_block][slot]
};

}  // namespace autoglm::kv
