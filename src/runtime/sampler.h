// Token sampler: turns one step's logits into a token id.
//
// The pipeline, in this order (one coherent chain; each stage is skipped when it is off):
//   1. repetition penalty  logit > 0 ? logit / p : logit * p, for each distinct token among the
//                          last repeat_last_n accepted tokens (llama.cpp semantics)
//   2. temperature <= 0    greedy: argmax of the penalised logits, lowest index wins ties;
//                          no random number is drawn
//   3. temperature         logits / T, then softmax in float (subtract max, the kernels' vector
//                          exp and its fixed-order sum: cpu::exp_shift_sum)
//   4. one uniform draw    coin in [0, 1) from xorshift64* (exactly one draw per sampled token)
//   5. top_k               keep the k most probable tokens (ranked by logit, ties to the lower
//                          id; only their k weights are computed, not the whole softmax)
//   6. top_p               keep the most probable tokens until their cumulative probability
//                          exceeds top_p times the mass left after top_k (i.e. renormalised)
//   7. min_p               keep tokens with prob >= min_p * max prob
//   8. draw                r = coin * kept mass; walk the kept tokens by falling probability
//                          and return the first whose cumulative probability exceeds r
// Temperature comes before the truncations (unlike llama.cpp's default chain, which applies it
// last) because that is what llama2.c does, and matching llama2.c is the reference we test against.
//
// llama2.c compatibility: with top_k <= 0, min_p <= 0 and repeat_penalty == 1 the steps are
// llama2.c run.c's sampler for the same seed (one xorshift64* coin per token; with top_p off
// (<= 0 or >= 1) the coin walks the probabilities in index order; with top_p on, llama2.c's
// (1 - top_p) / (n - 1) speed prefilter, descending sort and nucleus cut). The probabilities
// differ from its expf and sequential sum by a few ulp, so a coin within ~1e-7 of a cdf step
// could pick the neighbour; llama2.c's golden generations are reproduced (tests).
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "autoglm/status.h"
#include "runtime/rng.h"

namespace autoglm {

struct SamplingParams {
  float temperature = 0.8f;     // <= 0: greedy
  int32_t top_k = 40;           // <= 0: off
  float top_p = 0.95f;          // >= 1 (or <= 0 in llama2.c): off; validate() requires (0, 1]
  float min_p = 0.05f;          // <= 0: off
  float repeat_penalty = 1.0f;  // 1: off
  int32_t repeat_last_n = 64;   // 0: off; -1: the whole history
  uint64_t seed = 0;            // 0 -> XorShift64Star::kZeroSeedReplacement (state must be non-zero)

  // InvalidArgument naming the first bad field: non-finite values, temperature < 0, top_k < 0,
  // top_p outside (0, 1], min_p outside [0, 1], repeat_penalty <= 0, repeat_last_n < -1.
  Status validate() const;
};

class Sampler {
 public:
  explicit Sampler(SamplingParams params);  // params must have passed validate()

  // Picks a token from logits[0..n_vocab). Does not modify the caller's logits. n_vocab > 0.
  int32_t sample(const float* logits, int32_t n_vocab);
  // Records a token the sequence actually took (prompt or generated) for the repetition penalty.
  void accept(int32_t token);
  // Clears the history and reseeds the RNG, so the next sample() starts the same sequence again.
  void reset();

  const SamplingParams& params() const { return params_; }

 private:
  struct Candidate {
    float prob;
    int32_t id;
  };

  void apply_repeat_penalty(std::vector<float>& logits) const;
  int32_t sample_index_order(float coin) const;  // top_p/top_k/min_p all off
  int32_t sample_truncated(float coin);          // top_k off, top_p or min_p on
  int32_t sample_top_k(const float* x, size_t n);  // top_k on, over logits x: draws its own coin
  // top_p (against top_p_mass), min_p and the draw over candidates_ sorted most probable first.
  int32_t draw_sorted(float coin, float top_p_mass);

  SamplingParams params_;
  XorShift64Star rng_;
  std::deque<int32_t> history_;
  std::vector<float> probs_;           // scratch (penalised logits, probabilities), reused between calls
  std::vector<Candidate> candidates_;  // scratch, reused between calls
};

}  // namespace autoglm
