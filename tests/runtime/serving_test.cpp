// ServingEngine / Scheduler: continuous batching must not change any request's output.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "autoglm/serving.h"

namespace autoglm {
namespace {

std::string stories() { return std::string(AUTOGLM_SHARED_MODELS) + "/stories260K/stories260K.gguf"; }

// Collects one request's events and lets the test wait for the end.
struct Collector {
  std::mutex mu;
  std::condition_variable cv;
  std::string text;
  std::vector<int32_t> tokens;
  bool done = false;
  CompletionEvent last;
  EventSink sink() {
    return [this](const CompletionEvent& e) {
      std::lock_guard<std::mutex> lock(mu);
      if (e.kind == CompletionEvent::Kind::kToken) {
        text += e.text;
        if (e.token >= 0) tokens.push_back(e.token);
      } else {
        done = true;
        last = e;
      }
      cv.notify_all();
    };
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return done; }));
  }
  void wait_tokens(size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::seconds(60), [&] { return done || tokens.size() >= n; });
  }
};

// Stats are published at the end of each engine step, a moment after the events of that step:
// poll briefly for a condition on them.
template <typename Pred>
ServingStats eventually(const ServingEngine& e, Pred pred) {
  ServingStats st = e.stats();
  for (int i = 0; i < 400 && !pred(st); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    st = e.stats();
  }
  return st;
}

std::unique_ptr<ServingEngine> make(ServingOptions o = {}) {
  OptimizationConfig oc;
  oc.set_threads(2);
  auto e = ServingEngine::create(stories(), oc, o);
  EXPECT_TRUE(e.ok()) << e.status().to_string();
  return std::move(e).value();
}

CompletionRequest req(ServingEngine& e, const std::string& prompt, int max_tokens, float temp = 0.0f, uint64_t seed = 0) {
  CompletionRequest r;
  r.prompt = e.tokenize(prompt, true, false);
  r.max_tokens = max_tokens;
  r.temperature = temp;
  r.seed = seed;
  return r;
}

std::string run_alone(const CompletionRequest& r) {
  auto e = make();
  Collector c;
  EXPECT_TRUE(e->submit(r, c.sink()).ok());
  c.wait();
  return c.text;
}

TEST(Serving, GreedyMatchesLlama2cGolden) {
  auto e = make();
  Collector c;
  CompletionRequest r;
  r.prompt = {1};
  r.max_tokens = 200;
  r.temperature = 0;
  ASSERT_TRUE(e->submit(r, c.sink()).ok());
  c.wait();
  EXPECT_EQ(c.last.finish_reason, "length");
  EXPECT_EQ(c.last.completion_tokens, 200);
  EXPECT_EQ(c.text.substr(0, 52), "Once upon a time, there was a little girl named Lily");
  EXPECT_TRUE(c.text.ends_with("Lily didn't want to help her mom, so she")) << c.text;
}

TEST(Serving, SixteenConcurrentRequestsEqualEachAlone) {
  const std::vector<std::string> prompts = {"Once upon a time", "Lily and Tom", "There was a big", "The cat sat",
                                            "One day", "Tim had a red ball", "The sun", "A little bird"};
  std::vector<CompletionRequest> reqs;
  auto e = make();
  for (size_t i = 0; i < 16; ++i) {
    // Half greedy, half sampled with their own seeds.
    reqs.push_back(req(*e, prompts[i % prompts.size()], 40 + static_cast<int>(i), i % 2 ? 0.9f : 0.0f, 100 + i));
  }
  std::vector<Collector> cs(16);
  for (size_t i = 0; i < 16; ++i) ASSERT_TRUE(e->submit(reqs[i], cs[i].sink()).ok());
  for (auto& c : cs) c.wait();
  for (size_t i = 0; i < 16; ++i) {
    EXPECT_EQ(cs[i].text, run_alone(reqs[i])) << "request " << i;
  }
  auto st = eventually(*e, [](const ServingStats& s) { return s.requests_finished == 16; });
  EXPECT_EQ(st.requests_finished, 16);
  EXPECT_EQ(st.kv_blocks_used, 0);
}

