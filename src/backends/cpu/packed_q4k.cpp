// Q4_K_R16 / Q5_K_R16: packing, dequantization, Q8_K activations and the scalar reference
// kernels (layout: packed_q4k.h).
#include "backends/cpu/packed_q4k.h"

#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>

#include "backends/cpu/packed_super_blocks.h"
#include "core/check.h"
#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/kquant_decode.h"

namespace autoglm::cpu {
namespace {

using quant::block_q4_K;
using quant::block_q5_K;
using quant::block_q8_K;
using quant::kQKK;

constexpr size_t kDminOff = 32, kQOff = kQ4KR16QOff;

// In unpacked scales u (unpack_q4_K_r16_scales).
int sc_of(const uint8_t* u, int i, int j) { return u[16 * j + i]; }
int min_of(const uint8_t* u, int i, int j) { return u[128 + 32 * (j / 2) + 2 * i + j % 2]; }
// The value of row i, column c (0..255) of a packed super-block: its nibble, and for Q5_K_R16
// (five) its fifth bit.
int q_of(const uint8_t* sb, int i, int c, bool five) {
  const int p = c / 64, l = c % 64, lo = l % 32;
  const uint8_t byte = sb[kQOff + 512 * p + 64 * (lo / 4) + 4 * i + lo % 4];
  const int nibble = l < 32 ? (byte & 0x0F) : (byte >> 4);
  if (!five) return nibble;
  const int o = c % 32;  // sub-block c / 32, register o / 4, byte 4i + o % 4
  return nibble | ((sb[kQ5KR16HighOff + 64 * (c / 32) + 4 * i + o % 4] >> (o / 4)) & 1) << 4;
}

size_t super_block_bytes(DType packed) { return packed == DType::Q5_K_R16 ? kQ5KR16Bytes : kQ4KR16Bytes; }

}  // namespace

void unpack_scales96(const uint8_t* lo, const uint8_t* hi, uint8_t u[128]) {
  for (int k = 0; k < 128; ++k) {
    const int low = k < 64 ? lo[k] & 0x0F : lo[k - 64] >> 4;
    const int top = (hi[k % 32] >> (2 * (k / 32))) & 3;
    u[k] = static_cast<uint8_t>(low | top << 4);
  }
}

void pack_scales96(const uint8_t u[128], uint8_t* lo, uint8_t* hi) {
  for (int k = 0; k < 64; ++k) lo[k] = static_cast<uint8_t>((u[k] & 0x0F) | (u[k + 64] & 0x0F) << 4);
  for (int k = 0; k < 32; ++k) {
    hi[k] = static_cast<uint8_t>((u[k] >> 4) | (u[k + 32] >> 4) << 2 | (u[k + 64] >> 4) << 4 | (u[k + 96] >> 4) << 6);
  }
}

void unpack_scales192(const uint8_t* area, uint8_t u[256]) {
  for (int v = 0; v < 2; ++v) unpack_scales96(area + 64 * v, area + 128 + 32 * v, u + 128 * v);
}

void pack_scales192(const uint8_t u[256], uint8_t* area) {
  for (int v = 0; v < 2; ++v) pack_scales96(u + 128 * v, area + 64 * v, area + 128 + 32 * v);
}

void unpack_q4_K_r16_scales(const uint8_t* sb, uint8_t u[256]) { unpack_scales192(sb + kQ4KR16ScalesOff, u); }
void pack_q4_K_r16_scales(const uint8_t u[256], uint8_t* sb) { pack_scales192(u, sb + kQ4KR16ScalesOff); }

namespace {

// Row i of packed super-block sb from source block src (block_q4_K or block_q5_K).
template <typename Block>
void pack_row(const Block& src, int i, uint8_t* sb, uint8_t u[256]) {
  quant::detail::KBlock kb;
  std::memcpy(sb + 2 * i, &src.d, 2);
  std::memcpy(sb + kDminOff + 2 * i, &src.dmin, 2);
  quant::detail::decode(src, &kb);  // the 6-bit fields and the values, read by the reference decoder
  for (int j = 0; j < 8; ++j) {
    u[16 * j + i] = static_cast<uint8_t>(kb.sc[j]);
    u[128 + 32 * (j / 2) + 2 * i + j % 2] = static_cast<uint8_t>(kb.m[j]);
  }
  // qs[32p + l] already pairs columns 64p + l and 64p + 32 + l: only 4-byte groups move.
  for (int p = 0; p < 4; ++p) {
    for (int c = 0; c < 8; ++c) std::memcpy(sb + kQOff + 512 * p + 64 * c + 4 * i, src.qs + 32 * p + 4 * c, 4);
  }
  if constexpr (std::is_same_v<Block, block_q5_K>) {  // the caller zeroed the fifth bits
    for (int c = 0; c < kQKK; ++c) {
      const int o = c % 32;
      uint8_t& byte = sb[kQ5KR16HighOff + 64 * (c / 32) + 4 * i + o % 4];
      byte = static_cast<uint8_t>(byte | (kb.q[c] >> 4) << (o / 4));
    }
  }
}

}  // namespace

Tensor pack_q45_K_r16(const Tensor& w) {
  const bool five = w.dtype() == DType::Q5_K;
  AG_CHECK((five || w.dtype() == DType::Q4_K) && w.ndim() == 2 && w.rows() % kPackRows == 0);
  uint8_t u[256];
  auto fill = [&](uint8_t* sb, int i, const auto& src) { pack_row(src, i, sb, u); };
  auto finish = [&](uint8_t* sb) { pack_q4_K_r16_scales(u, sb); };
  // Q5_K_R16's fifth bits are OR'ed in; Q4_K_R16 writes every byte.
  if (five) return pack_super_blocks<block_q5_K>(w, DType::Q5_K_R16, kQ5KR16Bytes, kQ5KR16HighOff, fill, finish);
  return pack_super_blocks<block_q4_K>(w, DType::Q4_K_R16, kQ4KR16Bytes, kQ4KR16Bytes, fill, finish);
}

void dequantize_q45_K_r16_row(const Tensor& packed, int64_t r, float* out) {
  const bool five = packed.dtype() == DType::Q5_K_R16;
  AG_CHECK(five || packed.dtype() == DType::Q4_K_R16);
  for_each_super_block_of_row(packed, r, super_block_bytes(packed.dtype()), [&](const uint8_t* sb, int64_t s, int i) {
    const float d = f16_at(sb, i), dmin = f16_at(sb + kDminOff, i);
    uint8_t u[256];
    unpack_q4_K_r16_scales(sb, u);
    for (int j = 0; j < 8; ++j) {
      // The reference dequantizer's arithmetic (quant_kquants.cpp: dequantize_kblock).
      const float dl = d * static_cast<float>(sc_of(u, i, j));
      const float ml = dmin * static_cast<float>(min_of(u, i, j));
      for (int l = 0; l < 32; ++l) {
        const int c = 32 * j + l;
        out[s * kQKK + c] = dl * static_cast<float>(q_of(sb, i, c, five)) - ml;
      }
    }
  });
}

Status prepare_q8_K_activations(const Tensor& x, PackedActivations& act, ThreadPool& pool, DType packed) {
  AG_CHECK(packed == DType::Q3_K_R16 || packed == DType::Q4_K_R16 || packed == DType::Q5_K_R16 ||
           packed == DType::Q6_K_R16 || packed == DType::IQ4_XS_R16 || packed == DType::Q2_K_R16 ||
           packed == DType::LATTICE_R16);
  // What each layout's kernels read besides the quants and d: Q4_K_R16 / Q5_K_R16 the sub-block
  // sums for their mins (msum); Q3_K_R16 / Q6_K_R16 an offset per 16-column sub-block (-4 / -32
  // times its sum), IQ4_XS_R16 one per 32-column sub-block (-128 times its sum); Q2_K_R16 nothing
  // (its mins read Q8_K's bsums); LATTICE_R16 -64 per 16-column sub-block.
  const bool mins = packed == DType::Q4_K_R16 || packed == DType::Q5_K_R16;
  const int32_t offset = packed == DType::Q3_K_R16     ? 4
                         : packed == DType::Q6_K_R16    ? 32
                         : packed == DType::LATTICE_R16 ? 64
                                                        : 128;
  const int bias_per_sb = packed == DType::Q3_K_R16 || packed == DType::Q6_K_R16 || packed == DType::LATTICE_R16 ? 16
                          : packed == DType::IQ4_XS_R16                          ? 8
                                                                                 : 0;
  const int64_t n = x.rows(), k = x.cols();
  if (k % kQKK != 0) return Unsupported("matmul: row length " + std::to_string(k) + " is not a multiple of 256");
  const MatmulKernels* kq = cpu_kernels_for(DType::Q4_K);  // the row kernels' Q8_K quantizer
  AG_CHECK(kq != nullptr && kq->quantize_act != nullptr && kq->act_type == DType::Q8_K);
  act.n = n;
  act.nb = k / kQKK;
  act.q.resize(static_cast<size_t>(n * act.nb) * sizeof(block_q8_K));
  act.d.resize(static_cast<size_t>(n * act.nb));
  act.sum.clear();
  act.msum.resize(mins ? static_cast<size_t>(n * act.nb) * 4 : 0);
  act.bias.resize(static_cast<size_t>(n * act.nb * bias_per_sb));
  const bool eighths = packed == DType::Q6_K_R16;
  act.bias8.resize(eighths ? static_cast<size_t>(n * act.nb) * 32 : 0);
  const float* xf = x.data_as<float>();
  pool.parallel_for(n, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      uint8_t* row = act.q.data() + static_cast<size_t>(t * act.nb) * sizeof(block_q8_K);
      kq->quantize_act(xf + t * k, row, k);
      const auto* blocks = reinterpret_cast<const block_q8_K*>(row);
      for (int64_t s = 0; s < act.nb; ++s) {
        const size_t si = static_cast<size_t>(t * act.nb + s);
        act.d[si] = blocks[s].d;
        // Sub-block j's sum: bsums[j] (16 columns) or bsums[2j] + bsums[2j + 1] (32).
        for (int j = 0; j < bias_per_sb; ++j) {
          const int32_t sum = bias_per_sb == 16 ? blocks[s].bsums[j] : blocks[s].bsums[2 * j] + blocks[s].bsums[2 * j + 1];
          act.bias[si * static_cast<size_t>(bias_per_sb) + static_cast<size_t>(j)] = -offset * sum;
        }
        for (int g = 0; eighths && g < 32; ++g) {
          int32_t sum = 0;
          for (int l = 0; l < 8; ++l) sum += blocks[s].qs[8 * g + l];
          act.bias8[si * 32 + static_cast<size_t>(g)] = -offset * sum;
        }
        if (!mins) continue;
        // Sub-blocks 2p and 2p + 1 from the 16-column bsums (summing the 64 bytes here again cost
        // 1.9 of a decode matmul's 2.5 us of preparation at k = 2048).
        const int16_t* bs = blocks[s].bsums;
        for (int p = 0; p < 4; ++p) {
          const int32_t h0 = bs[4 * p] + bs[4 * p + 1], h1 = bs[4 * p + 2] + bs[4 * p + 3];  // |.| <= 4096: int16
          act.msum[si * 4 + p] = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint16_t>(h0)) |
                                                      (static_cast<uint32_t>(static_cast<uint16_t>(h1)) << 16));
        }
      }
    }
  }, grain_for(k));
  return Status::OK();
}

