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
