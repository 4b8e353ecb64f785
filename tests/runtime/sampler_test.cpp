#include "runtime/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <vector>

#include "runtime/rng.h"

namespace autoglm {
namespace {

SamplingParams Plain(float temperature, uint64_t seed = 42) {
  SamplingParams p;
  p.temperature = temperature;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.repeat_penalty = 1.0f;
  p.seed = seed;
  return p;
}

std::vector<float> LogitsOf(const std::vector<double>& probs) {
  std::vector<float> out;
  for (double q : probs) out.push_back(static_cast<float>(std::log(q)));
  return out;
}

std::vector<double> Frequencies(Sampler& s, const std::vector<float>& logits, int draws) {
  std::vector<double> freq(logits.size(), 0.0);
  const auto n = static_cast<int32_t>(logits.size());
  for (int i = 0; i < draws; ++i) freq[static_cast<size_t>(s.sample(logits.data(), n))] += 1.0;
  for (double& f : freq) f /= draws;
  return freq;
}

TEST(XorShift64Star, MatchesLlama2cSequenceForSeed42) {
  // Computed independently in Python (64-bit masked ints):
  //   s = 42; M = 2**64 - 1
  //   for _ in range(8): s ^= s >> 12; s ^= (s << 25) & M; s ^= s >> 27; print(((s * 0x2545F4914F6CDD1D) & M) >> 32)
  const uint32_t expected[] = {1456360119u, 3359763283u, 3393612768u, 4054632243u,
                               3283045847u, 3589475362u, 877116966u,  1888976411u};
  XorShift64Star rng(42);
  for (uint32_t e : expected) EXPECT_EQ(rng.next_u32(), e);

  XorShift64Star f(42);
  EXPECT_FLOAT_EQ(f.next_float(), static_cast<float>(1456360119u >> 8) / 16777216.0f);
}

TEST(XorShift64Star, SeedZeroIsReplacedByNonZeroConstant) {
  XorShift64Star zero(0), constant(XorShift64Star::kZeroSeedReplacement);
  EXPECT_NE(zero.state(), 0u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(zero.next_u32(), constant.next_u32());
}

TEST(XorShift64Star, FloatsAreInUnitInterval) {
  XorShift64Star rng(7);
  for (int i = 0; i < 10000; ++i) {
    float x = rng.next_float();
    ASSERT_GE(x, 0.0f);
    ASSERT_LT(x, 1.0f);
  }
}

TEST(SamplingParams, DefaultsAreValid) { EXPECT_TRUE(SamplingParams{}.validate().ok()); }

TEST(SamplingParams, RejectsBadValues) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  auto rejects = [](auto mutate, const char* field) {
    SamplingParams p;
    mutate(p);
    Status s = p.validate();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << field;
    EXPECT_NE(s.message().find(field), std::string::npos) << s.message();
  };
  rejects([&](SamplingParams& p) { p.temperature = nan; }, "temperature");
  rejects([&](SamplingParams& p) { p.temperature = inf; }, "temperature");
  rejects([&](SamplingParams& p) { p.temperature = -0.5f; }, "temperature");
  rejects([&](SamplingParams& p) { p.top_k = -1; }, "top_k");
  rejects([&](SamplingParams& p) { p.top_p = 0.0f; }, "top_p");
  rejects([&](SamplingParams& p) { p.top_p = 1.5f; }, "top_p");
  rejects([&](SamplingParams& p) { p.top_p = nan; }, "top_p");
  rejects([&](SamplingParams& p) { p.min_p = -0.1f; }, "min_p");
  rejects([&](SamplingParams& p) { p.min_p = 1.1f; }, "min_p");
  rejects([&](SamplingParams& p) { p.min_p = nan; }, "min_p");
  rejects([&](SamplingParams& p) { p.repeat_penalty = 0.0f; }, "repeat_penalty");
  rejects([&](SamplingParams& p) { p.repeat_penalty = -1.0f; }, "repeat_penalty");
  rejects([&](SamplingParams& p) { p.repeat_penalty = inf; }, "repeat_penalty");
  rejects([&](SamplingParams& p) { p.repeat_last_n = -2; }, "repeat_last_n");

  SamplingParams edge;
  edge.temperature = 0.0f;
  edge.top_p = 1.0f;
  edge.min_p = 1.0f;
  edge.top_k = 0;
  edge.repeat_last_n = -1;
  EXPECT_TRUE(edge.validate().ok());
}

TEST(Sampler, GreedyPicksArgmaxAndFirstOfTies) {
  Sampler s(Plain(0.0f));
  std::vector<float> logits = {0.1f, 3.0f, -2.0f, 2.9f};
  EXPECT_EQ(s.sample(logits.data(), 4), 1);
  std::vector<float> ties = {1.0f, 5.0f, 2.0f, 5.0f, 5.0f};
  EXPECT_EQ(s.sample(ties.data(), 5), 1);
  std::vector<float> negative = {-3.0f, -1.0f, -2.0f};
  EXPECT_EQ(s.sample(negative.data(), 3), 1);
}

// Greedy as the one-pass loop `if (x[i] > x[best]) best = i` from best = 0 picks, on rows long
// enough for the vector passes (every length 1..70 covers the 8-wide chains' tails): the
// first maximum, NaNs skipped, a NaN at 0 kept, -0 and +0 equal.
TEST(Sampler, GreedyMatchesTheSequentialFirstMaximumScan) {
  auto scan = [](const std::vector<float>& x) {
    size_t best = 0;
    for (size_t i = 1; i < x.size(); ++i) {
      if (x[i] > x[best]) best = i;
    }
    return static_cast<int32_t>(best);
  };
  Sampler s(Plain(0.0f));
  std::mt19937 rng(11);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (size_t n = 1; n <= 70; ++n) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<float> x(n);
      for (float& v : x) v = static_cast<float>(static_cast<int>(rng() % 7) - 3);  // many ties
      if (trial % 4 == 1) x[rng() % n] = nan;
      if (trial % 4 == 2) x[0] = nan;
      if (trial % 4 == 3) {
        for (float& v : x) v = (rng() % 2 != 0) ? 0.0f : -0.0f;
      }
      EXPECT_EQ(s.sample(x.data(), static_cast<int32_t>(n)), scan(x)) << "n " << n << " trial " << trial;
    }
  }
}

