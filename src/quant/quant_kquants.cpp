// K-quant dequantization (Q2_K..Q6_K, Q8_K) and dots with Q8_K activations. The float expression
// order, (d * sc) * q - (dmin * m), is part of the format: it is what makes dequantization
// bit-exact with other GGUF readers.
#include "quant/kquant_decode.h"
#include "quant/rows.h"

namespace autoglm::quant {
namespace {

void dequantize_kblock(const detail::KBlock& k, float* dst) {
  const int sub = kQKK / k.nsub;
  for (int s = 0; s < k.nsub; ++s) {
    const float dl = k.d * static_cast<float>(k.sc[s]);
    const float ml = k.dmin * static_cast<float>(k.m[s]);
    for (int l = 0; l < sub; ++l) {
      const float v = dl * static_cast<float>(k.q[s * sub + l]);
      dst[s * sub + l] = k.has_min ? v - ml : v;
    }
  }
}

template <typename Block>
void dequantize_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const Block*>(src);
  detail::KBlock k;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    detail::decode(b[i], &k);
    dequantize_kblock(k, dst + i * kQKK);
  }
}

// sum_s d*dy*sc[s]*sum(q*yq) - dmin*dy*m[s]*sum(yq), with exact integer inner sums. The activation
// sums come from Q8_K's bsums (16-element groups), so a wrong bsums shows up here.
template <typename Block>
float vec_dot_k(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const Block*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  detail::KBlock k;
  double acc = 0;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    detail::decode(x[i], &k);
    const int sub = kQKK / k.nsub;
    int64_t sum_q = 0, sum_m = 0;
    for (int s = 0; s < k.nsub; ++s) {
      int dot = 0;
      for (int l = 0; l < sub; ++l) dot += k.q[s * sub + l] * y[i].qs[s * sub + l];
      sum_q += static_cast<int64_t>(k.sc[s]) * dot;
      if (k.has_min) {
        int ysum = 0;
        for (int g = s * sub / 16; g < (s + 1) * sub / 16; ++g) ysum += y[i].bsums[g];
        sum_m += static_cast<int64_t>(k.m[s]) * ysum;
      }
    }
    const double dy = y[i].d;
    acc += dy * (static_cast<double>(k.d) * static_cast<double>(sum_q) -
                 static_cast<double>(k.dmin) * static_cast<double>(sum_m));
  }
  return static_cast<float>(acc);
}

}  // namespace

void dequantize_row_q2_K(const void* src, float* dst, int64_t n) { dequantize_k<block_q2_K>(src, dst, n); }
void dequantize_row_q3_K(const void* src, float* dst, int64_t n) { dequantize_k<block_q3_K>(src, dst, n); }
void dequantize_row_q4_K(const void* src, float* dst, int64_t n) { dequantize_k<block_q4_K>(src, dst, n); }
void dequantize_row_q5_K(const void* src, float* dst, int64_t n) { dequantize_k<block_q5_K>(src, dst, n); }
void dequantize_row_q6_K(const void* src, float* dst, int64_t n) { dequantize_k<block_q6_K>(src, dst, n); }

void dequantize_row_q8_K(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const block_q8_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i, dst += kQKK) {
    for (int j = 0; j < kQKK; ++j) dst[j] = b[i].d * static_cast<float>(b[i].qs[j]);
  }
}

float vec_dot_q2_K_q8_K(int64_t n, const void* x, const void* y) { return vec_dot_k<block_q2_K>(n, x, y); }
float vec_dot_q3_K_q8_K(int64_t n, const void* x, const void* y) { return vec_dot_k<block_q3_K>(n, x, y); }
float vec_dot_q4_K_q8_K(int64_t n, const void* x, const void* y) { return vec_dot_k<block_q4_K>(n, x, y); }
float vec_dot_q5_K_q8_K(int64_t n, const void* x, const void* y) { return vec_dot_k<block_q5_K>(n, x, y); }
float vec_dot_q6_K_q8_K(int64_t n, const void* x, const void* y) { return vec_dot_k<block_q6_K>(n, x, y); }

}  // namespace autoglm::quant