TEST(Serving, PreemptionUnderKvPressureKeepsOutputs) {
  ServingOptions o;
  o.n_ctx = 128;
  o.kv_tokens = 128;  // room for about one long sequence at a time
  o.max_running = 4;
  o.prefix_caching = false;
  auto e = make(o);
  std::vector<CompletionRequest> reqs;
  for (int i = 0; i < 4; ++i) reqs.push_back(req(*e, i % 2 ? "Lily and Tom" : "Once upon a time", 90, 0.8f, 7 + i));
  std::vector<Collector> cs(4);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(e->submit(reqs[size_t(i)], cs[size_t(i)].sink()).ok());
  for (auto& c : cs) c.wait();
  EXPECT_GT(eventually(*e, [](const ServingStats& s) { return s.preemptions > 0; }).preemptions, 0);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(cs[i].text, run_alone(reqs[i])) << i;
}

TEST(Serving, CancelFreesBlocks) {
  auto e = make();
  Collector c;
  auto id = e->submit(req(*e, "Once upon a time", 1000), c.sink());
  ASSERT_TRUE(id.ok());
  c.wait_tokens(5);
  EXPECT_GT(eventually(*e, [](const ServingStats& s) { return s.kv_blocks_used > 0; }).kv_blocks_used, 0);
  e->cancel(*id);
  c.wait();
  EXPECT_EQ(c.last.finish_reason, "cancelled");
  const auto st = eventually(*e, [](const ServingStats& s) { return s.kv_blocks_used == 0 && s.requests_cancelled == 1; });
  EXPECT_EQ(st.kv_blocks_used, 0);
  EXPECT_EQ(st.requests_cancelled, 1);
}

TEST(Serving, PrefixCacheReusesSharedPrompt) {
  auto e = make();
  const std::string p = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";
  Collector a, b;
  ASSERT_TRUE(e->submit(req(*e, p, 8), a.sink()).ok());
  a.wait();
  EXPECT_EQ(a.last.cached_prompt_tokens, 0);
  ASSERT_TRUE(e->submit(req(*e, p + " One day", 8), b.sink()).ok());
  b.wait();
  EXPECT_GE(b.last.cached_prompt_tokens, 16);
  EXPECT_EQ(b.last.cached_prompt_tokens % 16, 0);
  EXPECT_EQ(b.text, run_alone(req(*e, p + " One day", 8)));
}

TEST(Serving, SessionSecondTurnPrefillsOnlyNewTokens) {
  auto e = make();
  CompletionRequest t1 = req(*e, "Once upon a time", 20);
  t1.session_id = "chat-1";
  t1.owner = "key-a";
  Collector a;
  ASSERT_TRUE(e->submit(t1, a.sink()).ok());
  a.wait();
  EXPECT_EQ(eventually(*e, [](const ServingStats& s) { return s.sessions == 1; }).sessions, 1);
  // Turn 2: the whole previous conversation plus new text.
  CompletionRequest t2 = t1;
  t2.prompt.insert(t2.prompt.end(), a.tokens.begin(), a.tokens.end());
  const auto more = e->tokenize(" Then", false, false);
  t2.prompt.insert(t2.prompt.end(), more.begin(), more.end());
  Collector b;
  ASSERT_TRUE(e->submit(t2, b.sink()).ok());
  b.wait();
  // Everything but the last sampled token of turn 1 (never fed back) was cached.
  EXPECT_EQ(b.last.cached_prompt_tokens, static_cast<int32_t>(t1.prompt.size() + a.tokens.size() - 1));
  t2.session_id.clear();
  EXPECT_EQ(b.text, run_alone(t2));
  // Another owner with the same session id sees nothing of it.
  CompletionRequest t3 = t2;
  t3.session_id = "chat-1";
  t3.owner = "key-b";
  Collector c;
  ASSERT_TRUE(e->submit(t3, c.sink()).ok());
  c.wait();
  EXPECT_LT(c.last.cached_prompt_tokens, b.last.cached_prompt_tokens);
}

