#include "bench_batched.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

namespace autoglm::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Extra tokens per sequence beyond n_gen: the first sequence may be a step or two ahead of the
// last (see the gate below); the slack keeps every sequence decoding for n_gen steps after the
// last one has started.
constexpr int64_t kSlack = 16;
constexpr int64_t kPromptLetters = 4;

}  // namespace

ServingOptions batched_serving_options(int max_batch, int64_t prompt_tokens, int64_t n_gen) {
  ServingOptions o;
  o.n_ctx = static_cast<int32_t>(prompt_tokens + n_gen + kSlack + 8);
  o.max_running = max_batch;
  o.kv_tokens = static_cast<int32_t>(int64_t{max_batch} * (o.n_ctx + 32));  // + room for partial blocks
  // Short prompts all in one step; long ones (bench -d) prefill in chunks of this budget.
  o.max_batch_tokens = static_cast<int32_t>(std::clamp<int64_t>(int64_t{max_batch} * prompt_tokens, 512, 2048));
  o.max_queue = max_batch;
  o.max_tokens_cap = o.n_ctx;
  o.prefix_caching = false;
  return o;
}

std::vector<int32_t> batched_prompt(const ServingEngine& eng, int i, int64_t depth) {
  const char* letters = "thequickbrownfoxjumpsoveralazydog";
  std::vector<int32_t> ids;
  // Letters without spaces: at most one token each; a BPE vocabulary merges some, so the text
  // grows until it is long enough, then the ids are cut to `depth`.
  for (int64_t n_letters = depth > 0 ? depth + 8 : kPromptLetters;; n_letters *= 2) {
    std::string text;
    for (int64_t k = 0; k < n_letters; ++k) text += letters[(i * 7 + k) % 33];
    ids = eng.tokenize(text, /*add_special=*/true, /*parse_special=*/false);
    if (static_cast<int64_t>(ids.size()) >= depth || n_letters > 64 * (depth + 8)) break;
  }
  if (depth > 0 && static_cast<int64_t>(ids.size()) > depth) ids.resize(static_cast<size_t>(depth));
  return ids;
}

Result<double> batched_decode_tps(ServingEngine& eng, int batch, int64_t depth, int64_t n_gen) {
  struct Seq {
    std::vector<Clock::time_point> token_times;
    bool done = false;
    Status error;
  };
  std::vector<Seq> seqs(static_cast<size_t>(batch));
  std::mutex mu;
  std::condition_variable cv;
  int n_done = 0;
  // The gate: the first token event waits (on the engine thread, which holds no engine lock in
  // callbacks) until every request is queued, so all B are admitted within a step of each other
  // even when this thread is descheduled between submits on a busy machine.
  bool all_queued = false;
  auto open_gate = [&] {
    std::lock_guard<std::mutex> lock(mu);
    all_queued = true;
    cv.notify_all();
  };
  for (int i = 0; i < batch; ++i) {
    CompletionRequest req;
    req.prompt = batched_prompt(eng, i, depth);
    req.max_tokens = static_cast<int32_t>(n_gen + kSlack);
    req.temperature = 0.0f;  // greedy: sampling cost stays small
    req.ignore_eos = true;   // every sequence runs its full length
    Seq* s = &seqs[static_cast<size_t>(i)];
    auto id = eng.submit(std::move(req), [&, s](const CompletionEvent& ev) {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return all_queued; });
      const auto now = Clock::now();
      if (ev.kind == CompletionEvent::Kind::kToken) {
        if (ev.token >= 0) s->token_times.push_back(now);  // token -1: held-back text only
        return;
      }
      if (ev.kind == CompletionEvent::Kind::kError) s->error = ev.error;
      s->done = true;
      ++n_done;
      cv.notify_all();
    });
    if (!id.ok()) {
      open_gate();
      std::unique_lock<std::mutex> lock(mu);  // the submitted ones finish before seqs goes away
      cv.wait(lock, [&] { return n_done == i; });
      return id.status();
    }
  }
  open_gate();
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return n_done == batch; });
  for (const Seq& s : seqs) {
    if (!s.error.ok()) return s.error;
    if (s.token_times.empty()) return Internal("a batched sequence generated no tokens");
  }

  // All B decode together from the step that gave the last sequence its first token (t0)
  // until the first sequence's last token. Steps are timed on that last-started sequence: each
  // of its tokens ends one step, and each such step produced one token for every sequence.
  size_t last_started = 0;
  Clock::time_point first_finished = seqs[0].token_times.back();
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (seqs[i].token_times.front() > seqs[last_started].token_times.front()) last_started = i;
    first_finished = std::min(first_finished, seqs[i].token_times.back());
  }
  const std::vector<Clock::time_point>& t = seqs[last_started].token_times;
  int64_t steps = 0;
  for (size_t k = 1; k < t.size() && steps < n_gen && t[k] <= first_finished; ++k) ++steps;
  if (steps < n_gen) {
    return Unavailable("only " + std::to_string(steps) + " of " + std::to_string(n_gen) +
                              " steps had all " + std::to_string(batch) + " sequences decoding");
  }
  const double s = std::chrono::duration<double>(t[static_cast<size_t>(steps)] - t[0]).count();
  if (s <= 0) return Internal("batched decode took no measurable time");
  return static_cast<double>(batch) * static_cast<double>(steps) / s;
}

}  // namespace autoglm::cli
