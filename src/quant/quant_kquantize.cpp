// K-quant quantizers (Q2_K..Q6_K, Q8_K). Each sub-block gets a least-squares scale (and min for
// the asymmetric formats) chosen among a few candidate grids; then the per-sub-block scales are
// themselves quantized to the format's 4/6/8 bits and the values are re-rounded against the
// scales that will actually be stored. Not bit-identical to other writers (it need not be); the
// dequantization side is what is fixed by the format.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/rows.h"

namespace autoglm::quant {
namespace {

int round_clamp(float v, int lo, int hi) {
  const float r = std::nearbyint(v);
  if (!(r >= static_cast<float>(lo))) return lo;  // also NaN
  if (r >= static_cast<float>(hi)) return hi;
  return static_cast<int>(r);
}

// Asymmetric fit x ~= s * q - m with q in [0, nmax], s >= 0, m >= 0 (the formats store a
// subtracted min, so a positive offset is not representable and is clamped to 0).
void fit_scale_min(const float* x, int n, int nmax, float* scale, float* min_out) {
  float mn = x[0], mx = x[0];
  for (int i = 1; i < n; ++i) {
    mn = std::min(mn, x[i]);
    mx = std::max(mx, x[i]);
  }
  mn = std::min(mn, 0.0f);
  *scale = 0.0f;
  *min_out = -mn;
  if (!(mx > mn)) return;  // constant (or NaN) block: every q = 0
  double best_err = INFINITY;
  for (int step = -8; step <= 8; ++step) {
    const float iscale = (static_cast<float>(nmax) + 0.1f * static_cast<float>(step)) / (mx - mn);
    double sq = 0, sqq = 0, sx = 0, sqx = 0;
    int q[kQKK];
    for (int i = 0; i < n; ++i) {
      q[i] = round_clamp(iscale * (x[i] - mn), 0, nmax);
      sq += q[i];
      sqq += static_cast<double>(q[i]) * q[i];
      sx += x[i];
      sqx += static_cast<double>(q[i]) * x[i];
    }
    if (sqq <= 0) continue;
    const double det = n * sqq - sq * sq;
    // All q equal (e.g. a constant block) leaves the offset undetermined: fit the scale alone.
    double s = det > 0 ? (n * sqx - sq * sx) / det : sqx / sqq;
    double b = det > 0 ? (sqq * sx - sq * sqx) / det : 0.0;
    if (b > 0) {
      b = 0;
      s = sqx / sqq;
    }
    if (s <= 0) continue;
    double err = 0;
    for (int i = 0; i < n; ++i) {
      const double e = s * q[i] + b - x[i];
      err += e * e;
    }
    if (err < best_err) {
      best_err = err;
      *scale = static_cast<float>(s);
      *min_out = static_cast<float>(-b);
    }
  }
}

// Symmetric fit x ~= s * q with q in [-nmax, nmax - 1]; s may be negative so that the value
// of largest magnitude lands on -nmax, using the extra level.
float fit_scale_sym(const float* x, int n, int nmax) {
  float amax = 0.0f, max = 0.0f;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (!(amax > 0.0f)) return 0.0f;
  float best_s = -max / static_cast<float>(nmax);
  double best_err = INFINITY;
  for (int step = -9; step <= 9; ++step) {
    const float iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(step)) / max;
    double sqq = 0, sqx = 0;
    int q[kQKK];
    for (int i = 0; i < n; ++i) {
      q[i] = round_clamp(iscale * x[i], -nmax, nmax - 1);
      sqq += static_cast<double>(q[i]) * q[i];
      sqx += static_cast<double>(q[i]) * x[i];
    }
    if (sqq <= 0) continue;
    const double s = sqx / sqq;
    double err = 0;
    for (int i = 0; i < n; ++i) {
      const double e = s * q[i] - x[i];
      err += e * e;
    }
    if (err < best_err) {
      best_err = err;
      best_s = static_cast<float>(s);
    }
  }
  return best_s;
}

// Quantizes non-negative per-sub-block values v[0..n) to integers in [0, qmax] with one shared
// f16 multiplier; returns the stored f16 bits.
uint16_t quantize_unsigned_scales(const float* v, int n, int qmax, uint8_t* out) {
  float vmax = 0.0f;
  for (int i = 0; i < n; ++i) vmax = std::max(vmax, v[i]);
  if (!(vmax > 0.0f)) {
    std::fill(out, out + n, 0);
    return 0;
  }
  // Round against the multiplier as stored (f16), so its rounding is absorbed by the integers.
  const uint16_t d16 = fp32_to_fp16(vmax / static_cast<float>(qmax));
  const float d = fp16_to_fp32(d16);
  for (int i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(d > 0.0f ? round_clamp(v[i] / d, 0, qmax) : 0);
  return d16;
}

// Common asymmetric path for Q2_K / Q4_K / Q5_K: per sub-block ints q[256] (0..nmax), scale
// indices ls[], min indices lm[], and the stored f16 d / dmin.
struct AsymResult {
  uint8_t q[kQKK];
  uint8_t ls[16];
  uint8_t lm[16];
  uint16_t d;
  uint16_t dmin;
};

void quantize_asym_block(const float* x, int nsub, int nmax, int scale_max, AsymResult* r) {
  const int sub = kQKK / nsub;
  float scales[16], mins[16];
  for (int s = 0; s < nsub; ++s) fit_scale_min(x + s * sub, sub, nmax, &scales[s], &mins[s]);
  r->d = quantize_unsigned_scales(scales, nsub, scale_max, r->ls);
  r->dmin = quantize_unsigned_scales(mins, nsub, scale_max, r->lm);
  const float d = fp16_to_fp32(r->d), dmin = fp16_to_fp32(r->dmin);
  for (int s = 0; s < nsub; ++s) {
    const float dl = d * static_cast<float>(r->ls[s]);
    const float ml = dmin * static_cast<float>(r->lm[s]);
    for (int l = 0; l < sub; ++l) {
      const int e = s * sub + l;
      r->q[e] = static_cast<uint8_t>(dl > 0.0f ? round_clamp((x[e] + ml) / dl, 0, nmax) : 0);
    }
  }
}

// Common symmetric path for Q3_K / Q6_K: 16 sub-blocks of 16, q in [-nmax, nmax-1], signed
// integer scales in [-smax, smax-1] with one f16 multiplier.
void quantize_sym_block(const float* x, int nmax, int smax, int8_t* q, int* ls, uint16_t* d_out) {
  float scales[16];
  float max_scale = 0.0f, amax = 0.0f;
  for (int s = 0; s < 16; ++s) {
    scales[s] = fit_scale_sym(x + 16 * s, 16, nmax);
    if (std::fabs(scales[s]) > amax) {
      amax = std::fabs(scales[s]);
      max_scale = scales[s];
    }
  }
  if (!(amax > 0.0f)) {
    *d_out = 0;
    std::fill(ls, ls + 16, 0);
    std::fill(q, q + kQKK, 0);
    return;
  }
  // The largest-magnitude scale maps to -smax; integers are rounded against the stored f16 d.
  *d_out = fp32_to_fp16(max_scale / -static_cast<float>(smax));
  const float d = fp16_to_fp32(*d_out);
  for (int s = 0; s < 16; ++s) ls[s] = d != 0.0f ? round_clamp(scales[s] / d, -smax, smax - 1) : 0;
  for (int s = 0; s < 16; ++s) {
    const float dl = d * static_cast<float>(ls[s]);
    for (int l = 0; l < 16; ++l) {
      const int e = 16 * s + l;
      q[e] = static_cast<int8_t>(dl != 0.0f ? round_clamp(x[e] / dl, -nmax, nmax - 1) : 0);
    }
  }
}

}  // namespace

void quantize_row_q2_K(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<block_q2_K*>(dst);
  AsymResult r;
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    quantize_asym_block(src, 16, 3, 15, &r);
    b[i].d = r.d;
    b[i].dmin = r.dmin;
    for (int s = 0; s < 16; ++s) b[i].scales[s] = static_cast<uint8_t>(r.ls[s] | (r.lm[s] << 4));
    std::memset(b[i].qs, 0, sizeof(b[i].qs));
    for (int e = 0; e < kQKK; ++e) {
      const int h = e / 128, g = (e % 128) / 32, l = e % 32;
      b[i].qs[32 * h + l] = static_cast<uint8_t>(b[i].qs[32 * h + l] | (r.q[e] << (2 * g)));
    }
  }
}