TEST(Serving, StopStringsCutTheText) {
  const std::string full = run_alone(req(*make(), "Once upon a time", 60));
  const size_t at = full.find("Lily");
  ASSERT_NE(at, std::string::npos);
  auto e = make();
  CompletionRequest r = req(*e, "Once upon a time", 60);
  r.stop = {"Lily", "zzz-never"};
  Collector c;
  ASSERT_TRUE(e->submit(r, c.sink()).ok());
  c.wait();
  EXPECT_EQ(c.text, full.substr(0, at));
  EXPECT_EQ(c.last.finish_reason, "stop");
}

TEST(Serving, LogprobsAndLogitBias) {
  auto e = make();
  CompletionRequest r = req(*e, "Once upon a time", 5);
  r.top_logprobs = 3;
  std::vector<CompletionEvent> evs;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  ASSERT_TRUE(e->submit(r, [&](const CompletionEvent& ev) {
    std::lock_guard<std::mutex> l(mu);
    evs.push_back(ev);
    done = done || ev.kind == CompletionEvent::Kind::kDone;
    cv.notify_all();
  }).ok());
  {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return done; });
  }
  int tokens = 0;
  for (const auto& ev : evs) {
    if (ev.kind != CompletionEvent::Kind::kToken || ev.token < 0) continue;
    ++tokens;
    ASSERT_EQ(ev.top_logprobs.size(), 3u);
    EXPECT_EQ(ev.top_logprobs[0].token, ev.token);  // greedy picks the most likely
    EXPECT_LE(ev.logprob, 0.0f);
    EXPECT_GE(ev.top_logprobs[0].logprob, ev.top_logprobs[1].logprob);
  }
  EXPECT_EQ(tokens, 5);
  // A huge bias forces a token.
  CompletionRequest b = req(*e, "Once upon a time", 3);
  b.logit_bias[300] = 100.0f;
  Collector c;
  ASSERT_TRUE(e->submit(b, c.sink()).ok());
  c.wait();
  EXPECT_EQ(c.tokens, (std::vector<int32_t>{300, 300, 300}));
}

TEST(Serving, RejectsBadRequests) {
  ServingOptions o;
  o.n_ctx = 32;
  o.max_queue = 2;
  auto e = make(o);
  CompletionRequest r = req(*e, "Once", 4);
  r.prompt.assign(40, 300);
  auto st = e->submit(r, {});
  EXPECT_EQ(st.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.status().message().find("40 tokens"), std::string::npos);
  r = req(*e, "Once", 0);
  EXPECT_EQ(e->submit(r, {}).status().code(), StatusCode::kInvalidArgument);
  r = req(*e, "Once", 4);
  r.prompt.push_back(512);
  EXPECT_EQ(e->submit(r, {}).status().code(), StatusCode::kInvalidArgument);
  r = req(*e, "Once", 4);
  r.temperature = -1;
  EXPECT_EQ(e->submit(r, {}).status().code(), StatusCode::kInvalidArgument);
  r.temperature = 0;
  r.prompt.clear();
  EXPECT_EQ(e->submit(r, {}).status().code(), StatusCode::kInvalidArgument);
  // Fill the queue faster than a 1-token-per-step engine drains it.
  std::vector<Collector> cs(20);
  int rejected = 0;
  for (auto& c : cs) {
    auto id = e->submit(req(*e, "Once", 20), c.sink());
    if (!id.ok()) {
      EXPECT_EQ(id.status().code(), StatusCode::kResourceExhausted);
      c.done = true;
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
  for (auto& c : cs) c.wait();
  e->drain(10000);
  EXPECT_EQ(e->submit(req(*e, "Once", 2), {}).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace autoglm

namespace autoglm {
namespace {

TEST(Serving, PrefixCacheIsScopedByOwner) {
  auto e = make();
  const std::string p = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";
  auto run = [&](const std::string& owner) {
    CompletionRequest r = req(*e, p, 4);
    r.owner = owner;
    Collector c;
    EXPECT_TRUE(e->submit(r, c.sink()).ok());
    c.wait();
    return c.last.cached_prompt_tokens;
  };
  EXPECT_EQ(run("alice"), 0);
  EXPECT_EQ(run("bob"), 0);  // bob never sees alice's blocks
  EXPECT_GT(run("alice"), 0);
}

}  // namespace
}  // namespace autoglm
