// cos/sin of RoPE angles, computed once per (frequency base, scale, rotated dims) and position
// and kept for the process: every layer of every step asks for the same positions, and
// computing them per call cost ~0.5 us per token and call (pow, cos, sin for each pair).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace autoglm::cpu {

struct RopeAngles {
  int32_t half = 0;       // pairs per head: n_rot / 2
  int32_t n_pos = 0;      // positions [0, n_pos) are in the table
  std::vector<float> cs;  // [n_pos][half]: cos(pos * scale * base^(-2i / n_rot))
  std::vector<float> sn;  // [n_pos][half]: the sines
};

// A table holding at least positions [0, min_positions). Tables are immutable once returned;
// a larger request publishes a new one. Thread-safe.
std::shared_ptr<const RopeAngles> rope_angles(float freq_base, float freq_scale, int32_t n_rot, int32_t min_positions);

}  // namespace autoglm::cpu
