// IQ4_XS_R16: packing, dequantization and the scalar reference kernel (layout: packed_iq4xs.h).
#include "backends/cpu/packed_iq4xs.h"

#include <cmath>
#include <cstring>

#include "backends/cpu/packed_q4k.h"
#include "backends/cpu/packed_super_blocks.h"
#include "core/check.h"
#include "quant/blocks.h"

namespace autoglm::cpu {
namespace {

using quant::block_iq4_xs;
using quant::block_q8_K;
using quant::kQKK;

// Row i's nibble of column c (0..255) of packed super-block sb.
int nibble_of(const uint8_t* sb, int i, int c) {
  const int j = c / 32, l = c % 32, lo = l % 16;
  const uint8_t byte = sb[kIQ4XSR16QOff + 256 * j + 64 * (lo / 4) + 4 * i + lo % 4];
  return l < 16 ? (byte & 0x0F) : (byte >> 4);
}

void unpack_factors(const uint8_t* sb, uint8_t u[128]) {
  unpack_scales96(sb + kIQ4XSR16ScalesOff, sb + kIQ4XSR16TopOff, u);
}

}  // namespace

Tensor pack_iq4_xs_r16(const Tensor& w) {
  AG_CHECK(w.dtype() == DType::IQ4_XS);
  uint8_t u[128];
  // Every byte is written.
  return pack_super_blocks<block_iq4_xs>(w, DType::IQ4_XS_R16, kIQ4XSR16Bytes, kIQ4XSR16Bytes,
      [&](uint8_t* sb, int i, const block_iq4_xs& b) {
        std::memcpy(sb + 2 * i, &b.d, 2);
        for (int j = 0; j < 8; ++j) {
          u[16 * j + i] = static_cast<uint8_t>(quant::iq4_xs_ls(b, j));
          // qs[16j + l] already pairs columns 32j + l and 32j + 16 + l: only 4-byte groups move.
          for (int c = 0; c < 4; ++c) std::memcpy(sb + kIQ4XSR16QOff + 256 * j + 64 * c + 4 * i, b.qs + 16 * j + 4 * c, 4);
        }
      },
      [&](uint8_t* sb) { pack_scales96(u, sb + kIQ4XSR16ScalesOff, sb + kIQ4XSR16TopOff); });
}

void dequantize_iq4_xs_r16_row(const Tensor& packed, int64_t r, float* out) {
  AG_CHECK(packed.dtype() == DType::IQ4_XS_R16);
  for_each_super_block_of_row(packed, r, kIQ4XSR16Bytes, [&](const uint8_t* sb, int64_t s, int i) {
    uint8_t u[128];
    unpack_factors(sb, u);
    const float d = f16_at(sb, i);
    for (int j = 0; j < 8; ++j) {
      const float dl = d * static_cast<float>(u[16 * j + i] - 32);  // the reference dequantizer's arithmetic
      for (int l = 0; l < 32; ++l) {
        out[s * kQKK + 32 * j + l] = dl * static_cast<float>(quant::kIQ4Values[nibble_of(sb, i, 32 * j + l)]);
      }
    }
  });
}

void gemm_iq4_xs_r16_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                               int64_t nt, float* y, int64_t ldy) {
  for (int64_t t = 0; t < nt; ++t) {
    const auto* a = reinterpret_cast<const block_q8_K*>(act.q.data()) + (t0 + t) * act.nb;
    for (int i = 0; i < kPackRows; ++i) {
      float acc = 0.0f;
      for (int64_t s = 0; s < nb; ++s) {
        const uint8_t* sb = wgroup + static_cast<size_t>(s) * kIQ4XSR16Bytes;
        const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
        uint8_t u[128];
        unpack_factors(sb, u);
        int32_t isum = 0;
        for (int j = 0; j < 8; ++j) {
          // The VNNI kernel's integers: unsigned grid + 128 from the -128 * sum start.
          int32_t dot = act.bias[si * 8 + static_cast<size_t>(j)];
          for (int l = 0; l < 32; ++l) {
            dot += (quant::kIQ4Values[nibble_of(sb, i, 32 * j + l)] + 128) * a[s].qs[32 * j + l];
          }
          isum += (u[16 * j + i] - 32) * dot;
        }
        // The SIMD kernels' arithmetic exactly: scale product rounded to f32, one fma.
        acc = std::fma(static_cast<float>(isum), f16_at(sb, i) * act.d[si], acc);
      }
      y[t * ldy + i] = acc;
    }
  }
}

}  // namespace autoglm::cpu