namespace {

void gemm_q45_K_r16_reference(bool five, int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                              int64_t nt, float* y, int64_t ldy) {
  const size_t bytes = five ? kQ5KR16Bytes : kQ4KR16Bytes;
  for (int64_t t = 0; t < nt; ++t) {
    const auto* a = reinterpret_cast<const block_q8_K*>(act.q.data()) + (t0 + t) * act.nb;
    for (int i = 0; i < kPackRows; ++i) {
      float acc = 0.0f;
      for (int64_t s = 0; s < nb; ++s) {
        const uint8_t* sb = wgroup + static_cast<size_t>(s) * bytes;
        const size_t si = static_cast<size_t>((t0 + t) * act.nb + s);
        uint8_t u[256];
        unpack_q4_K_r16_scales(sb, u);
        int32_t imin = 0, isum = 0;
        for (int j = 0; j < 8; ++j) {
          const uint32_t pair = static_cast<uint32_t>(act.msum[si * 4 + j / 2]);
          const int16_t ysum = static_cast<int16_t>(j % 2 ? pair >> 16 : pair & 0xFFFF);
          imin += min_of(u, i, j) * ysum;
          int32_t dot = 0;
          for (int l = 0; l < 32; ++l) dot += q_of(sb, i, 32 * j + l, five) * a[s].qs[32 * j + l];
          isum += sc_of(u, i, j) * dot;
        }
        // The SIMD kernel's arithmetic exactly: scale products rounded to f32, mins first.
        const float dy = act.d[si];
        acc = std::fma(-static_cast<float>(imin), f16_at(sb + kDminOff, i) * dy, acc);
        acc = std::fma(static_cast<float>(isum), f16_at(sb, i) * dy, acc);
      }
      y[t * ldy + i] = acc;
    }
  }
}

}  // namespace

void gemm_q4_K_r16_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                             int64_t nt, float* y, int64_t ldy) {
  gemm_q45_K_r16_reference(false, nb, wgroup, act, t0, nt, y, ldy);
}

void gemm_q5_K_r16_reference(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0,
                             int64_t nt, float* y, int64_t ldy) {
  gemm_q45_K_r16_reference(true, nb, wgroup, act, t0, nt, y, ldy);
}

}  // namespace autoglm::cpu
