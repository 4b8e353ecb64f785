// XorShift64Star: the sampler's random number generator. It is the generator llama2.c's run.c
// uses (xorshift64* with the 0x2545F4914F6CDD1D multiplier, upper 32 bits returned), so that a
// seed gives the same draws, and therefore the same text, as llama2.c.
#pragma once

#include <cstdint>

namespace autoglm {

class XorShift64Star {
 public:
  // xorshift state must never be zero (zero is a fixed point), so seed 0 maps to this constant.
  static constexpr uint64_t kZeroSeedReplacement = 0x9E3779B97F4A7C15ull;

  explicit XorShift64Star(uint64_t seed = 0) { reseed(seed); }

  void reseed(uint64_t seed) { state_ = seed != 0 ? seed : kZeroSeedReplacement; }

  uint32_t next_u32() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return static_cast<uint32_t>((state_ * 0x2545F4914F6CDD1Dull) >> 32);
  }

  // Uniform in [0, 1) with 24 bits of precision: exactly representable as a float.
  float next_float() { return static_cast<float>(next_u32() >> 8) / 16777216.0f; }

  uint64_t state() const { return state_; }

 private:
  uint64_t state_;
};

}  // namespace autoglm
