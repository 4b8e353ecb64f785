// Internal: K-quant super-blocks unpacked to plain integers, so the dequantizer and the dot
// product read the bit layout through one piece of code.
#pragma once

#include <cstdint>

#include "quant/blocks.h"
#include "quant/half.h"

namespace autoglm::quant::detail {

// value[e] = (d * sc[k]) * q[e] - (dmin * m[k]) with k = e / (256 / nsub); m is 0 (and dmin
// unused) for the symmetric formats Q3_K and Q6_K.
struct KBlock {
  int8_t q[kQKK];
  int sc[16];
  int m[16];
  int nsub;
  bool has_min;
  float d;
  float dmin;
};

inline void decode(const block_q2_K& b, KBlock* k) {
  k->nsub = 16;
  k->has_min = true;
  k->d = fp16_to_fp32(b.d);
  k->dmin = fp16_to_fp32(b.dmin);
  for (int i = 0; i < 16; ++i) {
    k->sc[i] = b.scales[i] & 0xf;
    k->m[i] = b.scales[i] >> 4;
  }
  for (int e = 0; e < kQKK; ++e) {
    const int h = e / 128, g = (e % 128) / 32, l = e % 32;
    k->q[e] = static_cast<int8_t>((b.qs[32 * h + l] >> (2 * g)) & 3);
  }
}

inline void decode(const block_q3_K& b, KBlock* k) {
  k->nsub = 16;
  k->has_min = false;
  k->d = fp16_to_fp32(b.d);
  k->dmin = 0.0f;
  for (int i = 0; i < 16; ++i) {
    k->sc[i] = unpack_scale_q3_K(b.scales, i);
    k->m[i] = 0;
  }
  for (int e = 0; e < kQKK; ++e) {
    const int h = e / 128, g = (e % 128) / 32, l = e % 32;
    const int lo = (b.qs[32 * h + l] >> (2 * g)) & 3;
    const int hi = (b.hmask[l] >> (e / 32)) & 1;
    k->q[e] = static_cast<int8_t>(lo - (hi ? 0 : 4));
  }
}

inline void decode(const block_q4_K& b, KBlock* k) {
  k->nsub = 8;
  k->has_min = true;
  k->d = fp16_to_fp32(b.d);
  k->dmin = fp16_to_fp32(b.dmin);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    unpack_scale_min_k4(j, b.scales, &sc, &m);
    k->sc[j] = sc;
    k->m[j] = m;
  }
  for (int e = 0; e < kQKK; ++e) {
    const int c = e / 64, hi = (e % 64) / 32, l = e % 32;
    k->q[e] = static_cast<int8_t>((b.qs[32 * c + l] >> (4 * hi)) & 0xf);
  }
}

inline void decode(const block_q5_K& b, KBlock* k) {
  k->nsub = 8;
  k->has_min = true;
  k->d = fp16_to_fp32(b.d);
  k->dmin = fp16_to_fp32(b.dmin);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    unpack_scale_min_k4(j, b.scales, &sc, &m);
    k->sc[j] = sc;
    k->m[j] = m;
  }
  for (int e = 0; e < kQKK; ++e) {
    const int c = e / 64, hi = (e % 64) / 32, l = e % 32;
    const int lo = (b.qs[32 * c + l] >> (4 * hi)) & 0xf;
    const int top = (b.qh[l] >> (2 * c + hi)) & 1;
    k->q[e] = static_cast<int8_t>(lo | (top << 4));
  }
}

inline void decode(const block_q6_K& b, KBlock* k) {
  k->nsub = 16;
  k->has_min = false;
  k->d = fp16_to_fp32(b.d);
  k->dmin = 0.0f;
  for (int i = 0; i < 16; ++i) {
    k->sc[i] = b.scales[i];
    k->m[i] = 0;
  }
  for (int e = 0; e < kQKK; ++e) {
    const int h = e / 128, g = (e % 128) / 32, l = e % 32;
    const int lo = (b.ql[64 * h + 32 * (g & 1) + l] >> (4 * (g >> 1))) & 0xf;
    const int hi = (b.qh[32 * h + l] >> (2 * g)) & 3;
    k->q[e] = static_cast<int8_t>((lo | (hi << 4)) - 32);
  }
}

}  // namespace autoglm::quant::detail