void quantize_row_q3_K(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<block_q3_K*>(dst);
  int8_t q[kQKK];
  int ls[16];
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    quantize_sym_block(src, 4, 32, q, ls, &b[i].d);
    std::memset(b[i].scales, 0, sizeof(b[i].scales));
    for (int s = 0; s < 16; ++s) {
      const int v = ls[s] + 32;
      b[i].scales[s % 8] = static_cast<uint8_t>(b[i].scales[s % 8] | ((v & 0xf) << (4 * (s / 8))));
      b[i].scales[8 + s % 4] = static_cast<uint8_t>(b[i].scales[8 + s % 4] | ((v >> 4) << (2 * (s / 4))));
    }
    std::memset(b[i].qs, 0, sizeof(b[i].qs));
    std::memset(b[i].hmask, 0, sizeof(b[i].hmask));
    for (int e = 0; e < kQKK; ++e) {
      const int u = q[e] + 4;  // 0..7: bit 2 goes to hmask, set means "no -4"
      const int h = e / 128, g = (e % 128) / 32, l = e % 32;
      b[i].qs[32 * h + l] = static_cast<uint8_t>(b[i].qs[32 * h + l] | ((u & 3) << (2 * g)));
      b[i].hmask[l] = static_cast<uint8_t>(b[i].hmask[l] | ((u >> 2) << (e / 32)));
    }
  }
}

