// The AMX tile configuration every *_amx.cpp kernel shares. Include only from translation units
// compiled with the AMX kernel flags (src/CMakeLists.txt: *_amx.cpp).
//
// One configuration for all of them, loaded once per thread (the tile state is per thread and
// survives context switches): C tiles 0-3 of 16 tokens x 16 int32, A tiles 4 and 6 of 16
// tokens x 32 activation bytes, B tiles 5 and 7 of 8 rows x 64 weight bytes (a 32-column
// sub-block of 16 weight rows, 4 bytes per row per tile row: the R16 layouts' interleave).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <initializer_list>

namespace autoglm::cpu::simd::amx {

inline constexpr int kTileTokens = 16;

inline void configure_thread() {
  thread_local bool configured = false;
  if (configured) return;
  struct alignas(64) Config {
    uint8_t palette = 1, start_row = 0;
    uint8_t reserved[14] = {};
    uint16_t colsb[16] = {};
    uint8_t rows[16] = {};
  } cfg;
  for (int i = 0; i < 4; ++i) cfg.colsb[i] = 64, cfg.rows[i] = kTileTokens;
  for (int i : {4, 6}) cfg.colsb[i] = 32, cfg.rows[i] = kTileTokens;
  for (int i : {5, 7}) cfg.colsb[i] = 64, cfg.rows[i] = 8;
  _tile_loadconfig(&cfg);
  configured = true;
}

// Tokens [0, nt) as whole tiles of kTileTokens through tile(t) (tokens t.. of the call), then
// the rest, if any, through rest(t, count): the VNNI kernel, which does few tokens better.
template <class Tile, class Rest>
inline void for_tiles(int64_t nt, Tile&& tile, Rest&& rest) {
  int64_t t = 0;
  if (nt >= kTileTokens) {
    configure_thread();
    for (; t + kTileTokens <= nt; t += kTileTokens) tile(t);
  }
  if (t < nt) rest(t, nt - t);
}

}  // namespace autoglm::cpu::simd::amx
