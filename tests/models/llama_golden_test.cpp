// stories260K end to end: our engine against llama2.c's published greedy ids and logits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "runtime/engine.h"
#include "test_util.h"

namespace autoglm {
namespace {

using testing::json_int_array;
using testing::read_file;
using testing::stories_path;

std::string golden_json() { return read_file(std::string(AUTOGLM_SHARED_MODELS) + "/stories260K/golden_outputs.json"); }

GenerationParams greedy(int n) {
  GenerationParams p;
  p.n_predict = n;
  p.sampling.temperature = 0.0f;
  return p;
}

TEST(LlamaGolden, GreedyIdsMatchLlama2c) {
  const std::vector<int32_t> want = json_int_array(golden_json(), "greedy_ids_from_bos");
  ASSERT_EQ(want.size(), 200u);
  for (bool optimize : {true, false}) {
    EngineOptions o;
    o.optimize_graph = optimize;
    auto e = Engine::load(stories_path(), o).value();
    auto r = e->generate_tokens({1}, greedy(199));
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->tokens, std::vector<int32_t>(want.begin() + 1, want.end())) << "optimize=" << optimize;
  }
}

TEST(LlamaGolden, TopLogitsAfterBos) {
  const std::string j = golden_json();
  const size_t at = j.find("top5_after_bos_pos0");
  const std::vector<int32_t> ids = json_int_array(j.substr(at), "token_ids");
  ASSERT_EQ(ids.size(), 5u);
  const std::vector<double> logits = {17.0235, 15.4062, 13.1083, 12.7692, 12.4181};  // golden_outputs.json
  EngineOptions o;
  o.kv_type = DType::F32;  // the reference is f32 throughout; the default f16 cache rounds v
  auto e = Engine::load(stories_path(), o).value();
  kv::SequenceKV seq;
  auto l = e->eval(seq, {1}, 0).value();
  seq.release(e->kv_cache());
  std::vector<int32_t> order(l.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + 5, order.end(), [&](int a, int b) { return l[size_t(a)] > l[size_t(b)]; });
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(order[i], ids[i]);
    EXPECT_NEAR(l[size_t(order[i])], logits[i], 2e-4);
  }
}

// A prompt run as one batch gives the same logits as the same tokens one step at a time.
TEST(LlamaGolden, BatchedPrefillEqualsIncremental) {
  auto e = Engine::load(stories_path()).value();
  const std::vector<int32_t> prompt = e->tokenizer().encode("Once upon a time, there was a big dog", true);
  ASSERT_GT(prompt.size(), 5u);
  kv::SequenceKV a, b;
  auto batched = e->eval(a, prompt, 0).value();
  std::vector<float> inc;
  for (size_t i = 0; i < prompt.size(); ++i) inc = e->eval(b, {prompt[i]}, static_cast<int32_t>(i)).value();
  for (size_t i = 0; i < batched.size(); ++i) ASSERT_NEAR(batched[i], inc[i], 1e-4) << i;
  a.release(e->kv_cache());
  b.release(e->kv_cache());
  EXPECT_EQ(e->kv_cache().pool().n_used(), 0);
}

TEST(LlamaGolden, OptimizedGraphGivesIdenticalLogits) {
  EngineOptions plain;
  plain.optimize_graph = false;
  auto e1 = Engine::load(stories_path()).value();
  auto e2 = Engine::load(stories_path(), plain).value();
  EXPECT_LT(e1->dump_graph(4, true).size(), e2->dump_graph(4, false).size());
  const std::vector<int32_t> prompt = e1->tokenizer().encode("Lily and Tom went to the park", true);
  kv::SequenceKV s1, s2;
  auto l1 = e1->eval(s1, prompt, 0).value();
  auto l2 = e2->eval(s2, prompt, 0).value();
  EXPECT_EQ(l1, l2);
  s1.release(e1->kv_cache());
  s2.release(e2->kv_cache());
}

