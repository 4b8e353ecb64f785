// One HTTP request's choices in flight on the engine. The engine thread's sinks only push events
// into a locked queue; the HTTP thread that owns the Generation drains it, waits, or cancels.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "autoglm/serving.h"
#include "metrics.h"

namespace autoglm::server {

struct ChoiceEvent {
  int32_t choice = 0;
  CompletionEvent event;
  std::chrono::steady_clock::time_point at;  // when the engine emitted it
};

// The queue between the engine thread (push) and one HTTP thread (pop).
class EventChannel {
 public:
  void push(int32_t choice, const CompletionEvent& ev);
  // Moves every queued event into *out, waiting up to `timeout` for the first. False if none came.
  bool pop_all(std::vector<ChoiceEvent>* out, std::chrono::milliseconds timeout);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ChoiceEvent> q_;
};

class Generation {
 public:
  // Submits `n` copies of `req` (seeds seed, seed+1, ...). On failure nothing stays queued.
  static Result<std::unique_ptr<Generation>> start(ServingEngine* engine, Metrics* metrics, const CompletionRequest& req,
                                                   int32_t n);
  ~Generation();  // cancels whatever has not finished (a client that went away)

  // Waits up to `timeout` for events and returns them in order; also records TTFT and token latency.
  std::vector<ChoiceEvent> next(std::chrono::milliseconds timeout);
  bool finished() const { return n_done_ == static_cast<int32_t>(ids_.size()); }
  void cancel();

 private:
  Generation(ServingEngine* engine, Metrics* metrics) : engine_(engine), metrics_(metrics) {}

  using Clock = std::chrono::steady_clock;
  ServingEngine* engine_;
  Metrics* metrics_;
  std::shared_ptr<EventChannel> channel_ = std::make_shared<EventChannel>();
  std::vector<uint64_t> ids_;
  std::vector<bool> done_;
  std::vector<Clock::time_point> last_token_;
  std::vector<bool> got_token_;
  Clock::time_point submitted_;
  int32_t n_done_ = 0;
};

}  // namespace autoglm::server