TEST(Sampler, DoesNotModifyCallerLogits) {
  SamplingParams p = Plain(0.7f);
  p.repeat_penalty = 1.3f;
  p.top_k = 2;
  Sampler s(p);
  s.accept(0);
  const std::vector<float> original = {1.0f, 2.0f, -0.5f, 0.25f};
  std::vector<float> logits = original;
  s.sample(logits.data(), 4);
  EXPECT_EQ(logits, original);
}

TEST(Sampler, SingleTokenVocabulary) {
  SamplingParams p;
  p.top_p = 0.5f;
  Sampler s(p);
  float logit = 3.0f;
  EXPECT_EQ(s.sample(&logit, 1), 0);
}

TEST(Sampler, SameSeedSameSequenceDifferentSeedDifferent) {
  std::vector<float> logits;
  for (int i = 0; i < 50; ++i) logits.push_back(std::sin(static_cast<float>(i)) * 2.0f);
  auto run = [&](uint64_t seed) {
    SamplingParams p;  // defaults: top_k, top_p and min_p all on
    p.temperature = 1.0f;
    p.seed = seed;
    Sampler s(p);
    std::vector<int32_t> out;
    for (int i = 0; i < 64; ++i) out.push_back(s.sample(logits.data(), 50));
    return out;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
  EXPECT_NE(run(1), run(2));
}

TEST(Sampler, ResetRestartsTheSequence) {
  std::vector<float> logits = {0.0f, 0.5f, 1.0f, 0.2f};
  Sampler s(Plain(1.0f, 9));
  std::vector<int32_t> a, b;
  for (int i = 0; i < 32; ++i) a.push_back(s.sample(logits.data(), 4));
  s.reset();
  for (int i = 0; i < 32; ++i) b.push_back(s.sample(logits.data(), 4));
  EXPECT_EQ(a, b);
}

TEST(Sampler, IndexOrderWalkLikeLlama2c) {
  // Uniform over 4 tokens; the seed-42 coins are 0.339, 0.782, 0.790, 0.944, 0.764, 0.836, 0.204,
  // 0.440 (see MatchesLlama2cSequenceForSeed42); walking the cdf 0.25/0.5/0.75/1 in index order:
  std::vector<float> logits(4, 0.0f);
  Sampler s(Plain(1.0f, 42));
  const int32_t expected[] = {1, 3, 3, 3, 3, 3, 0, 1};
  for (int32_t e : expected) EXPECT_EQ(s.sample(logits.data(), 4), e);
}

TEST(Sampler, TopPWalksSortedCandidatesLikeLlama2c) {
  // probs 0.1/0.2/0.3/0.4; top_p 0.95 keeps all 4, sorted 3,2,1,0 with cdf 0.4/0.7/0.9/1.0.
  std::vector<float> logits = LogitsOf({0.1, 0.2, 0.3, 0.4});
  SamplingParams p = Plain(1.0f, 42);
  p.top_p = 0.95f;
  Sampler s(p);
  const int32_t expected[] = {3, 1, 1, 0, 1, 1, 3, 2};
  for (int32_t e : expected) EXPECT_EQ(s.sample(logits.data(), 4), e);
}

TEST(Sampler, DistributionMatchesSoftmax) {
  const std::vector<double> probs = {0.05, 0.15, 0.3, 0.5};
  std::vector<float> logits = LogitsOf(probs);
  Sampler s(Plain(1.0f, 1234));
  std::vector<double> freq = Frequencies(s, logits, 20000);
  for (size_t i = 0; i < probs.size(); ++i) EXPECT_NEAR(freq[i], probs[i], 0.015) << i;
}

TEST(Sampler, TemperatureSharpensAndFlattens) {
  std::vector<float> logits = LogitsOf({0.2, 0.8});
  Sampler cold(Plain(0.5f, 5));  // p ∝ q^2: 0.04 / 0.64 -> 0.0588 / 0.9412
  EXPECT_NEAR(Frequencies(cold, logits, 20000)[1], 0.9412, 0.015);
  Sampler hot(Plain(2.0f, 5));  // p ∝ sqrt(q): 0.447 / 0.894 -> 0.3333 / 0.6667
  EXPECT_NEAR(Frequencies(hot, logits, 20000)[1], 0.6667, 0.015);
}

TEST(Sampler, TopKOneIsGreedy) {
  std::vector<float> logits;
  for (int i = 0; i < 100; ++i) logits.push_back(std::cos(static_cast<float>(i) * 0.37f));
  Sampler greedy(Plain(0.0f));
  const int32_t want = greedy.sample(logits.data(), 100);
  SamplingParams p = Plain(1.5f, 3);
  p.top_k = 1;
  Sampler s(p);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(s.sample(logits.data(), 100), want);
}

TEST(Sampler, TopKRenormalisesOverKept) {
  std::vector<float> logits = LogitsOf({0.1, 0.3, 0.05, 0.4, 0.15});
  SamplingParams p = Plain(1.0f, 77);
  p.top_k = 2;  // keeps 3 (0.4) and 1 (0.3): 4/7 and 3/7
  Sampler s(p);
  std::vector<double> freq = Frequencies(s, logits, 20000);
  EXPECT_EQ(freq[0] + freq[2] + freq[4], 0.0);
  EXPECT_NEAR(freq[3], 4.0 / 7.0, 0.015);
  EXPECT_NEAR(freq[1], 3.0 / 7.0, 0.015);
}

// top_k over a large vocabulary (the selection skips runs of 16 that cannot enter): only the k
// largest logits are ever drawn, in proportion to their softmax renormalised over the k; among
// equal logits the lower ids are kept.
TEST(Sampler, TopKOverALargeVocabularyKeepsTheKLargest) {
  std::mt19937 rng(9);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  std::vector<float> logits(100003);
  for (float& x : logits) x = nd(rng);
  // Plant the 4 winners far apart (and one below the top in a run that also holds a winner).
  const std::vector<std::pair<size_t, float>> top = {{17, 12.0f}, {50001, 12.5f}, {99999, 11.5f}, {70000, 12.2f}};
  for (auto [i, v] : top) logits[i] = v;
  SamplingParams p = Plain(1.0f, 31);
  p.top_k = 4;
  Sampler s(p);
  const int draws = 20000;
  std::map<int32_t, int> seen;
  for (int i = 0; i < draws; ++i) ++seen[s.sample(logits.data(), static_cast<int32_t>(logits.size()))];
  double z = 0;
  for (auto [i, v] : top) z += std::exp(static_cast<double>(v) - 12.5);
  for (auto [i, v] : top) {
    EXPECT_NEAR(seen[static_cast<int32_t>(i)] / double(draws), std::exp(static_cast<double>(v) - 12.5) / z, 0.015) << i;
  }
  EXPECT_EQ(seen.size(), 4u);

  std::vector<float> flat(1000, 1.0f);  // all equal: top_k 3 keeps ids 0, 1, 2
  flat[500] = 0.5f;
  p.top_k = 3;
  Sampler u(p);
  for (int i = 0; i < 500; ++i) ASSERT_LT(u.sample(flat.data(), 1000), 3);
}

TEST(Sampler, TinyTopPIsGreedy) {
  std::vector<float> logits = {0.3f, 1.2f, 1.1f, -0.4f, 0.9f};
  SamplingParams p = Plain(1.0f, 11);
  p.top_p = 1e-6f;
  Sampler s(p);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(s.sample(logits.data(), 5), 1);
}

TEST(Sampler, TopPKeepsTheNucleus) {
  // Sorted 0.5, 0.3, 0.15, 0.05: cumulative 0.5 <= 0.7 < 0.8, so tokens 0 and 1 stay (5:3).
  std::vector<float> logits = LogitsOf({0.5, 0.3, 0.15, 0.05});
  SamplingParams p = Plain(1.0f, 21);
  p.top_p = 0.7f;
  Sampler s(p);
  std::vector<double> freq = Frequencies(s, logits, 20000);
  EXPECT_EQ(freq[2] + freq[3], 0.0);
  EXPECT_NEAR(freq[0], 5.0 / 8.0, 0.015);
}

TEST(Sampler, MinP) {
  std::vector<float> logits = LogitsOf({0.5, 0.3, 0.15, 0.05});
  SamplingParams p = Plain(1.0f, 8);
  p.min_p = 0.2f;  // threshold 0.1: drops token 3 only
  Sampler s(p);
  std::vector<double> freq = Frequencies(s, logits, 20000);
  EXPECT_EQ(freq[3], 0.0);
  EXPECT_NEAR(freq[0], 0.5 / 0.95, 0.015);
  EXPECT_NEAR(freq[2], 0.15 / 0.95, 0.015);

  p.min_p = 1.0f;  // only the most probable token survives
  Sampler only_max(p);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(only_max.sample(logits.data(), 4), 0);
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  SamplingParams p = Plain(0.0f);
  p.repeat_penalty = 1.5f;
  Sampler s(p);
  std::vector<float> pos = {2.0f, 1.9f, -1.0f};
  EXPECT_EQ(s.sample(pos.data(), 3), 0);
  s.accept(0);
  s.accept(0);  // each distinct token is penalised once: 2.0 / 1.5 = 1.33 < 1.9
  EXPECT_EQ(s.sample(pos.data(), 3), 1);

  s.reset();
  std::vector<float> neg = {-1.0f, -1.2f, -5.0f};
  EXPECT_EQ(s.sample(neg.data(), 3), 0);
  s.accept(0);  // -1.0 * 1.5 = -1.5 < -1.2
  EXPECT_EQ(s.sample(neg.data(), 3), 1);
}

TEST(Sampler, RepetitionPenaltyWindow) {
  SamplingParams p = Plain(0.0f);
  p.repeat_penalty = 2.0f;
  p.repeat_last_n = 2;
  Sampler s(p);
  std::vector<float> logits = {2.0f, 1.5f, 0.0f, 0.0f, 0.0f};
  s.accept(0);
  EXPECT_EQ(s.sample(logits.data(), 5), 1);
  s.accept(3);
  s.accept(4);  // token 0 has left the last-2 window
  EXPECT_EQ(s.sample(logits.data(), 5), 0);
  s.accept(999);  // out-of-vocabulary ids in the history are ignored
  s.accept(-7);
  EXPECT_EQ(s.sample(logits.data(), 5), 0);

  p.repeat_last_n = 0;  // off
  Sampler off(p);
  off.accept(0);
  EXPECT_EQ(off.sample(logits.data(), 5), 0);

  p.repeat_last_n = -1;  // whole history
  Sampler all(p);
  all.accept(0);
  for (int i = 0; i < 500; ++i) all.accept(3);
  EXPECT_EQ(all.sample(logits.data(), 5), 1);
}

TEST(Sampler, LargeVocabularyWithAllFiltersIsInRange) {
  std::vector<float> logits(32000);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(static_cast<float>(i) * 0.001f) * 8.0f;
  SamplingParams p;  // the defaults: top_k 40, top_p 0.95, min_p 0.05, temperature 0.8
  p.seed = 5;
  p.repeat_penalty = 1.1f;
  Sampler s(p);
  for (int i = 0; i < 50; ++i) {
    int32_t t = s.sample(logits.data(), 32000);
    ASSERT_GE(t, 0);
    ASSERT_LT(t, 32000);
    s.accept(t);
  }
}

}  // namespace
}  // namespace autoglm
