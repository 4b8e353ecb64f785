// AMX kernels for the 32-column 16-row layouts (Q8_0_R16 .. IQ4_NL_R16, packed.h), for batches
// of tokens (prefill, batched decode) on CPUs with AMX-INT8.
//
// A packed block's 8 registers of 4 columns x 16 rows are, byte for byte, an AMX B tile of
// K = 32 (8 rows of 64 bytes); 16 tokens' activation bytes of the same 32 columns are an A tile
// (16 rows of 32 bytes, read in place from PackedActivations). One TDPBSUD (signed activations x
// unsigned weights) gives the 16 x 16 block dots that the VNNI tile needs 128 vpdpbusd for. Each
// block's dots leave the tile unit (its scales differ per block) and take the VNNI tile's float
// steps: start from PackedActivations::bias, convert, fma with the rows' scales times the token's
// scale (Q4_1 / Q5_1: plus the mins term). The integers are exact and the float steps are the
// same, so results are bit-identical to the VNNI kernels and the scalar reference.
//
// Two blocks are in flight at a time (tiles 0-2 and 3-5), so one block's dots run while the
// other's are converted. Tokens go 16 at a time; a tail of fewer than kMinTokens uses the VNNI
// kernel.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "backends/cpu/simd/packed_simd.h"
#include "backends/cpu/simd/r16_weights_avx512.h"
#include "backends/cpu/simd/token_tiles.h"
#include "quant/blocks.h"

namespace autoglm::cpu::simd {
namespace {

constexpr int kTokens = 16;    // rows of the A and C tiles
constexpr int kMinTokens = 4;  // fewer go to the VNNI tile

struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// Tiles 0 / 3: C (16 tokens x 16 int32); 1 / 4: A (16 tokens x 32 bytes); 2 / 5: B (8 rows of
// 4 columns x 16 weight rows).
constexpr TileConfig make_config() {
  TileConfig c;
  for (int t : {0, 3}) {
    c.rows[t] = kTokens;
    c.colsb[t] = 64;
  }
  for (int t : {1, 4}) {
    c.rows[t] = kTokens;
    c.colsb[t] = 32;
  }
  for (int t : {2, 5}) {
    c.rows[t] = 8;
    c.colsb[t] = 64;
  }
  return c;
}
// A constant in memory: GCC 12 dropped the stores of a stack copy built just before
// ldtilecfg, which does not tell it that it reads them (the tiles then faulted as unconfigured).
constexpr TileConfig kTileConfig = make_config();

// Loaded at every call: a configuration loaded once per thread was gone by a later call on the
// same thread in the model runs here (tilezero then raised #UD; Linux 6, a VM), and one
// ldtilecfg is small against a call's blocks.
void configure_tiles() {
  _tile_loadconfig(&kTileConfig);
}

// The B tile bytes of a block: the packed quants themselves (Q8_0), or the 8 unpacked registers.
template <Layout L>
inline const uint8_t* b_tile(const uint8_t* blk, uint8_t* scratch) {
  if constexpr (L == Layout::kQ8) {
    return blk + kQuantsOffset<L>;
  } else {
    __m512i w[8];
    load_weights<L>(blk + kQuantsOffset<L>, w);
    for (int j = 0; j < 8; ++j) _mm512_store_si512(scratch + 64 * j, w[j]);
    return scratch;
  }
}

// acc[t] += the VNNI tile's float steps on the block dots c (C tile rows, 16 int32 each).
template <Layout L, int M>
inline void accumulate(const int32_t* c, const uint8_t* blk, const PackedActivations& act, int64_t t0, int64_t b,
                       __m512 acc[M]) {
  const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk)));
  __m512 mw = _mm512_setzero_ps();
  if constexpr (kHasMin<L>) mw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 32)));
  for (int t = 0; t < M; ++t) {
    const size_t si = static_cast<size_t>((t0 + t) * act.nb + b);
    const __m512i dot = _mm512_add_epi32(_mm512_set1_epi32(act.bias[si]), _mm512_load_si512(c + 16 * t));
    const __m512 sc = _mm512_mul_ps(dw, _mm512_set1_ps(act.d[si]));
    acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), sc, acc[t]);
    if constexpr (kHasMin<L>) acc[t] = _mm512_fmadd_ps(mw, _mm512_set1_ps(act.dsum[si]), acc[t]);
  }
}

