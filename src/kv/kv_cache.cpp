#include "kv/kv_cache.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include <unistd.h>

#include "core/check.h"
#include "core/checked_math.h"
#include "quant/half.h"

namespace autoglm::kv {

namespace {

size_t row_bytes_for(const KVCacheConfig& c) {
  const size_t heads = static_cast<size_t>(c.n_kv_heads), hd = static_cast<size_t>(c.head_dim);
  if (c.dtype == DType::I8) return heads * (sizeof(uint16_t) + hd);
  return heads * hd * dtype_info(c.dtype).type_size;
}

void store_row(DType t, int32_t heads, int32_t hd, const float* src, uint8_t* dst) {
  const int64_t n = int64_t{heads} * hd;
  if (t == DType::F32) {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
  } else if (t == DType::F16) {
    auto* d = reinterpret_cast<uint16_t*>(dst);
    for (int64_t i = 0; i < n; ++i) d[i] = quant::fp32_to_fp16(src[i]);
  } else {
    for (int32_t h = 0; h < heads; ++h) {
      const float* x = src + int64_t{h} * hd;
      uint8_t* out = dst + static_cast<size_t>(h) * (sizeof(uint16_t) + static_cast<size_t>(hd));
      float amax = 0.0f;
      for (int32_t i = 0; i < hd; ++i) amax = std::max(amax, std::fabs(x[i]));
      const uint16_t scale_h = quant::fp32_to_fp16(amax / 127.0f);
      const float scale = quant::fp16_to_fp32(scale_h);  // quantize against the stored scale
      std::memcpy(out, &scale_h, sizeof(scale_h));
      auto* q = reinterpret_cast<int8_t*>(out + sizeof(uint16_t));
      const float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
      for (int32_t i = 0; i < hd; ++i) {
        q[i] = static_cast<int8_t>(std::clamp(std::lround(x[i] * inv), -127L, 127L));
      }
    }
  }
}

void load_head(const uint8_t* row, DType t, int32_t head, int32_t hd, float* out) {
  if (t == DType::F32) {
    std::memcpy(out, row + static_cast<size_t>(head) * hd * sizeof(float), static_cast<size_t>(hd) * sizeof(float));
  } else if (t == DType::F16) {
    const auto* src = reinterpret_cast<const uint16_t*>(row) + static_cast<size_t>(head) * hd;
    for (int32_t i = 0; i < hd; ++i) out[i] = quant::fp16_to_fp32(src[i]);
  } else {
    const uint8_t* p = row + static_cast<size_t>(head) * (sizeof(uint16_t) + static_cast<size_t>(hd));
    uint16_t scale_h;
    std::memcpy(&scale_h, p, sizeof(scale_h));
    const float scale = quant::fp16_to_fp32(scale_h);
    const auto* q = reinterpret_cast<const int8_t*>(p + sizeof(uint16_t));
    for (int32_t i = 0; i < hd; ++i) out[i] = scale * static_cast<float>(q[i]);
  }
}

}  // namespace

Result<std::unique_ptr<KVCache>> KVCache::create(const KVCacheConfig& c) {
  if (c.n_layers <= 0 || c.n_kv_heads <= 0 || c.head_dim <= 0 || c.block_size <= 0 || c.n_blocks <= 0) {
    return InvalidArgument("KV cache: every dimension must be positive");
  }
  if (c.dtype != DType::F32 && c.dtype != DType::F16 && c.dtype != DType::I8) {
    return Unsupported(std::string("KV cache type ") + dtype_name(c.dtype) + " (use f32, f16 or int8)");
  }
  uint64_t bytes = 1;
  for (uint64_t d : {uint64_t(c.n_layers), uint64_t(c.n_blocks), uint64_t(c.block_size), uint64_t(c.n_kv_heads),
                     uint64_t(c.head_dim), uint64_t(4)}) {
    auto m = checked_mul(bytes, d);
    if (!m) return ResourceExhausted("KV cache size overflows");
    bytes = *m;
  }
  if (bytes > (uint64_t{1} << 40)) return ResourceExhausted("KV cache would exceed 1 TiB; lower --ctx-size");
  const size_t n = static_cast<size_t>(c.n_layers) * c.n_blocks * c.block_size * row_bytes_for(c);
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  const double gib = 1024.0 * 1024.0 * 1024.0;
  if (pages > 0 && page > 0 && 2.0 * static_cast<double>(n) > static_cast<double>(pages) * static_cast<double>(page)) {
    return ResourceExhausted("the KV cache needs " + std::to_string(2.0 * static_cast<double>(n) / gib) +
                             " GiB but this machine has " +
                             std::to_string(static_cast<double>(pages) * static_cast<double>(page) / gib) +
                             " GiB; lower --ctx-size or --parallel");
  }
  std::unique_ptr<KVCache> cache(new KVCache(c));
  cache->k_.reset(static_cast<uint8_t*>(std::calloc(n, 1)));
  cache->v_.reset(static_cast<uint8_t*>(std::calloc(n, 1)));
  if (!cache->k_ || !cache->v_) return ResourceExhausted("out of memory allocating the KV cache");
  cache->bytes_per_side_ = n;
  return cache;
}

void KVCache::FreeDeleter::operator()(uint8_t* p) const { std::free(p); }

KVCache::KVCache(const KVCacheConfig& c) : cfg_(c), pool_(c.n_blocks), row_bytes_(row_bytes_for(c)) {}

size_t KVCache::offset(int32_t layer, int32_t block, int32_t slot) const {
  AG_CHECK(layer >= 0 && layer < cfg_.n_layers && block >= 0 && block < cfg_.n_blocks && slot >= 0 &&
           slot < cfg_.block_size);
  const size_t row = (static_cast<size_t>(layer) * cfg_.n_blocks + block) * cfg_.block_size + slot;
  return row * row_bytes_;
}

void KVCache::store(int32_t layer, int32_t block, int32_t slot, const float* k, const float* v) {
  const size_t off = offset(layer, block, slot);
  store_row(cfg_.dtype, cfg_.n_kv_heads, cfg_.head_dim, k, &k_[off]);
  store_row(cfg_.dtype, cfg_.n_kv_heads, cfg_.head_dim, v, &v_[off]);
}

void KVCache::load_k(int32_t layer, int32_t block, int32_t slot, int32_t head, float* out) const {
  load_head(&k_[offset(layer, block, slot)], cfg_.dtype, head, cfg_.head_dim, out);
}

void KVCache::load_v(int32_t layer, int32_t block, int32_t slot, int32_t head, float* out) const {
  load_head(&v_[offset(layer, block, slot)], cfg_.dtype, head, cfg_.head_dim, out);
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
