// Packing Q8_0/Q4_0 weights for the CPU kernels (backends/cpu/packed.h) changes only the float
// summation order inside each matmul. On stories260K quantized at load, packing on and off give
// the same greedy tokens, logits equal within rounding until some activation lands on a Q8_0
// rounding boundary (a 1e-6 difference then moves one quant step, and the KV cache carries it),
// and the same distance from the f32 model throughout.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "backends/cpu/packed.h"
#include "runtime/engine.h"
#include "test_util.h"

namespace autoglm {
namespace {

using testing::stories_path;

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float w = 0.0f;
  for (size_t j = 0; j < a.size(); ++j) w = std::max(w, std::fabs(a[j] - b[j]));
  return w;
}

TEST(PackedWeights, SameTokensAndAccuracyAsFileLayout) {
  if (!cpu::should_pack(Tensor::empty(DType::Q8_0, {16, 32}))) GTEST_SKIP() << "no packed kernels on this CPU";
  auto f32 = Engine::load(stories_path()).value();
  for (DType t : {DType::Q8_0, DType::Q4_0}) {
    EngineOptions packed, plain;
    packed.requantize = plain.requantize = t;
    plain.pack_weights = false;
    auto a = Engine::load(stories_path(), packed).value();
    auto b = Engine::load(stories_path(), plain).value();
    GenerationParams p;
    p.n_predict = 120;
    p.sampling.temperature = 0.0f;
    auto ra = a->generate_tokens({1}, p).value();
    auto rb = b->generate_tokens({1}, p).value();
    // Q8_0 keeps every greedy token; with Q4_0's coarser weights a rounding-boundary event
    // (above) can flip a near-tie, so only the opening must agree.
    const size_t first_diff = static_cast<size_t>(
        std::mismatch(ra.tokens.begin(), ra.tokens.end(), rb.tokens.begin(), rb.tokens.end()).first - ra.tokens.begin());
    EXPECT_GE(first_diff, t == DType::Q8_0 ? ra.tokens.size() : size_t{40}) << dtype_name(t);

    std::vector<TokenId> text = {1};  // teacher-forced over that text
    text.insert(text.end(), ra.tokens.begin(), ra.tokens.end());
    kv::SequenceKV sa, sb, sf;
    float early = 0.0f, err_packed = 0.0f, err_plain = 0.0f;
    for (size_t i = 0; i < text.size(); ++i) {
      const auto la = a->eval(sa, {text[i]}, static_cast<int32_t>(i)).value();
      const auto lb = b->eval(sb, {text[i]}, static_cast<int32_t>(i)).value();
      const auto lf = f32->eval(sf, {text[i]}, static_cast<int32_t>(i)).value();
      if (i < 32) early = std::max(early, max_abs_diff(la, lb));
      err_packed = std::max(err_packed, max_abs_diff(la, lf));
      err_plain = std::max(err_plain, max_abs_diff(lb, lf));
    }
    sa.release(a->kv_cache());
    sb.release(b->kv_cache());
    sf.release(f32->kv_cache());
    EXPECT_LT(early, 1e-4f) << dtype_name(t);
    EXPECT_LT(err_packed, 1.25f * err_plain + 0.05f) << dtype_name(t) << " plain's error " << err_plain;
  }
}

}  // namespace
}  // namespace autoglm