TEST(LlamaGolden, F16KvCacheKeepsGreedyOutput) {
  const std::vector<int32_t> want = json_int_array(golden_json(), "greedy_ids_from_bos");
  EngineOptions o;
  o.kv_type = DType::F16;
  auto e = Engine::load(stories_path(), o).value();
  auto r = e->generate_tokens({1}, greedy(199)).value();
  EXPECT_EQ(r.tokens, std::vector<int32_t>(want.begin() + 1, want.end()));
}

TEST(LlamaGolden, QuantizedAtLoadStaysClose) {
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::IQ4_NL, DType::F16}) {
    EngineOptions o;
    o.requantize = t;
    auto e = Engine::load(stories_path(), o);
    ASSERT_TRUE(e.ok()) << e.status().to_string();
    kv::SequenceKV s;
    auto l = (*e)->eval(s, {1}, 0).value();
    s.release((*e)->kv_cache());
    const auto top = std::max_element(l.begin(), l.end()) - l.begin();
    EXPECT_EQ(top, 403) << dtype_name(t);  // same first token as the f32 model
    EXPECT_NEAR(l[403], 17.0235, t == DType::F16 ? 0.01 : t == DType::Q8_0 ? 0.1 : 1.0) << dtype_name(t);
  }
}

TEST(LlamaGolden, SameSeedSameTextDifferentSeedDifferentText) {
  auto e = Engine::load(stories_path()).value();
  GenerationParams p;
  p.n_predict = 60;
  p.sampling.temperature = 1.0f;
  p.sampling.seed = 7;
  auto a = e->generate("Once upon a time", p).value();
  auto b = e->generate("Once upon a time", p).value();
  p.sampling.seed = 8;
  auto c = e->generate("Once upon a time", p).value();
  EXPECT_EQ(a.text, b.text);
  EXPECT_NE(a.text, c.text);
  EXPECT_EQ(e->kv_cache().pool().n_used(), 0);  // every generation gave its blocks back
}

TEST(LlamaGolden, StreamedTextEqualsFinalText) {
  auto e = Engine::load(stories_path()).value();
  GenerationParams p = greedy(80);
  std::string streamed;
  auto r = e->generate("There was a big", p, [&](std::string_view s) {
    streamed += s;
    return true;
  }).value();
  EXPECT_EQ(streamed, r.text);
  EXPECT_EQ(r.text, e->tokenizer().decode(r.tokens).substr(0, r.text.size()));
}

TEST(LlamaGolden, ContextLimits) {
  EngineOptions o;
  o.n_ctx = 16;
  auto e = Engine::load(stories_path(), o).value();
  auto r = e->generate_tokens({1}, greedy(100)).value();
  EXPECT_EQ(r.stop, StopReason::kContextFull);
  EXPECT_EQ(r.tokens.size(), 16u);  // positions 0..15 filled, the 16th token sampled from the last
  std::vector<int32_t> long_prompt(17, 300);
  long_prompt[0] = 1;
  auto bad = e->generate_tokens(long_prompt, greedy(1));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("17 tokens"), std::string::npos);
  EXPECT_EQ(e->generate_tokens({1, 99999}, greedy(1)).status().code(), StatusCode::kOutOfRange);
  GenerationParams nan = greedy(1);
  nan.sampling.temperature = std::nanf("");
  EXPECT_EQ(e->generate_tokens({1}, nan).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(e->kv_cache().pool().n_used(), 0);
}

