// The loops every 256-column packed layout shares (packed_q2k.cpp, packed_q3k.cpp, packed_q4k.cpp,
// packed_q6k.cpp, packed_iq4xs.cpp): packing (an owned copy of w in `packed`, one packed
// super-block of 16 rows per (row group, super-block), each filled row by row from the source)
// and walking one row's super-blocks (row dequantization).
#pragma once

#include <cstring>

#include "backends/cpu/packed.h"
#include "core/check.h"
#include "quant/blocks.h"

namespace autoglm::cpu {

// For each packed super-block sb (sb_bytes): its bytes from clear_from on are zeroed (fields the
// rows OR their bits into), fill(sb, i, src) runs for rows i = 0..15 with their source Block,
// then finish(sb) (fields gathered over the rows, e.g. scales packed from their unpacked bytes).
template <typename Block, typename Fill, typename Finish>
Tensor pack_super_blocks(const Tensor& w, DType packed, size_t sb_bytes, size_t clear_from, Fill&& fill,
                         Finish&& finish) {
  AG_CHECK(w.ndim() == 2 && w.rows() % kPackRows == 0 && w.cols() % quant::kQKK == 0 && clear_from <= sb_bytes);
  const int64_t m = w.rows(), nb = w.cols() / quant::kQKK;
  Tensor out = Tensor::empty_weight(packed, w.shape());
  AG_CHECK(out.nbytes() == static_cast<size_t>(m / kPackRows * nb) * sb_bytes);
  uint8_t* dst = static_cast<uint8_t*>(out.data());
  for (int64_t g = 0; g < m / kPackRows; ++g) {
    for (int64_t s = 0; s < nb; ++s) {
      uint8_t* sb = dst + static_cast<size_t>(g * nb + s) * sb_bytes;
      std::memset(sb + clear_from, 0, sb_bytes - clear_from);
      for (int i = 0; i < kPackRows; ++i) fill(sb, i, reinterpret_cast<const Block*>(w.row_ptr(g * kPackRows + i))[s]);
      finish(sb);
    }
  }
  return out;
}

// Calls f(sb, s, i) for each super-block s of row r of `packed` (sb_bytes per packed
// super-block): sb is its row group's packed super-block, i the row's place in the group.
template <typename F>
void for_each_super_block_of_row(const Tensor& packed, int64_t r, size_t sb_bytes, F&& f) {
  AG_CHECK(r >= 0 && r < packed.rows());
  const int64_t nb = packed.cols() / quant::kQKK, g = r / kPackRows;
  const int i = static_cast<int>(r % kPackRows);
  const auto* base = static_cast<const uint8_t*>(packed.data());
  for (int64_t s = 0; s < nb; ++s) f(base + static_cast<size_t>(g * nb + s) * sb_bytes, s, i);
}

}  // namespace autoglm::cpu
