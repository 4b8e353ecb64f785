// Q6_K_R16: packing, dequantization and the scalar reference kernel (layout: packed_q6k.h).
#include "backends/cpu/packed_q6k.h"

#include <cmath>
#include <cstring>

#include "backends/cpu/packed_super_blocks.h"
#include "core/check.h"
#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/kquant_decode.h"

namespace autoglm::cpu {
namespace {

using quant::block_q6_K;
using quant::block_q8_K;
using quant::kQKK;

int sc_of(const uint8_t* sb, int i, int j) { return static_cast<int8_t>(sb[kQ6KR16ScalesOff + 16 * j + i]); }

// Where column c (0..255) of row i lives: its low nibble's byte (and which nibble), its top
// bits' byte and shift.
struct Place {
  size_t low;
  bool high_nibble;
  size_t top;
  int shift;
};
Place place_of(int i, int c) {
  const int p = c / 64, o = c % 64, lo = o % 32, f = o / 16, q = o % 16;
  return {kQ6KR16LowOff + 512 * static_cast<size_t>(p) + 64 * static_cast<size_t>(lo / 4) + 4 * static_cast<size_t>(i) +
              static_cast<size_t>(lo % 4),
          o >= 32,
          kQ6KR16HighOff + 256 * static_cast<size_t>(p) + 64 * static_cast<size_t>(q / 4) + 4 * static_cast<size_t>(i) +
              static_cast<size_t>(q % 4),
          2 * f};
}

// The unsigned 6-bit weight (q + 32) of row i, column c.
int u_of(const uint8_t* sb, int i, int c) {
  const Place pl = place_of(i, c);
  const int low = pl.high_nibble ? sb[pl.low] >> 4 : sb[pl.low] & 0x0F;
  return low | ((sb[pl.top] >> pl.shift) & 3) << 4;
}

}  // namespace

Tensor pack_q6_K_r16(const Tensor& w) {
  AG_CHECK(w.dtype() == DType::Q6_K);
  quant::detail::KBlock kb;
  // The columns OR their bits in.
  return pack_super_blocks<block_q6_K>(w, DType::Q6_K_R16, kQ6KR16Bytes, kQ6KR16LowOff,
      [&](uint8_t* sb, int i, const block_q6_K& src) {
        std::memcpy(sb + 2 * i, &src.d, 2);
        quant::detail::decode(src, &kb);  // the 6-bit values, read by the reference decoder
        for (int j = 0; j < 16; ++j) sb[kQ6KR16ScalesOff + 16 * j + i] = static_cast<uint8_t>(kb.sc[j]);
        for (int c = 0; c < kQKK; ++c) {
          const int u = kb.q[c] + 32;
          const Place pl = place_of(i, c);
          sb[pl.low] = static_cast<uint8_t>(sb[pl.low] | (pl.high_nibble ? (u & 0x0F) << 4 : u & 0x0F));
          sb[pl.top] = static_cast<uint8_t>(sb[pl.top] | (u >> 4) << pl.shift);
        }
      },
      [](uint8_t*) {});
}

void dequantize_q6_K_r16_row(const Tensor& packed, int64_t r, float* out) {
  AG_CHECK(packed.dtype() == DType::Q6_K_R16);
  for_each_super_block_of_row(packed, r, kQ6KR16Bytes, [&](const uint8_t* sb, int64_t s, int i) {
    const float d = f16_at(sb, i);
    for (int j = 0; j < 16; ++j) {
      // The reference dequantizer's arithmetic (quant_kquants.cpp: dequantize_kblock).
      const float dl = d * static_cast<float>(sc_of(sb, i, j));
      for (int l = 0; l < 16; ++l) out[s * kQKK + 16 * j + l] = dl * static_cast<float>(u_of(sb, i, 16 * j + l) - 32);
    }
  });
}

void gemm_q6_K_r16_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                             int64_t nt, float* y, int64_t ldy) {
  for (int64_t t = 0; t < nt; ++t) {
    const auto* a = reinterpret_cast<const block_q8_K*>(act.q.data()) + (t0 + t) * act.nb;
    for (int i = 0; i < kPackRows; ++i) {
      float acc = 0.0f;
      for (int64_t s = 0; s < nb; ++s) {
        const uint8_t* sb = wgroup + static_cast<size_t>(s) * kQ6KR16Bytes;
        const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
        int32_t isum = 0;
        for (int j = 0; j < 16; ++j) {
          int32_t dot = act.bias[si * 16 + static_cast<size_t>(j)];  // -32 * the sub-block's activation sum
          for (int l = 0; l < 16; ++l) dot += u_of(sb, i, 16 * j + l) * a[s].qs[16 * j + l];
          isum += sc_of(sb, i, j) * dot;
        }
        // The SIMD kernel's arithmetic exactly: scale product rounded to f32, then one fma.
        acc = std::fma(static_cast<float>(isum), f16_at(sb, i) * act.d[si], acc);
      }
      y[t * ldy + i] = acc;
    }
  }
}

}  // namespace autoglm::cpu
