#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "backends/cpu/kernels.h"
#include "core/check.h"

namespace autoglm {
namespace {

bool finite(float x) { return std::isfinite(x); }

// Falling probability, then rising id: a total order, so the result never depends on the sort
// algorithm (llama2.c's qsort leaves exact ties unspecified; we pick the lower id first).
bool more_probable(float pa, int32_t ia, float pb, int32_t ib) { return pa > pb || (pa == pb && ia < ib); }
// The same order over candidates ({prob, id}): the sort key of every truncation.
constexpr auto by_prob = [](const auto& a, const auto& b) { return more_probable(a.prob, a.id, b.prob, b.id); };

// The same value as the sequential `m = std::max(m, x[i])` from m = x[0] (max is exact, so the
// order does not matter for numbers), in 8 independent chains the compiler can keep in registers.
float max_of(const float* x, size_t n) {
  float m[8];
  for (float& v : m) v = x[0];
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (size_t j = 0; j < 8; ++j) m[j] = std::max(m[j], x[i + j]);
  }
  for (; i < n; ++i) m[0] = std::max(m[0], x[i]);
  float r = m[0];
  for (size_t j = 1; j < 8; ++j) r = std::max(r, m[j]);
  return r;
}

// Greedy's pick: the first index of the largest value, as the loop `if (x[i] > x[best]) best = i`
// from best = 0 finds it (NaNs never win; a NaN at 0 is kept), in two vectorisable passes: the
// one-pass loop carries its index through every comparison and cost ~35 us per 49k-entry row,
// 16 of them in every step of a 16-sequence batch.
size_t first_max_index(const float* x, size_t n) {
  const float m = max_of(x, n);  // max_of keeps x[0] when it is NaN, and skips other NaNs
  if (m != m) return 0;
  size_t i = 0;
  while (x[i] != m) ++i;  // m is one of the values
  return i;
}

}  // namespace

Status SamplingParams::validate() const {
  if (!finite(temperature) || temperature < 0.0f) {
    return InvalidArgument("sampling: temperature must be a finite number >= 0 (0 = greedy), got " +
                           std::to_string(temperature));
  }
  if (top_k < 0) return InvalidArgument("sampling: top_k must be >= 0 (0 = off), got " + std::to_string(top_k));
  if (!finite(top_p) || top_p <= 0.0f || top_p > 1.0f) {
    return InvalidArgument("sampling: top_p must be in (0, 1] (1 = off), got " + std::to_string(top_p));
  }
  if (!finite(min_p) || min_p < 0.0f || min_p > 1.0f) {
    return InvalidArgument("sampling: min_p must be in [0, 1] (0 = off), got " + std::to_string(min_p));
  }
  if (!finite(repeat_penalty) || repeat_penalty <= 0.0f) {
    return InvalidArgument("sampling: repeat_penalty must be a finite number > 0 (1 = off), got " +
                           std::to_string(repeat_penalty));
  }
  if (repeat_last_n < -1) {
    return InvalidArgument("sampling: repeat_last_n must be >= -1 (-1 = whole history, 0 = off), got " +
                           std::to_string(repeat_last_n));
  }
  return Status::OK();
}

Sampler::Sampler(SamplingParams params) : params_(params), rng_(params.seed) {
  AG_CHECK_MSG(params_.validate().ok(), "Sampler built from unvalidated SamplingParams");
}

void Sampler::accept(int32_t token) {
  if (params_.repeat_last_n == 0) return;
  history_.push_back(token);
  if (params_.repeat_last_n > 0 && history_.size() > static_cast<size_t>(params_.repeat_last_n)) {
    history_.pop_front();
  }
}

void Sampler::reset() {
  history_.clear();
  rng_.reseed(params_.seed);
}

void Sampler::apply_repeat_penalty(std::vector<float>& logits) const {
  std::vector<int32_t> recent(history_.begin(), history_.end());
  std::sort(recent.begin(), recent.end());
  recent.erase(std::unique(recent.begin(), recent.end()), recent.end());  // each token once
  const float p = params_.repeat_penalty;
  for (int32_t t : recent) {
    if (t < 0 || static_cast<size_t>(t) >= logits.size()) continue;
    float& l = logits[static_cast<size_t>(t)];
    l = l > 0.0f ? l / p : l * p;
  }
}

int32_t Sampler::sample(const float* logits, int32_t n_vocab) {
  AG_CHECK(logits != nullptr && n_vocab > 0);
  const size_t n = static_cast<size_t>(n_vocab);
  // The caller's logits are never modified: a penalised copy, or the logits themselves read-only.
  const float* x = logits;
  if (params_.repeat_penalty != 1.0f && !history_.empty()) {
    probs_.assign(logits, logits + n);
    apply_repeat_penalty(probs_);
    x = probs_.data();
  }

  if (params_.temperature <= 0.0f) return static_cast<int32_t>(first_max_index(x, n));

  const bool top_k_on = params_.top_k > 0 && params_.top_k < n_vocab;  // k >= n keeps everything: off
  if (top_k_on) return sample_top_k(x, n);
  if (x != probs_.data()) probs_.assign(x, x + n);

  // Softmax: logits / T, minus their max, exp and normalise. exp and its sum are the CPU kernels'
  // (exp_shift_sum: within a few ulp of expf, summed in a fixed lane order, so the same bits on
  // every ISA): a scalar expf per entry made one sample of a 150k vocabulary cost ~0.6 ms.
  float* p = probs_.data();
  const float t = params_.temperature;
  for (size_t i = 0; i < n; ++i) p[i] /= t;
  const float sum = cpu::exp_shift_sum(p, static_cast<int64_t>(n), max_of(p, n));
  for (size_t i = 0; i < n; ++i) p[i] /= sum;

  const float coin = rng_.next_float();  // exactly one draw per sampled token, like llama2.c
  const bool top_p_on = params_.top_p > 0.0f && params_.top_p < 1.0f;
  if (params_.min_p <= 0.0f && !top_p_on) return sample_index_order(coin);
  return sample_truncated(coin);
}

