// What every exp_shift_sum shares, so that all ISAs give the same bits (included inside the
// includer's namespace, like exp_x86.inc.h): the scalar replica of exp_ps and the fixed order
// of the sum. The sum keeps 16 lanes (element i goes to lane i % 16, in order), then folds
// them as l[j] += l[j + w] for w = 8, 4, 2, 1.
inline constexpr int kExpSumLanes = 16;
inline constexpr float kExpSumFloor = -87.33654f;  // below: exp is taken as exactly 0

inline float fold_exp_lanes(float* l) {
  for (int w = kExpSumLanes / 2; w >= 1; w /= 2) {
    for (int j = 0; j < w; ++j) l[j] += l[j + w];
  }
  return l[0];
}

// The ISA kernels' ending: elements [i, n) (fewer than 16) through exp16 (the ISA's masked exp
// over 16 floats in place) on a zero-padded copy, added to their lanes, then the fold.
template <class Exp16>
inline float finish_exp_sum(float* x, int64_t i, int64_t n, float* lanes, Exp16 exp16) {
  if (i < n) {
    const auto rest = static_cast<size_t>(n - i);
    float buf[kExpSumLanes] = {};
    std::memcpy(buf, x + i, rest * sizeof(float));
    exp16(buf);
    for (size_t j = 0; j < rest; ++j) lanes[j] += buf[j];
    std::memcpy(x + i, buf, rest * sizeof(float));
  }
  return fold_exp_lanes(lanes);
}

// exp_ps of one value with the same operations in the same order (fma where it uses fma), and
// 0 below the floor (so exp(-inf) is 0, as the masked vector code gives).
inline float exp_poly(float x) {
  if (!(x >= kExpSumFloor)) return 0.0f;
  x = std::min(x, 88.0f);
  const float n = std::nearbyint(x * 1.44269504088896341f);
  float r = std::fma(-n, 0.693359375f, x);
  r = std::fma(-n, -2.12194440e-4f, r);
  float y = 1.9875691500e-4f;
  y = std::fma(y, r, 1.3981999507e-3f);
  y = std::fma(y, r, 8.3334519073e-3f);
  y = std::fma(y, r, 4.1665795894e-2f);
  y = std::fma(y, r, 1.6666665459e-1f);
  y = std::fma(y, r, 5.0000001201e-1f);
  y = std::fma(y, r * r, r + 1.0f);
  const auto e = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &e, sizeof scale);
  return y * scale;
}
