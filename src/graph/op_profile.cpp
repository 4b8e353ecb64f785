#include "graph/op_profile.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

namespace autoglm::graph {
namespace {

struct Entry {
  int64_t calls = 0;
  int64_t ns = 0;
};

class OpProfile {
 public:
  ~OpProfile() { print(); }
  void add(Op op, int64_t rows, int64_t ns) {
    std::lock_guard<std::mutex> lock(mu_);
    Entry& e = by_key_[{rows, static_cast<int>(op)}];
    ++e.calls;
    e.ns += ns;
  }

 private:
  // Grouped by rows (one block per batch shape), slowest op first within a block.
  void print() {
    std::lock_guard<std::mutex> lock(mu_);
    if (by_key_.empty()) return;
    std::map<int64_t, int64_t> total_by_rows;
    for (const auto& [key, e] : by_key_) total_by_rows[key.first] += e.ns;
    std::fprintf(stderr, "op profile (AUTOGLM_PROFILE_OPS): rows, op, calls, total ms, us/call, share of rows' total\n");
    for (const auto& [rows, total] : total_by_rows) {
      std::vector<std::pair<int, Entry>> ops;
      for (const auto& [key, e] : by_key_) {
        if (key.first == rows) ops.emplace_back(key.second, e);
      }
      std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.second.ns > b.second.ns; });
      for (const auto& [op, e] : ops) {
        std::fprintf(stderr, "%6lld  %-16s %9lld %10.1f %9.1f %6.1f%%\n", static_cast<long long>(rows),
                     op_name(static_cast<Op>(op)), static_cast<long long>(e.calls), e.ns / 1e6,
                     e.ns / 1e3 / static_cast<double>(e.calls), 100.0 * static_cast<double>(e.ns) / static_cast<double>(total));
      }
    }
  }
  std::mutex mu_;
  std::map<std::pair<int64_t, int>, Entry> by_key_;
};

OpProfile& profile() {
  static OpProfile p;
  return p;
}

}  // namespace

bool op_profile_enabled() {
  static const bool on = [] {
    const char* v = std::getenv("AUTOGLM_PROFILE_OPS");
    return v != nullptr && *v != '\0' && *v != '0';
  }();
  return on;
}

void op_profile_add(Op op, int64_t rows, int64_t nanoseconds) { profile().add(op, rows, nanoseconds); }

}  // namespace autoglm::graph