void quantize_row_q4_K(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<block_q4_K*>(dst);
  AsymResult r;
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    quantize_asym_block(src, 8, 15, 63, &r);
    b[i].d = r.d;
    b[i].dmin = r.dmin;
    pack_scale_min_k4(r.ls, r.lm, b[i].scales);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        b[i].qs[32 * c + l] = static_cast<uint8_t>(r.q[64 * c + l] | (r.q[64 * c + 32 + l] << 4));
      }
    }
  }
}

void quantize_row_q5_K(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<block_q5_K*>(dst);
  AsymResult r;
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    quantize_asym_block(src, 8, 31, 63, &r);
    b[i].d = r.d;
    b[i].dmin = r.dmin;
    pack_scale_min_k4(r.ls, r.lm, b[i].scales);
    std::memset(b[i].qh, 0, sizeof(b[i].qh));
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int q0 = r.q[64 * c + l], q1 = r.q[64 * c + 32 + l];
        b[i].qs[32 * c + l] = static_cast<uint8_t>((q0 & 0xf) | ((q1 & 0xf) << 4));
        b[i].qh[l] = static_cast<uint8_t>(b[i].qh[l] | ((q0 >> 4) << (2 * c)) | ((q1 >> 4) << (2 * c + 1)));
      }
    }
  }
}

void quantize_row_q6_K(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<block_q6_K*>(dst);
  int8_t q[kQKK];
  int ls[16];
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    quantize_sym_block(src, 32, 128, q, ls, &b[i].d);
    for (int s = 0; s < 16; ++s) b[i].scales[s] = static_cast<int8_t>(ls[s]);
    std::memset(b[i].ql, 0, sizeof(b[i].ql));
    std::memset(b[i].qh, 0, sizeof(b[i].qh));
    for (int e = 0; e < kQKK; ++e) {
      const int u = q[e] + 32;  // 0..63
      const int h = e / 128, g = (e % 128) / 32, l = e % 32;
      uint8_t& lo = b[i].ql[64 * h + 32 * (g & 1) + l];
      lo = static_cast<uint8_t>(lo | ((u & 0xf) << (4 * (g >> 1))));
      uint8_t& hi = b[i].qh[32 * h + l];
      hi = static_cast<uint8_t>(hi | ((u >> 4) << (2 * g)));
    }
  }
}

// Q8_K: the value of largest magnitude maps to -127 exactly (round to nearest even elsewhere);
// bsums hold 16-element group sums for the K-quant dots' min terms.
void quantize_row_q8_K(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<block_q8_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQKK; ++j) {
      if (std::fabs(src[j]) > amax) {
        amax = std::fabs(src[j]);
        max = src[j];
      }
    }
    if (!(amax > 0.0f) || !std::isfinite(amax)) {
      b[i].d = 0.0f;
      std::memset(b[i].qs, 0, sizeof(b[i].qs));
      std::memset(b[i].bsums, 0, sizeof(b[i].bsums));
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQKK; ++j) b[i].qs[j] = static_cast<int8_t>(round_clamp(iscale * src[j], -127, 127));
    for (int g = 0; g < kQKK / 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += b[i].qs[16 * g + l];
      b[i].bsums[g] = static_cast<int16_t>(sum);
    }
    b[i].d = 1.0f / iscale;
  }
}

}  // namespace autoglm::quant
