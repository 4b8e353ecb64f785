#include "backends/cpu/rope_table.h"

#include <algorithm>
#include <cmath>
#include <mutex>

#include "core/check.h"

namespace autoglm::cpu {
namespace {

struct Entry {
  float base, scale;
  int32_t n_rot;
  std::shared_ptr<const RopeAngles> table;
};

std::shared_ptr<const RopeAngles> build(float base, float scale, int32_t n_rot, int32_t n_pos) {
  auto t = std::make_shared<RopeAngles>();
  t->half = n_rot / 2;
  t->n_pos = n_pos;
  const auto half = static_cast<size_t>(t->half);
  t->cs.resize(static_cast<size_t>(n_pos) * half);
  t->sn.resize(t->cs.size());
  for (size_t i = 0; i < half; ++i) {
    // theta_i = pos * base^(-2i / n_rot), computed in float as llama2.c does.
    const float freq = 1.0f / std::pow(base, static_cast<float>(2 * i) / static_cast<float>(n_rot));
    for (int32_t p = 0; p < n_pos; ++p) {
      const float val = static_cast<float>(p) * scale * freq;
      t->cs[static_cast<size_t>(p) * half + i] = std::cos(val);
      t->sn[static_cast<size_t>(p) * half + i] = std::sin(val);
    }
  }
  return t;
}

// Positions a table covers: n doubled (from at least 512) until it holds min_positions.
int32_t grown(int32_t n, int32_t min_positions) {
  n = std::max(n, 512);
  while (n < min_positions) n = n > (1 << 29) ? min_positions : 2 * n;
  return n;
}

}  // namespace

std::shared_ptr<const RopeAngles> rope_angles(float freq_base, float freq_scale, int32_t n_rot, int32_t min_positions) {
  AG_CHECK(n_rot >= 2 && min_positions >= 0);
  static std::mutex mu;
  static std::vector<Entry> entries;  // a handful: one per distinct RoPE configuration
  std::lock_guard<std::mutex> lock(mu);
  for (Entry& e : entries) {
    if (e.base != freq_base || e.scale != freq_scale || e.n_rot != n_rot) continue;
    if (e.table->n_pos < min_positions) e.table = build(freq_base, freq_scale, n_rot, grown(e.table->n_pos, min_positions));
    return e.table;
  }
  entries.push_back({freq_base, freq_scale, n_rot, build(freq_base, freq_scale, n_rot, grown(0, min_positions))});
  return entries.back().table;
}

}  // namespace autoglm::cpu
