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
  for (int h = 0; h < 2; ++h) {
    for (int g = 0; g < 4; ++g) {
      for (int l = 0; l < 32; ++l) k->q[128 * h + 32 * g + l] = static_cast<int8_t>((b.qs[32 * h + l] >> (2 * g)) & 3);
    }
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
  for (int h = 0; h < 2; ++h) {
    for (int g = 0; g < 4; ++g) {
      for (int l = 0; l < 32; ++l) {
        const int lo = (b.qs[32 * h + l] >> (2 * g)) & 3;
        const int hi = (b.hmask[l] >> (4 * h + g)) & 1;
        k->q[128 * h + 32 * g + l] = static_cast<int8_t>(lo - (hi ? 0 : 4));
      }
    }
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
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      k->q[64 * c + l] = static_cast<int8_t>(b.qs[32 * c + l] & 0xf);
      k->q[64 * c + 32 + l] = static_cast<int8_t>(b.qs[32 * c + l] >> 4);
    }
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
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      k->q[64 * c + l] = static_cast<int8_t>((b.qs[32 * c + l] & 0xf) | (((b.qh[l] >> (2 * c)) & 1) << 4));
      k->q[64 * c + 32 + l] = static_cast<int8_t>((b.qs[32 * c + l] >> 4) | (((b.qh[l] >> (2 * c + 1)) & 1) << 4));
    }
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
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = b.ql + 64 * h;
    const uint8_t* qh = b.qh + 32 * h;
    int8_t* q = k->q + 128 * h;
    for (int l = 0; l < 32; ++l) {
      q[l] = static_cast<int8_t>(((ql[l] & 0xf) | ((qh[l] & 3) << 4)) - 32);
      q[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32);
      q[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
      q[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
    }
  }
}

}  // namespace autoglm::quant::detail