int32_t Sampler::sample_index_order(float coin) const {
  float cdf = 0.0f;
  for (size_t i = 0; i < probs_.size(); ++i) {
    cdf += probs_[i];
    if (coin < cdf) return static_cast<int32_t>(i);
  }
  return static_cast<int32_t>(probs_.size()) - 1;  // rounding left the cdf just below 1
}

int32_t Sampler::sample_truncated(float coin) {
  const size_t n = probs_.size();
  const bool top_p_on = params_.top_p > 0.0f && params_.top_p < 1.0f;
  const bool min_p_on = params_.min_p > 0.0f;

  // Speed prefilter over the whole vocabulary; it cannot change the result. The nucleus is
  // measured against mass 1, so llama2.c's bound holds: tokens below (1 - top_p) / (n - 1)
  // together weigh less than 1 - top_p. min_p's threshold depends only on the max prob.
  float floor = 0.0f;
  if (n > 1) {
    if (top_p_on) floor = (1.0f - params_.top_p) / static_cast<float>(n - 1);
    if (min_p_on) floor = std::max(floor, params_.min_p * *std::max_element(probs_.begin(), probs_.end()));
  }
  candidates_.clear();
  for (size_t i = 0; i < n; ++i) {
    if (probs_[i] >= floor) candidates_.push_back({probs_[i], static_cast<int32_t>(i)});
  }
  if (candidates_.empty()) {  // a near-uniform distribution with a tiny top_p: keep everything
    for (size_t i = 0; i < n; ++i) candidates_.push_back({probs_[i], static_cast<int32_t>(i)});
  }
  std::sort(candidates_.begin(), candidates_.end(), by_prob);
  return draw_sorted(coin, 1.0f);  // 1.0f keeps llama2.c's comparison cumulative > top_p bit-exact
}

int32_t Sampler::sample_top_k(const float* x, size_t n) {
  // Only the k most likely tokens can be drawn, and every stage after top_k renormalises over
  // them, so their weights exp(l / T - l_max / T) are all that is needed: one pass keeps the k
  // largest logits (ties: the lower id) in a heap, then k exps instead of one per entry.
  const auto k = static_cast<size_t>(params_.top_k);
  const auto worse_first = by_prob;  // as a heap order: the least probable candidate on top
  candidates_.clear();
  const auto offer = [&](size_t i) {
    const Candidate c{x[i], static_cast<int32_t>(i)};
    if (candidates_.size() < k) {
      candidates_.push_back(c);
      std::push_heap(candidates_.begin(), candidates_.end(), worse_first);
    } else if (more_probable(c.prob, c.id, candidates_.front().prob, candidates_.front().id)) {
      std::pop_heap(candidates_.begin(), candidates_.end(), worse_first);
      candidates_.back() = c;
      std::push_heap(candidates_.begin(), candidates_.end(), worse_first);
    }
  };
  // Once the heap is full, a run of 16 whose max is not above its weakest cannot enter (an equal
  // value comes later, so has the higher id): most of the vocabulary is skipped 16 at a time.
  constexpr size_t kRun = 16;
  size_t i = 0;
  for (; i + kRun <= n; i += kRun) {
    if (candidates_.size() == k && max_of(x + i, kRun) <= candidates_.front().prob) continue;
    for (size_t j = i; j < i + kRun; ++j) offer(j);
  }
  for (; i < n; ++i) offer(i);
  std::sort_heap(candidates_.begin(), candidates_.end(), worse_first);  // most probable first
  const float t = params_.temperature;
  const float top = candidates_.front().prob / t;
  float mass = 0.0f;
  for (Candidate& c : candidates_) {
    c.prob = std::exp(c.prob / t - top);
    mass += c.prob;
  }
  const float coin = rng_.next_float();  // exactly one draw per sampled token
  return draw_sorted(coin, mass);
}

int32_t Sampler::draw_sorted(float coin, float top_p_mass) {
  if (params_.top_p > 0.0f && params_.top_p < 1.0f) {
    const float limit = params_.top_p * top_p_mass;
    float cumulative = 0.0f;
    for (size_t i = 0; i < candidates_.size(); ++i) {
      cumulative += candidates_[i].prob;
      if (cumulative > limit) {
        candidates_.resize(i + 1);  // the token that crosses the limit stays in
        break;
      }
    }
  }
  if (params_.min_p > 0.0f) {
    const float threshold = params_.min_p * candidates_.front().prob;
    size_t keep = 1;
    while (keep < candidates_.size() && candidates_[keep].prob >= threshold) ++keep;
    candidates_.resize(keep);
  }
  float kept_mass = 0.0f;
  for (const Candidate& c : candidates_) kept_mass += c.prob;
  const float r = coin * kept_mass;
  float cdf = 0.0f;
  for (const Candidate& c : candidates_) {
    cdf += c.prob;
    if (r < cdf) return c.id;
  }
  return candidates_.back().id;  // rounding
}

}  // namespace autoglm