TEST(LlamaGolden, StopCallbackEndsGeneration) {
  auto e = Engine::load(stories_path()).value();
  int calls = 0;
  auto r = e->generate("Once", greedy(100), [&](std::string_view) { return ++calls < 3; }).value();
  EXPECT_EQ(r.stop, StopReason::kCallback);
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace autoglm

namespace autoglm {
namespace {

// INT8 KV (per token and head; keys Hadamard-rotated and asymmetric, values symmetric, f32
// parameters: src/kv/kv_cache.h) keeps llama2.c's greedy text: teacher-forced on its greedy
// ids every argmax agrees, and the free-running 199 tokens are identical. The margin is thin
// (logit RMS error vs f32 ~0.07; the plain symmetric f16-scale scheme had RMS ~0.14 and flipped
// 3 near-ties), so a regression in the int8 path shows here first.
TEST(LlamaGolden, Int8KvCacheStaysCloseAndHalvesMemory) {
  const std::vector<int32_t> want = testing::json_int_array(
      testing::read_file(std::string(AUTOGLM_SHARED_MODELS) + "/stories260K/golden_outputs.json"), "greedy_ids_from_bos");
  EngineOptions o16, o8;
  o16.kv_type = DType::F16;
  o8.kv_type = DType::I8;
  auto e16 = Engine::load(testing::stories_path(), o16).value();
  auto e8 = Engine::load(testing::stories_path(), o8).value();
  kv::SequenceKV s;
  int agree = 0;
  for (size_t i = 0; i + 1 < want.size(); ++i) {
    auto l = e8->eval(s, {want[i]}, static_cast<int32_t>(i)).value();
    agree += std::max_element(l.begin(), l.end()) - l.begin() == want[i + 1];
  }
  s.release(e8->kv_cache());
  EXPECT_EQ(agree, 199);
  GenerationParams p;
  p.n_predict = 199;
  p.sampling.temperature = 0.0f;
  auto r = e8->generate_tokens({1}, p).value();
  EXPECT_EQ(r.tokens, std::vector<int32_t>(want.begin() + 1, want.end()));
  // Per token and head int8 stores head_dim codes plus 8 (K) / 4 (V) parameter bytes: at
  // stories260K's head_dim of 8 that is (16 + 12) / 32 of f16; at 64 (real models) 0.55.
  EXPECT_LE(e8->kv_cache().bytes() * 32, e16->kv_cache().bytes() * 28);
  kv::KVCacheConfig c = e16->kv_cache().config();
  c.head_dim = 64;
  c.n_blocks = 4;
  auto big16 = kv::KVCache::create(c).value();
  c.dtype = DType::I8;
  auto big8 = kv::KVCache::create(c).value();
  EXPECT_LE(static_cast<double>(big8->bytes()) / static_cast<double>(big16->bytes()), 0.55);
}

}  // namespace
}  // namespace autoglm

namespace autoglm {
namespace {

// Perplexity of llama2.c's own greedy continuation: the model should find it very likely, and
// the all-logits path must agree with one-token-at-a-time evaluation.
TEST(LlamaGolden, PerplexityMatchesIncrementalLogits) {
  const std::vector<int32_t> ids = testing::json_int_array(
      testing::read_file(std::string(AUTOGLM_SHARED_MODELS) + "/stories260K/golden_outputs.json"), "greedy_ids_from_bos");
  auto e = Engine::load(testing::stories_path()).value();
  auto p = e->perplexity(ids, 64).value();
  EXPECT_EQ(p.windows, 4);
  EXPECT_EQ(p.scored, 63 + 63 + 63 + 7);
  double total = 0;
  for (size_t w0 = 0; w0 < ids.size(); w0 += 64) {
    kv::SequenceKV s;
    for (size_t i = w0; i + 1 < std::min(ids.size(), w0 + 64); ++i) {
      auto l = e->eval(s, {ids[i]}, static_cast<int32_t>(i - w0)).value();
      const float mx = *std::max_element(l.begin(), l.end());
      double sum = 0;
      for (float x : l) sum += std::exp(double(x - mx));
      total += std::log(sum) + mx - l[size_t(ids[i + 1])];
    }
    s.release(e->kv_cache());
  }
  EXPECT_NEAR(p.nll, total / double(p.scored), 1e-9);
  EXPECT_LT(p.ppl, 3.0);  // greedy text is the model's own most likely path
  EXPECT_GT(p.ppl, 1.0);
  EXPECT_EQ(e->perplexity(ids, 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(e->kv_cache().pool().n_used(), 0);
}

}  // namespace
}  // namespace autoglm
