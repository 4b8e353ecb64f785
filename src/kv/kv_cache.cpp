#include "kv/kv_cache.h"

#include <cstring>

#include "core/check.h"
#include "core/checked_math.h"
#include "quant/half.h"

namespace autoglm::kv {

Result<std::unique_ptr<KVCache>> KVCache::create(const KVCacheConfig& c) {
  if (c.n_layers <= 0 || c.n_kv_heads <= 0 || c.head_dim <= 0 || c.block_size <= 0 || c.n_blocks <= 0) {
    return InvalidArgument("KV cache: every dimension must be positive");
  }
  if (c.dtype != DType::F32 && c.dtype != DType::F16) {
    return Unsupported(std::string("KV cache type ") + dtype_name(c.dtype) + " (use f32 or f16)");
  }
  uint64_t elems = 1;
  for (int64_t d : {int64_t{c.n_layers}, int64_t{c.n_blocks}, int64_t{c.block_size}, int64_t{c.n_kv_heads},
                    int64_t{c.head_dim}, int64_t{static_cast<int64_t>(dtype_info(c.dtype).type_size)}}) {
    auto m = checked_mul(elems, static_cast<uint64_t>(d));
    if (!m) return ResourceExhausted("KV cache size overflows");
    elems = *m;
  }
  if (elems > (uint64_t{1} << 40)) return ResourceExhausted("KV cache would exceed 1 TiB; lower --ctx-size");
  return std::unique_ptr<KVCache>(new KVCache(c));
}

KVCache::KVCache(const KVCacheConfig& c)
    : cfg_(c), pool_(c.n_blocks), elem_size_(dtype_info(c.dtype).type_size) {
  size_t n = static_cast<size_t>(c.n_layers) * c.n_blocks * c.block_size * c.n_kv_heads * c.head_dim * elem_size_;
  k_.assign(n, 0);
  v_.assign(n, 0);
}

size_t KVCache::offset(int32_t layer, int32_t block, int32_t slot) const {
  AG_CHECK(layer >= 0 && layer < cfg_.n_layers && block >= 0 && block < cfg_.n_blocks && slot >= 0 &&
           slot < cfg_.block_size);
  size_t row = (static_cast<size_t>(layer) * cfg_.n_blocks + block) * cfg_.block_size + slot;
  return row * static_cast<size_t>(row_elems()) * elem_size_;
}

void KVCache::store(int32_t layer, int32_t block, int32_t slot, const float* k, const float* v) {
  size_t off = offset(layer, block, slot);
  int64_t n = row_elems();
  if (cfg_.dtype == DType::F32) {
    std::memcpy(&k_[off], k, static_cast<size_t>(n) * sizeof(float));
    std::memcpy(&v_[off], v, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  auto* kd = reinterpret_cast<uint16_t*>(&k_[off]);
  auto* vd = reinterpret_cast<uint16_t*>(&v_[off]);
  for (int64_t i = 0; i < n; ++i) {
    kd[i] = quant::fp32_to_fp16(k[i]);
    vd[i] = quant::fp32_to_fp16(v[i]);
  }
}

namespace {
void load_head(const std::vector<uint8_t>& buf, size_t off, DType t, int32_t head, int32_t head_dim, float* out) {
  if (t == DType::F32) {
    std::memcpy(out, &buf[off] + static_cast<size_t>(head) * head_dim * sizeof(float), static_cast<size_t>(head_dim) * sizeof(float));
    return;
  }
  const auto* src = reinterpret_cast<const uint16_t*>(&buf[off]) + static_cast<size_t>(head) * head_dim;
  for (int32_t i = 0; i < head_dim; ++i) out[i] = quant::fp16_to_fp32(src[i]);
}
}  // namespace

void KVCache::load_k(int32_t layer, int32_t block, int32_t slot, int32_t head, float* out) const {
  load_head(k_, offset(layer, block, slot), cfg_.dtype, head, cfg_.head_dim, out);
}

void KVCache::load_v(int32_t layer, int32_t block, int32_t slot, int32_t head, float* out) const {
  load_head(v_, offset(layer, block, slot), cfg_.dtype, head, cfg_.head_dim, out);
}

const float* KVCache::k_row_f32(int32_t layer, int32_t block, int32_t slot) const {
  AG_CHECK(cfg_.dtype == DType::F32);
  return reinterpret_cast<const float*>(&k_[offset(layer, block, slot)]);
}

const float* KVCache::v_row_f32(int32_t layer, int32_t block, int32_t slot) const {
  AG_CHECK(cfg_.dtype == DType::F32);
  return reinterpret_cast<const float*>(&v_[offset(layer, block, slot)]);
}

}  // namespace autoglm::kv