template <Layout L, int M>
void tile(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, float* y, int64_t ldy) {
  constexpr size_t kBlockBytes = kPackedBlockBytes<L>;
  const size_t stride = static_cast<size_t>(act.nb) * sizeof(quant::block_q8_0);
  const uint8_t* a = act.row(t0) + offsetof(quant::block_q8_0, qs);
  if (t0 + kTokens > act.n) {  // the A tile reads 16 rows: past the last token, read a copy
    thread_local std::vector<uint8_t> staged;
    staged.assign(stride * kTokens, 0);
    std::memcpy(staged.data(), act.row(t0), stride * M);
    a = staged.data() + offsetof(quant::block_q8_0, qs);
  }
  alignas(64) int32_t c0[kTokens * 16], c1[kTokens * 16];
  alignas(64) uint8_t b0[8 * 64], b1[8 * 64];
  __m512 acc[M];
  for (int t = 0; t < M; ++t) acc[t] = _mm512_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    const uint8_t* blk0 = wgroup + static_cast<size_t>(b) * kBlockBytes;
    const uint8_t* blk1 = blk0 + kBlockBytes;
    _tile_zero(0);
    _tile_loadd(1, a + sizeof(quant::block_q8_0) * b, stride);
    _tile_loadd(2, b_tile<L>(blk0, b0), 64);
    _tile_dpbsud(0, 1, 2);
    _tile_zero(3);
    _tile_loadd(4, a + sizeof(quant::block_q8_0) * (b + 1), stride);
    _tile_loadd(5, b_tile<L>(blk1, b1), 64);
    _tile_dpbsud(3, 4, 5);
    _tile_stored(0, c0, 64);
    accumulate<L, M>(c0, blk0, act, t0, b, acc);
    _tile_stored(3, c1, 64);
    accumulate<L, M>(c1, blk1, act, t0, b + 1, acc);
  }
  if (b < nb) {
    const uint8_t* blk0 = wgroup + static_cast<size_t>(b) * kBlockBytes;
    _tile_zero(0);
    _tile_loadd(1, a + sizeof(quant::block_q8_0) * b, stride);
    _tile_loadd(2, b_tile<L>(blk0, b0), 64);
    _tile_dpbsud(0, 1, 2);
    _tile_stored(0, c0, 64);
    accumulate<L, M>(c0, blk0, act, t0, b, acc);
  }
  for (int t = 0; t < M; ++t) _mm512_storeu_ps(y + t * ldy, acc[t]);
}

template <Layout L>
void gemm(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt, float* y,
          int64_t ldy, PackedGemmFn vnni) {
  configure_tiles();
  const int64_t whole = nt - nt % kTokens;
  const int64_t tail = nt - whole;
  const int64_t amx_tokens = tail >= kMinTokens ? nt : whole;
  for_token_tiles<kTokens>(amx_tokens, [&](auto n_tok, int64_t t) {
    tile<L, decltype(n_tok)::value>(nb, wgroup, act, t0 + t, y + t * ldy, ldy);
  });
  if (amx_tokens < nt) vnni(nb, wgroup, act, t0 + amx_tokens, nt - amx_tokens, y + amx_tokens * ldy, ldy);
}

}  // namespace

void gemm_q8_0_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                       float* y, int64_t ldy) {
  gemm<Layout::kQ8>(nb, wgroup, act, t0, nt, y, ldy, gemm_q8_0_r16_avx512);
}

void gemm_q4_0_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                       float* y, int64_t ldy) {
  gemm<Layout::kQ4>(nb, wgroup, act, t0, nt, y, ldy, gemm_q4_0_r16_avx512);
}

void gemm_q5_0_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                       float* y, int64_t ldy) {
  gemm<Layout::kQ5>(nb, wgroup, act, t0, nt, y, ldy, gemm_q5_0_r16_avx512);
}

void gemm_q4_1_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                       float* y, int64_t ldy) {
  gemm<Layout::kQ41>(nb, wgroup, act, t0, nt, y, ldy, gemm_q4_1_r16_avx512);
}

void gemm_q5_1_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                       float* y, int64_t ldy) {
  gemm<Layout::kQ51>(nb, wgroup, act, t0, nt, y, ldy, gemm_q5_1_r16_avx512);
}

void gemm_iq4_nl_r16_amx(int64_t nb, const uint8_t* wgroup, const PackedActivations& act, int64_t t0, int64_t nt,
                         float* y, int64_t ldy) {
  gemm<Layout::kIQ4NL>(nb, wgroup, act, t0, nt, y, ldy, gemm_iq4_nl_r16_avx512);
}

}  // namespace autoglm::cpu::simd
