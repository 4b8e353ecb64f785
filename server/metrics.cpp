#include "metrics.h"

#include <cstdio>

namespace autoglm::server {
namespace {

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void metric(std::string* out, const char* name, const char* type, const char* help, double value) {
  *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " + num(value) +
          "\n";
}

const char* endpoint_label(const std::string& path) {
  static const char* const kKnown[] = {"/v1/chat/completions", "/v1/completions", "/v1/models", "/tokenize",
                                       "/detokenize", "/health", "/metrics", "/"};
  for (const char* k : kKnown) {
    if (path == k) return k;
  }
  return "other";
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++count_;
}

void Histogram::render(const std::string& name, const std::string& help, std::string* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  *out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cum = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    *out += name + "_bucket{le=\"" + num(bounds_[i]) + "\"} " + std::to_string(cum) + "\n";
  }
  cum += counts_.back();
  *out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cum) + "\n";
  *out += name + "_sum " + num(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : ttft_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}),
      tpot_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}) {}

void Metrics::count_request(const std::string& path, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{endpoint_label(path), status}];
}

std::string Metrics::render(const ServingStats& s, const std::string& state) const {
  std::string out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out += "# HELP autoglm_http_requests_total HTTP requests by endpoint and status code.\n"
           "# TYPE autoglm_http_requests_total counter\n";
    for (const auto& [key, n] : requests_) {
      out += "autoglm_http_requests_total{endpoint=\"" + key.first + "\",status=\"" + std::to_string(key.second) +
             "\"} " + std::to_string(n) + "\n";
    }
  }
  ttft_.render("autoglm_time_to_first_token_seconds", "Time from submission to the first generated token.", &out);
  tpot_.render("autoglm_time_per_output_token_seconds", "Time between consecutive generated tokens of a request.",
               &out);
  auto d = [](int64_t v) { return static_cast<double>(v); };
  metric(&out, "autoglm_prompt_tokens_total", "counter", "Prompt tokens submitted.", d(s.prompt_tokens));
  metric(&out, "autoglm_prompt_tokens_cached_total", "counter", "Prompt tokens whose KV was reused.",
         d(s.prompt_tokens_cached));
  metric(&out, "autoglm_generated_tokens_total", "counter", "Tokens generated.", d(s.generated_tokens));
  metric(&out, "autoglm_requests_finished_total", "counter", "Engine requests finished.", d(s.requests_finished));
  metric(&out, "autoglm_requests_cancelled_total", "counter", "Engine requests cancelled.", d(s.requests_cancelled));
  metric(&out, "autoglm_requests_rejected_total", "counter", "Engine requests rejected at submission.",
         d(s.requests_rejected));
  metric(&out, "autoglm_requests_failed_total", "counter", "Engine requests that failed.", d(s.requests_failed));
  metric(&out, "autoglm_preemptions_total", "counter", "Requests preempted for KV blocks.", d(s.preemptions));
  metric(&out, "autoglm_engine_steps_total", "counter", "Engine steps run.", d(s.steps));
  metric(&out, "autoglm_requests_waiting", "gauge", "Requests queued for admission.", d(s.requests_waiting));
  metric(&out, "autoglm_requests_running", "gauge", "Requests being decoded.", d(s.requests_running));
  metric(&out, "autoglm_kv_blocks_total", "gauge", "KV cache blocks.", d(s.kv_blocks_total));
  metric(&out, "autoglm_kv_blocks_used", "gauge", "KV cache blocks held by requests or sessions.",
         d(s.kv_blocks_used));
  metric(&out, "autoglm_kv_blocks_free", "gauge", "KV cache blocks not held.", d(s.kv_blocks_total - s.kv_blocks_used));
  metric(&out, "autoglm_kv_blocks_cached", "gauge", "Free KV blocks still holding a reusable prefix.",
         d(s.kv_blocks_cached));
  metric(&out, "autoglm_prefix_cache_hit_rate", "gauge", "Share of prompt tokens served from cached KV.",
         s.prompt_tokens > 0 ? d(s.prompt_tokens_cached) / d(s.prompt_tokens) : 0.0);
  metric(&out, "autoglm_sessions", "gauge", "Multi-turn sessions holding KV.", d(s.sessions));
  metric(&out, "autoglm_healthy", "gauge", "1 while the engine loop works.", s.healthy ? 1 : 0);
  metric(&out, "autoglm_draining", "gauge", "1 while shutting down.", s.draining || state == "draining" ? 1 : 0);
  metric(&out, "autoglm_ready", "gauge", "1 when serving requests.", state == "ok" ? 1 : 0);
  return out;
}

}  // namespace autoglm::server
