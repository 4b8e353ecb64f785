// IQ4_NL and IQ4_XS: 4-bit indices into a fixed non-uniform grid (kIQ4Values) with one f16
// scale per 32 elements (IQ4_NL) or an f16 scale and a 6-bit factor per 32 elements of a
// 256-element super-block (IQ4_XS). llama.cpp writes them for IQ4_NL / IQ4_XS files and for
// rows other types cannot hold; they need no importance matrix.
//
// The quantizers search the scale: the grid is asymmetric (-127 .. 113), so both signs of the
// scale are tried, each with targets around the grid's end for the largest element, keeping the
// one whose least-squares refit (weights x^2, so the large elements that dominate a dot are
// kept best) explains most of the block. Files from other writers need not match these bytes;
// their dequantization does (tests/quant/gguf_reference_test.cpp against gguf-py).
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/rows.h"

namespace autoglm::quant {
namespace {

int nearest_index(float v) {
  int best = 0;
  float err = std::fabs(v - kIQ4Values[0]);
  for (int i = 1; i < 16; ++i) {
    const float e = std::fabs(v - kIQ4Values[i]);
    if (e < err) {
      err = e;
      best = i;
    }
  }
  return best;
}

// The scale (of kIQ4Values units) that best fits the 32 values x: 0 for an all-zero block.
float fit_scale(const float* x) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < kQK; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  if (!(amax > 1e-30f) || !std::isfinite(amax)) return 0.0f;
  float best_d = max / 127.0f, best_score = -1.0f;
  for (const float end : {-127.0f, 113.0f}) {
    for (int step = -6; step <= 6; ++step) {
      const float id = (end + static_cast<float>(step)) / max;  // max lands near the grid's end
      double sxv = 0, svv = 0;
      for (int j = 0; j < kQK; ++j) {
        const double w = static_cast<double>(x[j]) * x[j];
        const double v = kIQ4Values[nearest_index(id * x[j])];
        sxv += w * x[j] * v;
        svv += w * v * v;
      }
      if (svv > 0 && sxv * sxv / svv > best_score) {  // error = sum w x^2 - sxv^2 / svv
        best_score = static_cast<float>(sxv * sxv / svv);
        best_d = static_cast<float>(sxv / svv);
      }
    }
  }
  return best_d;
}

// The nibbles of 32 values at scale d, laid out as Q4_0's.
void store_nibbles(const float* x, float d, uint8_t* qs) {
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < kQK / 2; ++j) {
    const int lo = nearest_index(id * x[j]), hi = nearest_index(id * x[j + kQK / 2]);
    qs[j] = static_cast<uint8_t>(lo | hi << 4);
  }
}

// The exact dot of 32 nibble-indexed grid values with 32 int8 activations.
int dot_nibbles(const uint8_t* qs, const int8_t* a) {
  int s = 0;
  for (int j = 0; j < kQK / 2; ++j) {
    s += kIQ4Values[qs[j] & 0xf] * a[j];
    s += kIQ4Values[qs[j] >> 4] * a[j + kQK / 2];
  }
  return s;
}

int xs_factor(const block_iq4_xs& b, int j) { return iq4_xs_ls(b, j) - 32; }

}  // namespace

void dequantize_row_iq4_nl(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const block_iq4_nl*>(src);
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = fp16_to_fp32(b[i].d);
    for (int j = 0; j < kQK / 2; ++j) {
      dst[j] = d * static_cast<float>(kIQ4Values[b[i].qs[j] & 0xf]);
      dst[j + kQK / 2] = d * static_cast<float>(kIQ4Values[b[i].qs[j] >> 4]);
    }
  }
}

void quantize_row_iq4_nl(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<block_iq4_nl*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    b[i].d = fp32_to_fp16(fit_scale(src));
    store_nibbles(src, fp16_to_fp32(b[i].d), b[i].qs);
  }
}

void dequantize_row_iq4_xs(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const block_iq4_xs*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    for (int j = 0; j < kQKK / kQK; ++j, dst += kQK) {
      const float dl = d * static_cast<float>(xs_factor(b[i], j));
      const uint8_t* qs = b[i].qs + 16 * j;
      for (int l = 0; l < kQK / 2; ++l) {
        dst[l] = dl * static_cast<float>(kIQ4Values[qs[l] & 0xf]);
        dst[l + kQK / 2] = dl * static_cast<float>(kIQ4Values[qs[l] >> 4]);
      }
    }
  }
}

// Each sub-block's own best scale, then one f16 d with 6-bit factors (-32..31) that the largest
// scale fills, and the nibbles refit at the scale each sub-block gets.
void quantize_row_iq4_xs(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<block_iq4_xs*>(dst);
  constexpr int kSub = kQKK / kQK;
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    float scales[kSub], max_scale = 0.0f;
    for (int j = 0; j < kSub; ++j) {
      scales[j] = fit_scale(src + kQK * j);
      if (std::fabs(scales[j]) > std::fabs(max_scale)) max_scale = scales[j];
    }
    std::memset(&b[i], 0, sizeof b[i]);
    b[i].d = fp32_to_fp16(-max_scale / 32.0f);
    const float d = fp16_to_fp32(b[i].d);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int j = 0; j < kSub; ++j) {
      int l = static_cast<int>(std::lround(id * scales[j]));
      l = l < -32 ? -32 : l > 31 ? 31 : l;
      const int ls = l + 32;
      b[i].scales_l[j / 2] = static_cast<uint8_t>(b[i].scales_l[j / 2] | (ls & 0xf) << (4 * (j % 2)));
      b[i].scales_h = static_cast<uint16_t>(b[i].scales_h | (ls >> 4) << (2 * j));
      store_nibbles(src + kQK * j, d * static_cast<float>(l), b[i].qs + 16 * j);
    }
  }
}

float vec_dot_iq4_nl_q8_0(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_iq4_nl*>(vx);
  const auto* y = static_cast<const block_q8_0*>(vy);
  double acc = 0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    acc += static_cast<double>(fp16_to_fp32(x[i].d)) * fp16_to_fp32(y[i].d) * dot_nibbles(x[i].qs, y[i].qs);
  }
  return static_cast<float>(acc);
}

float vec_dot_iq4_xs_q8_K(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_iq4_xs*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  double acc = 0;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    int64_t sumi = 0;
    for (int j = 0; j < kQKK / kQK; ++j) {
      sumi += static_cast<int64_t>(xs_factor(x[i], j)) * dot_nibbles(x[i].qs + 16 * j, y[i].qs + kQK * j);
    }
    acc += static_cast<double>(fp16_to_fp32(x[i].d)) * y[i].d * static_cast<double>(sumi);
  }
  return static_cast<float>(acc);
}

}  // namespace autoglm::quant
