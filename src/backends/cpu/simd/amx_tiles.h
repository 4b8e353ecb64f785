// The AMX tile configuration every *_amx.cpp kernel shares. Include only from translation units
// compiled with the AMX kernel flags (src/CMakeLists.txt: *_amx.cpp).
//
// Two configurations, by the width of a sub-block (the unit one C tile holds): the tile state is
// per thread and survives context switches, so each thread loads one when it changes (once per
// kernel call at most). C tiles 0-3 are 16 tokens x 16 int32 in both; A tiles 4 and 6 hold 16
// tokens' activation bytes of a sub-block (32 or 16), B tiles 5 and 7 the sub-block's 16 weight
// rows, 4 bytes per row per tile row (the R16 layouts' interleave: 8 or 4 tile rows of 64 bytes).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <initializer_list>

namespace autoglm::cpu::simd::amx {

inline constexpr int kTileTokens = 16;

enum class SubBlock { k32, k16 };  // columns per C tile

inline void configure_thread(SubBlock shape) {
  thread_local int loaded = -1;
  if (loaded == static_cast<int>(shape)) return;
  const int cols = shape == SubBlock::k32 ? 32 : 16;
  struct alignas(64) Config {
    uint8_t palette = 1, start_row = 0;
    uint8_t reserved[14] = {};
    uint16_t colsb[16] = {};
    uint8_t rows[16] = {};
  } cfg;
  for (int i = 0; i < 4; ++i) cfg.colsb[i] = 64, cfg.rows[i] = kTileTokens;
  for (int i : {4, 6}) cfg.colsb[i] = static_cast<uint16_t>(cols), cfg.rows[i] = kTileTokens;
  for (int i : {5, 7}) cfg.colsb[i] = 64, cfg.rows[i] = static_cast<uint8_t>(cols / 4);
  _tile_loadconfig(&cfg);
  loaded = static_cast<int>(shape);
}

// Tokens [0, nt) as whole tiles of kTileTokens through tile(t) (tokens t.. of the call), then
// the rest, if any, through rest(t, count): the VNNI kernel, which does few tokens better.
template <class Tile, class Rest>
inline void for_tiles(SubBlock shape, int64_t nt, Tile&& tile, Rest&& rest) {
  int64_t t = 0;
  if (nt >= kTileTokens) {
    configure_thread(shape);
    for (; t + kTileTokens <= nt; t += kTileTokens) tile(t);
  }
  if (t < nt) rest(t, nt - t);
}

}  // namespace autoglm::cpu::simd::amx
