// Q3_K_R16: packing, dequantization and the scalar reference kernel (layout: packed_q3k.h).
#include "backends/cpu/packed_q3k.h"

#include <cmath>
#include <cstring>

#include "backends/cpu/packed_q4k.h"
#include "backends/cpu/packed_super_blocks.h"
#include "core/check.h"
#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/kquant_decode.h"

namespace autoglm::cpu {
namespace {

using quant::block_q3_K;
using quant::block_q8_K;
using quant::kQKK;


// Where column c (0..255) of row i keeps its low 2 bits (byte, shift) and its high bit (byte,
// bit).
struct Place {
  size_t low;
  int low_shift;
  size_t high;
  int high_bit;
};
Place place_of(int i, int c) {
  const int j = c / 32, o = c % 32, reg = o / 4, t = o % 4;
  return {kQ3KR16LowOff + 128 * static_cast<size_t>(j) + 64 * static_cast<size_t>(reg / 4) + 4 * static_cast<size_t>(i) +
              static_cast<size_t>(t),
          2 * (reg % 4),
          kQ3KR16HighOff + 64 * static_cast<size_t>(j) + 4 * static_cast<size_t>(i) + static_cast<size_t>(t), reg};
}

// The unsigned 3-bit weight (q + 4) of row i, column c.
int u_of(const uint8_t* sb, int i, int c) {
  const Place pl = place_of(i, c);
  return ((sb[pl.low] >> pl.low_shift) & 3) | ((sb[pl.high] >> pl.high_bit) & 1) << 2;
}

}  // namespace

Tensor pack_q3_K_r16(const Tensor& w) {
  AG_CHECK(w.dtype() == DType::Q3_K);
  quant::detail::KBlock kb;
  uint8_t u[256];
  // The columns OR their bits in.
  return pack_super_blocks<block_q3_K>(w, DType::Q3_K_R16, kQ3KR16Bytes, kQ3KR16LowOff,
      [&](uint8_t* sb, int i, const block_q3_K& src) {
        std::memcpy(sb + 2 * i, &src.d, 2);
        quant::detail::decode(src, &kb);  // scales and values, read by the reference decoder
        for (int j = 0; j < 16; ++j) u[16 * j + i] = static_cast<uint8_t>(kb.sc[j] + 32);
        for (int c = 0; c < kQKK; ++c) {
          const int v = kb.q[c] + 4;
          const Place pl = place_of(i, c);
          sb[pl.low] = static_cast<uint8_t>(sb[pl.low] | (v & 3) << pl.low_shift);
          sb[pl.high] = static_cast<uint8_t>(sb[pl.high] | (v >> 2) << pl.high_bit);
        }
      },
      [&](uint8_t* sb) { pack_scales192(u, sb + kQ3KR16ScalesOff); });
}

void dequantize_q3_K_r16_row(const Tensor& packed, int64_t r, float* out) {
  AG_CHECK(packed.dtype() == DType::Q3_K_R16);
  uint8_t u[256];
  for_each_super_block_of_row(packed, r, kQ3KR16Bytes, [&](const uint8_t* sb, int64_t s, int i) {
    unpack_scales192(sb + kQ3KR16ScalesOff, u);
    const float d = f16_at(sb, i);
    for (int j = 0; j < 16; ++j) {
      // The reference dequantizer's arithmetic (quant_kquants.cpp: dequantize_kblock).
      const float dl = d * static_cast<float>(u[16 * j + i] - 32);
      for (int l = 0; l < 16; ++l) out[s * kQKK + 16 * j + l] = dl * static_cast<float>(u_of(sb, i, 16 * j + l) - 4);
    }
  });
}

void gemm_q3_K_r16_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                             int64_t nt, float* y, int64_t ldy) {
  uint8_t u[256];
  for (int64_t t = 0; t < nt; ++t) {
    const auto* a = reinterpret_cast<const block_q8_K*>(act.q.data()) + (t0 + t) * act.nb;
    for (int i = 0; i < kPackRows; ++i) {
      float acc = 0.0f;
      for (int64_t s = 0; s < nb; ++s) {
        const uint8_t* sb = wgroup + static_cast<size_t>(s) * kQ3KR16Bytes;
        const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
        unpack_scales192(sb + kQ3KR16ScalesOff, u);
        int32_t isum = 0;
        for (int j = 0; j < 16; ++j) {
          int32_t dot = act.bias[si * 16 + static_cast<size_t>(j)];  // -4 * the sub-block's activation sum
          for (int l = 0; l < 16; ++l) dot += u_of(sb, i, 16 * j + l) * a[s].qs[16 * j + l];
          isum += (u[16 * j + i] - 32) * dot;
        }
        // The SIMD kernel's arithmetic exactly: scale product rounded to f32, then one fma.
        acc = std::fma(static_cast<float>(isum), f16_at(sb, i) * act.d[si], acc);
      }
      y[t * ldy + i] = acc;
    }
  }
}

}  // namespace autoglm::cpu
