// The AMX tile configuration every *_amx.cpp kernel shares. Include only from translation units
// compiled with the AMX kernel flags (src/CMakeLists.txt: *_amx.cpp).
//
// Two configurations, by the width of a sub-block (the unit one C tile holds). C tiles 0-3 are
// 16 tokens x 16 int32 in both; A tiles 4 and 6 hold 16 tokens' activation bytes of a sub-block
// (32 or 16), B tiles 5 and 7 the sub-block's 16 weight rows, 4 bytes per row per tile row (the
// R16 layouts' interleave: 8 or 4 tile rows of 64 bytes).
//
// Every kernel call checks the thread's configuration and loads its own where it differs: the
// tile state is the thread's, and other code on the calling thread (a library of the embedding
// process) may configure or release it between calls. Reading it back (sttilecfg and a compare,
// ~14 ns) costs less than loading it each time (ldtilecfg, 50-90 ns with a tilezero), against
// the ~2 us of one 16-token row group at k = 2048. The tiles stay configured after a call
// (tilerelease would add ~45 ns a call). The configurations are constants in memory:
// ldtilecfg's intrinsic names only 8 of the 64 bytes it reads, so GCC 12 may drop stores that
// build one on the stack just before it (the trial of 9f2297f found the tiles then unconfigured).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>

namespace autoglm::cpu::simd::amx {

inline constexpr int kTileTokens = 16;

enum class SubBlock { k32, k16 };  // columns per C tile

struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

inline constexpr TileConfig tile_config(int cols) {
  TileConfig cfg;
  for (int i = 0; i < 4; ++i) cfg.colsb[i] = 64, cfg.rows[i] = kTileTokens;
  for (int i : {4, 6}) cfg.colsb[i] = static_cast<uint16_t>(cols), cfg.rows[i] = kTileTokens;
  for (int i : {5, 7}) cfg.colsb[i] = 64, cfg.rows[i] = static_cast<uint8_t>(cols / 4);
  return cfg;
}
inline constexpr TileConfig kConfig32 = tile_config(32), kConfig16 = tile_config(16);

inline void configure(SubBlock shape) {
  const TileConfig* want = shape == SubBlock::k32 ? &kConfig32 : &kConfig16;
  TileConfig now;
  _tile_storeconfig(&now);
  __asm__ volatile("" : : "r"(&now) : "memory");  // the intrinsic names 8 of the 64 bytes it writes
  if (std::memcmp(&now, want, sizeof now) != 0) _tile_loadconfig(want);
}

// Share `part` of `parts` of the cache lines of [p, p + bytes), into L2: a prefetch spread over a
// loop, so its loads overlap the loop's arithmetic (gemm_q4k_r16_amx.cpp measures why).
inline void prefetch_share(const uint8_t* p, size_t bytes, int part, int parts) {
  const int lines = static_cast<int>((bytes + 63) / 64);
  for (int l = lines * part / parts; l < lines * (part + 1) / parts; ++l) {
    _mm_prefetch(reinterpret_cast<const char*>(p + 64 * l), _MM_HINT_T1);
  }
}

// sum_k sc[k] * C_k[t] over N sub-blocks, exact where each product and each pair sum stays within
// 2^24 (the caller's bound): the pairs in f32, their sums in int32.
template <int N>
inline __m512i pair_sums(const int32_t (*dots)[kTileTokens][16], const __m512 sc[N], int t) {
  __m512i isum = _mm512_setzero_si512();
  for (int k = 0; k < N; k += 2) {
    __m512 pair = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_load_si512(dots[k][t])), sc[k]);
    pair = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(dots[k + 1][t])), sc[k + 1], pair);
    isum = _mm512_add_epi32(isum, _mm512_cvtps_epi32(pair));
  }
  return isum;
}

// Tokens [0, nt) as whole tiles of kTileTokens through tile(t) (tokens t.. of the call), then
// the rest, if any, through rest(t, count): the VNNI kernel, which does few tokens better.
template <class Tile, class Rest>
inline void for_tiles(SubBlock shape, int64_t nt, Tile&& tile, Rest&& rest) {
  int64_t t = 0;
  if (nt >= kTileTokens) {
    configure(shape);
    for (; t + kTileTokens <= nt; t += kTileTokens) tile(t);
  }
  if (t < nt) rest(t, nt - t);
}

}  // namespace autoglm::cpu::simd::amx

// One sub-block's products: C tile C = A tile A (16 tokens' activation bytes at a, a_stride apart)
// times B tile B (weights at b, 64 bytes a tile row), stored at c (16 x 16 int32). A macro: the
// tile intrinsics take register numbers as literal tokens. The kernels rotate C over tiles 0-3
// and alternate the A/B pairs 4/5 and 6/7, so a store overlaps the next multiply.
#define AG_AMX_DOTS(C, A, B, a, a_stride, b, c) \
  do {                                          \
    _tile_zero(C);                              \
    _tile_loadd(A, (a), (a_stride));            \
    _tile_loadd(B, (b), 64);                    \
    _tile_dpbssd(C, A, B);                      \
    _tile_stored(C, (c), 64);                   \
  } while (0)

namespace autoglm::cpu::simd::amx {
// A 256-column super-block's eight 32-column sub-blocks (k32 configuration): activations at as
// (a_stride apart), weights w[j] (8 tile rows of 64 bytes each), dots[j] = C_j.
inline void super_block_dots32(const int8_t* as, size_t a_stride, const int8_t (*w)[8][64],
                               int32_t (*dots)[kTileTokens][16]) {
  for (int j = 0; j < 8; j += 4) {
    AG_AMX_DOTS(0, 4, 5, as + 32 * j, a_stride, w[j][0], dots[j][0]);
    AG_AMX_DOTS(1, 6, 7, as + 32 * (j + 1), a_stride, w[j + 1][0], dots[j + 1][0]);
    AG_AMX_DOTS(2, 4, 5, as + 32 * (j + 2), a_stride, w[j + 2][0], dots[j + 2][0]);
    AG_AMX_DOTS(3, 6, 7, as + 32 * (j + 3), a_stride, w[j + 3][0], dots[j + 3][0]);
  }
}
}  // namespace autoglm::cpu::simd::amx
