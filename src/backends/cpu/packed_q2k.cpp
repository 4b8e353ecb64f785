// Q2_K_R16: packing, dequantization and the scalar reference kernel (layout: packed_q2k.h).
#include "backends/cpu/packed_q2k.h"

#include <cmath>
#include <cstring>

#include "backends/cpu/packed_super_blocks.h"
#include "core/check.h"
#include "quant/blocks.h"
#include "quant/kquant_decode.h"

namespace autoglm::cpu {
namespace {

using quant::block_q2_K;
using quant::block_q8_K;
using quant::kQKK;

// The byte and shift of row i's 2-bit value of column c (0..255).
size_t q_byte(int i, int c) {
  const int j = c / 32, o = c % 32, reg = o / 4;
  return kQ2KR16QOff + 128 * static_cast<size_t>(j) + 64 * static_cast<size_t>(reg / 4) + 4 * static_cast<size_t>(i) +
         static_cast<size_t>(o % 4);
}
int q_shift(int c) { return 2 * ((c % 32 / 4) % 4); }
int q_of(const uint8_t* sb, int i, int c) { return (sb[q_byte(i, c)] >> q_shift(c)) & 3; }

// A nibble of a 128-byte area holding 256 values (value k low in byte k, value k + 128 high in byte k - 128).
int nibble(const uint8_t* area, int k) { return k < 128 ? area[k] & 0x0F : area[k - 128] >> 4; }
void set_nibble(uint8_t* area, int k, int v) {
  if (k < 128) {
    area[k] = static_cast<uint8_t>((area[k] & 0xF0) | v);
  } else {
    area[k - 128] = static_cast<uint8_t>((area[k - 128] & 0x0F) | v << 4);
  }
}
int sc_of(const uint8_t* sb, int i, int j) { return nibble(sb + kQ2KR16ScalesOff, 16 * j + i); }
int min_of(const uint8_t* sb, int i, int j) { return nibble(sb + kQ2KR16MinsOff, 32 * (j / 2) + 2 * i + j % 2); }

}  // namespace

Tensor pack_q2_K_r16(const Tensor& w) {
  AG_CHECK(w.dtype() == DType::Q2_K);
  quant::detail::KBlock kb;
  // Scales, mins and values OR their bits in.
  return pack_super_blocks<block_q2_K>(w, DType::Q2_K_R16, kQ2KR16Bytes, kQ2KR16ScalesOff,
      [&](uint8_t* sb, int i, const block_q2_K& src) {
        std::memcpy(sb + 2 * i, &src.d, 2);
        std::memcpy(sb + kQ2KR16DminOff + 2 * i, &src.dmin, 2);
        quant::detail::decode(src, &kb);  // scales, mins and values, read by the reference decoder
        for (int j = 0; j < 16; ++j) {
          set_nibble(sb + kQ2KR16ScalesOff, 16 * j + i, kb.sc[j]);
          set_nibble(sb + kQ2KR16MinsOff, 32 * (j / 2) + 2 * i + j % 2, kb.m[j]);
        }
        for (int c = 0; c < kQKK; ++c) sb[q_byte(i, c)] = static_cast<uint8_t>(sb[q_byte(i, c)] | kb.q[c] << q_shift(c));
      },
      [](uint8_t*) {});
}

void dequantize_q2_K_r16_row(const Tensor& packed, int64_t r, float* out) {
  AG_CHECK(packed.dtype() == DType::Q2_K_R16);
  for_each_super_block_of_row(packed, r, kQ2KR16Bytes, [&](const uint8_t* sb, int64_t s, int i) {
    const float d = f16_at(sb, i), dmin = f16_at(sb + kQ2KR16DminOff, i);
    for (int j = 0; j < 16; ++j) {
      // The reference dequantizer's arithmetic (quant_kquants.cpp: dequantize_kblock).
      const float dl = d * static_cast<float>(sc_of(sb, i, j)), ml = dmin * static_cast<float>(min_of(sb, i, j));
      for (int l = 0; l < 16; ++l) out[s * kQKK + 16 * j + l] = dl * static_cast<float>(q_of(sb, i, 16 * j + l)) - ml;
    }
  });
}

void gemm_q2_K_r16_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                             int64_t nt, float* y, int64_t ldy) {
  for (int64_t t = 0; t < nt; ++t) {
    const auto* a = reinterpret_cast<const block_q8_K*>(act.q.data()) + (t0 + t) * act.nb;
    for (int i = 0; i < kPackRows; ++i) {
      float acc = 0.0f;
      for (int64_t s = 0; s < nb; ++s) {
        const uint8_t* sb = wgroup + static_cast<size_t>(s) * kQ2KR16Bytes;
        int32_t isum = 0, imin = 0;
        for (int j = 0; j < 16; ++j) {
          int32_t dot = 0;
          for (int l = 0; l < 16; ++l) dot += q_of(sb, i, 16 * j + l) * a[s].qs[16 * j + l];
          isum += sc_of(sb, i, j) * dot;
          imin += min_of(sb, i, j) * a[s].bsums[j];
        }
        // The SIMD kernels' arithmetic exactly: scale products rounded to f32, mins first.
        const float dy = act.d[static_cast<size_t>((t0 + t) * act.nb + s)];
        acc = std::fma(-static_cast<float>(imin), f16_at(sb + kQ2KR16DminOff, i) * dy, acc);
        acc = std::fma(static_cast<float>(isum), f16_at(sb, i) * dy, acc);
      }
      y[t * ldy + i] = acc;
    }
  }
}

}  // namespace autoglm::cpu
