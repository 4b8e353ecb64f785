#include "generation.h"

namespace autoglm::server {

void EventChannel::push(int32_t choice, const CompletionEvent& ev) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    q_.push_back({choice, ev, std::chrono::steady_clock::now()});
  }
  cv_.notify_one();
}

bool EventChannel::pop_all(std::vector<ChoiceEvent>* out, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return !q_.empty(); })) return false;
  while (!q_.empty()) {
    out->push_back(std::move(q_.front()));
    q_.pop_front();
  }
  return true;
}

Result<std::unique_ptr<Generation>> Generation::start(ServingEngine* engine, Metrics* metrics,
                                                      const CompletionRequest& req, int32_t n) {
  std::unique_ptr<Generation> g(new Generation(engine, metrics));
  g->submitted_ = Clock::now();
  for (int32_t i = 0; i < n; ++i) {
    CompletionRequest r = req;
    r.seed = req.seed + static_cast<uint64_t>(i);
    // The sink holds only the channel, so events arriving after the client left are harmless.
    std::shared_ptr<EventChannel> ch = g->channel_;
    auto id = engine->submit(std::move(r), [ch, i](const CompletionEvent& ev) { ch->push(i, ev); });
    if (!id.ok()) {
      g->cancel();
      return id.status();
    }
    g->ids_.push_back(*id);
    g->done_.push_back(false);
    g->got_token_.push_back(false);
    g->last_token_.push_back(g->submitted_);
  }
  return g;
}

Generation::~Generation() { cancel(); }

void Generation::cancel() {
  for (size_t i = 0; i < ids_.size(); ++i) {
    if (!done_[i]) engine_->cancel(ids_[i]);
  }
}

std::vector<ChoiceEvent> Generation::next(std::chrono::milliseconds timeout) {
  std::vector<ChoiceEvent> evs;
  channel_->pop_all(&evs, timeout);
  for (const auto& e : evs) {
    const auto now = e.at;
    const auto c = static_cast<size_t>(e.choice);
    if (c >= done_.size() || done_[c]) continue;
    if (e.event.kind == CompletionEvent::Kind::kToken) {
      if (e.event.token < 0) continue;  // held-back text, not a new token
      const double dt = std::chrono::duration<double>(now - last_token_[c]).count();
      if (got_token_[c]) {
        metrics_->observe_token_latency(dt);
      } else {
        metrics_->observe_ttft(dt);
        got_token_[c] = true;
      }
      last_token_[c] = now;
    } else {
      done_[c] = true;
      ++n_done_;
    }
  }
  return evs;
}

}  // namespace autoglm::server
