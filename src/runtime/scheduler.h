// Scheduler: the engine loop of DESIGN.md §3. One thread owns the Engine and runs
// iteration-level continuous batching: every step gives each running sequence some tokens
// under a token budget (decode first, then chunked prefill), admits waiting requests while KV
// blocks remain, preempts the youngest sequence (to recompute later) when blocks run out,
// reuses KV blocks of shared prompt prefixes and of multi-turn sessions, and frees a
// cancelled request's blocks within one step.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "autoglm/serving.h"
#include "runtime/engine.h"
#include "runtime/sequence.h"

namespace autoglm {

class Scheduler {
 public:
  static Result<std::unique_ptr<Scheduler>> create(const std::string& model_path, const OptimizationConfig& opt,
                                                  const ServingOptions& opts);
  ~Scheduler();

  Result<uint64_t> submit(CompletionRequest req, EventSink sink);
  void cancel(uint64_t id);
  void drain(int timeout_ms);
  ServingStats stats() const;
  const Engine& engine() const { return *engine_; }
  const ServingOptions& options() const { return opts_; }

 private:
  struct Session {
    std::unique_ptr<Sequence> seq;  // its KV and the tokens that KV holds
    std::chrono::steady_clock::time_point last_used;
  };

  Scheduler() = default;
  void loop();
  void take_inbox();
  void admit();
  bool reserve_or_preempt(Sequence& s, int32_t positions);
  bool evict_one_session();
  void preempt(Sequence& victim);
  void run_step();
  // The next token from one sequence's logits (bias, penalties, sampler, logprobs): safe to run
  // for different sequences on different threads.
  CompletionEvent choose_token(Sequence& s, float* logits, int32_t n_vocab) const;
  // Records the chosen token and emits its text, stop or finish.
  void after_logits(Sequence& s, CompletionEvent ev);
  void finish(Sequence& s, const std::string& reason, bool emit_tail = true);
  void fail(Sequence& s, const Status& st);
  void release_kv(Sequence& s);
  void register_blocks(Sequence& s);
  void match_prefix(Sequence& s);
  void resume_session(Sequence& s);
  void expire_sessions();
  void publish_stats();
  static std::string session_key(const CompletionRequest& r) { return r.owner + '\x1f' + r.session_id; }

  std::unique_ptr<Engine> engine_;
  ServingOptions opts_;

  // Shared with other threads.
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<std::unique_ptr<Sequence>> inbox_;
  std::vector<uint64_t> cancels_;
  uint64_t next_id_ = 1;
  int64_t queued_ = 0;  // inbox + waiting, for the queue bound
  bool stop_ = false;
  bool draining_ = false;
  ServingStats stats_;

  // Engine thread only.
  std::deque<std::unique_ptr<Sequence>> waiting_;
  std::vector<std::unique_ptr<Sequence>> running_;
  std::map<std::string, Session> sessions_;
  ServingStats local_;
  std::thread thread_;
};

}  // namespace autoglm
