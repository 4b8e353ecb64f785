// Prometheus text exposition of the server's and the engine's counters, gauges and histograms.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "autoglm/serving.h"

namespace autoglm::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double v);
  void render(const std::string& name, const std::string& help, std::string* out) const;

 private:
  mutable std::mutex mu_;
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative); the last is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  Metrics();
  // One finished HTTP exchange. Unknown paths share the label "other" (bounded cardinality).
  void count_request(const std::string& path, int status);
  void observe_ttft(double seconds) { ttft_.observe(seconds); }
  void observe_token_latency(double seconds) { tpot_.observe(seconds); }
  std::string render(const ServingStats& stats, const std::string& state) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  Histogram ttft_;
  Histogram tpot_;
};

}  // namespace autoglm::server
