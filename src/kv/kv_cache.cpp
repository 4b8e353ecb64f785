#include "kv/kv_cache.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include <unistd.h>

#include "core/check.h"
#include "core/checked_math.h"
#include "core/large_buffer.h"
#include "quant/half.h"

namespace autoglm::kv {

namespace {

int8_t round_code(float x, float lo, float hi) { return static_cast<int8_t>(std::clamp(std::nearbyint(x), lo, hi)); }

// Symmetric int8 of n values with stride `step` between codes: returns the scale.
float quantize_sym(const float* x, int32_t n, int8_t* q, size_t step) {
  float amax = 0.0f;
  for (int32_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float scale = amax / 127.0f;
  const float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
  for (int32_t i = 0; i < n; ++i) q[static_cast<size_t>(i) * step] = round_code(x[i] * inv, -127.0f, 127.0f);
  return scale;
}

// Asymmetric int8 over [min, max]: x = scale * q + zero with q in [-128, 127].
void quantize_asym(const float* x, int32_t n, int8_t* q, size_t step, float* scale_out, float* zero_out) {
  float lo = x[0], hi = x[0];
  for (int32_t i = 1; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  const float scale = (hi - lo) / 255.0f;
  const float zero = lo + 128.0f * scale;
  const float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
  for (int32_t i = 0; i < n; ++i) q[static_cast<size_t>(i) * step] = round_code((x[i] - zero) * inv, -128.0f, 127.0f);
  *scale_out = scale;
  *zero_out = scale > 0.0f ? zero : lo;  // a constant head stores its value exactly
}

}  // namespace

void KVCache::rotate_keys(float* x, int32_t n) {
  int32_t p = 1;
  while (p < n && n % (2 * p) == 0) p *= 2;
  if (p == 1) return;
  const float norm = 1.0f / std::sqrt(static_cast<float>(p));
  for (int32_t b = 0; b < n; b += p) {
    float* y = x + b;
    for (int32_t len = 1; len < p; len *= 2) {
      for (int32_t i = 0; i < p; i += 2 * len) {
        for (int32_t j = i; j < i + len; ++j) {
          const float a = y[j], c = y[j + len];
          y[j] = a + c;
          y[j + len] = a - c;
        }
      }
    }
    for (int32_t i = 0; i < p; ++i) y[i] *= norm;
  }
}

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
  std::unique_ptr<KVCache> cache(new KVCache(c));
  const size_t head_blocks = static_cast<size_t>(c.n_layers) * c.n_blocks * c.n_kv_heads;
  const size_t side = head_blocks * cache->head_block_elems_ * cache->elem_bytes_;
  const size_t params = c.dtype == DType::I8 ? head_blocks * static_cast<size_t>(c.block_size) : 0;
  cache->bytes_ = 2 * side + 3 * params * sizeof(float);
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  const double gib = 1024.0 * 1024.0 * 1024.0;
  if (pages > 0 && page > 0 && static_cast<double>(cache->bytes_) > static_cast<double>(pages) * static_cast<double>(page)) {
    return ResourceExhausted("the KV cache needs " + std::to_string(static_cast<double>(cache->bytes_) / gib) +
                             " GiB but this machine has " +
                             std::to_string(static_cast<double>(pages) * static_cast<double>(page) / gib) +
                             " GiB; lower --ctx-size or --parallel");
  }
  cache->k_mem_ = allocate_lazy_zeroed(side);
  cache->v_mem_ = allocate_lazy_zeroed(side);
  if (!cache->k_mem_ || !cache->v_mem_) return ResourceExhausted("out of memory allocating the KV cache");
  cache->k_ = static_cast<uint8_t*>(cache->k_mem_.get());
  cache->v_ = static_cast<uint8_t*>(cache->v_mem_.get());
  if (params > 0) {
    cache->k_scale_.reset(static_cast<float*>(std::calloc(params, sizeof(float))));
    cache->k_zero_.reset(static_cast<float*>(std::calloc(params, sizeof(float))));
    cache->v_scale_.reset(static_cast<float*>(std::calloc(params, sizeof(float))));
    if (!cache->k_scale_ || !cache->k_zero_ || !cache->v_scale_) {
      return ResourceExhausted("out of memory allocating the KV cache");
    }
  }
  return cache;
}

void KVCache::FreeDeleter::operator()(void* p) const { std::free(p); }

KVCache::KVCache(const KVCacheConfig& c)
    : cfg_(c),
      pool_(c.n_blocks),
      elem_bytes_(c.dtype == DType::I8 ? 1 : dtype_info(c.dtype).type_size),
      head_block_elems_(static_cast<size_t>(c.block_size) * static_cast<size_t>(c.head_dim)) {}

size_t KVCache::head_block(int32_t layer, int32_t block, int32_t head) const {
  AG_CHECK(layer >= 0 && layer < cfg_.n_layers && block >= 0 && block < cfg_.n_blocks && head >= 0 &&
           head < cfg_.n_kv_heads);
  return (static_cast<size_t>(layer) * cfg_.n_blocks + block) * cfg_.n_kv_heads + head;
}

void KVCache::store(int32_t layer, int32_t block, int32_t slot, const float* k, const float* v) {
  AG_CHECK(slot >= 0 && slot < cfg_.block_size);
  const int32_t hd = cfg_.head_dim;
  const size_t bs = static_cast<size_t>(cfg_.block_size), s = static_cast<size_t>(slot);
  thread_local std::vector<float> rotated;
  if (cfg_.dtype == DType::I8) rotated.resize(static_cast<size_t>(hd));
  for (int32_t h = 0; h < cfg_.n_kv_heads; ++h) {
    const size_t hb = head_block(layer, block, h);
    const float* kh = k + static_cast<int64_t>(h) * hd;
    const float* vh = v + static_cast<int64_t>(h) * hd;
    uint8_t* kd = &k_[hb * head_block_elems_ * elem_bytes_];  // [dim][slot]
    uint8_t* vd = &v_[(hb * head_block_elems_ + s * static_cast<size_t>(hd)) * elem_bytes_];  // row of `slot`
    switch (cfg_.dtype) {
      case DType::F32:
        for (int32_t i = 0; i < hd; ++i) reinterpret_cast<float*>(kd)[static_cast<size_t>(i) * bs + s] = kh[i];
        std::memcpy(vd, vh, static_cast<size_t>(hd) * sizeof(float));
        break;
      case DType::F16:
        for (int32_t i = 0; i < hd; ++i) {
          reinterpret_cast<uint16_t*>(kd)[static_cast<size_t>(i) * bs + s] = quant::fp32_to_fp16(kh[i]);
          reinterpret_cast<uint16_t*>(vd)[i] = quant::fp32_to_fp16(vh[i]);
        }
        break;
      default: {
        const size_t p = hb * bs + s;
        std::copy(kh, kh + hd, rotated.begin());
        rotate_keys(rotated.data(), hd);
        quantize_asym(rotated.data(), hd, reinterpret_cast<int8_t*>(kd) + s, bs, &k_scale_[p], &k_zero_[p]);
        v_scale_[p] = quantize_sym(vh, hd, reinterpret_cast<int8_t*>(vd), 1);
        break;
      }
    }
  }
}

void KVCache::load_k(int32_t layer, int32_t block, int32_t slot, int32_t head, float* out) const {
  AG_CHECK(slot >= 0 && slot < cfg_.block_size);
  const KeyBlockView kb = key_block(layer, block, head);
  const size_t bs = static_cast<size_t>(cfg_.block_size), s = static_cast<size_t>(slot);
  for (int32_t i = 0; i < cfg_.head_dim; ++i) {
    const size_t at = static_cast<size_t>(i) * bs + s;
    switch (cfg_.dtype) {
      case DType::F32: out[i] = static_cast<const float*>(kb.data)[at]; break;
      case DType::F16: out[i] = quant::fp16_to_fp32(static_cast<const uint16_t*>(kb.data)[at]); break;
      default: out[i] = kb.scale[s] * static_cast<float>(static_cast<const int8_t*>(kb.data)[at]) + kb.zero[s]; break;
    }
  }
  if (keys_rotated()) rotate_keys(out, cfg_.head_dim);
}

void KVCache::load_v(int32_t layer, int32_t block, int32_t slot, int32_t head, float* out) const {
  AG_CHECK(slot >= 0 && slot < cfg_.block_size);
  const ValueBlockView vb = value_block(layer, block, head);
  const size_t at = static_cast<size_t>(slot) * static_cast<size_t>(cfg_.head_dim);
  for (int32_t i = 0; i < cfg_.head_dim; ++i) {
    switch (cfg_.dtype) {
      case DType::F32: out[i] = static_cast<const float*>(vb.data)[at + static_cast<size_t>(i)]; break;
      case DType::F16: out[i] = quant::fp16_to_fp32(static_cast<const uint16_t*>(vb.data)[at + static_cast<size_t>(i)]); break;
      default: out[i] = vb.scale[slot] * static_cast<float>(static_cast<const int8_t*>(vb.data)[at + static_cast<size_t>(i)]); break;
    }
  }
}

KeyBlockView KVCache::key_block(int32_t layer, int32_t block, int32_t head) const {
  const size_t hb = head_block(layer, block, head);
  KeyBlockView r;
  r.data = &k_[hb * head_block_elems_ * elem_bytes_];
  if (cfg_.dtype == DType::I8) {
    r.scale = &k_scale_[hb * static_cast<size_t>(cfg_.block_size)];
    r.zero = &k_zero_[hb * static_cast<size_t>(cfg_.block_size)];
  }
  return r;
}

ValueBlockView KVCache::value_block(int32_t layer, int32_t block, int32_t head) const {
  const size_t hb = head_block(layer, block, head);
  ValueBlockView r;
  r.data = &v_[hb * head_block_elems_ * elem_bytes_];
  if (cfg_.dtype == DType::I8) r.scale = &v_scale_[hb * static_cast<size_t>(cfg_.block_size)];
  return r;
}

}  // namespace autoglm::kv
