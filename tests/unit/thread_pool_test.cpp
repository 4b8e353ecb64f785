#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace autoglm {
namespace {

TEST(ThreadPool, ParallelForCoversEveryIndexOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 2, 7, 100, 1001}) {
      for (int64_t grain : {1, 3, 64}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        pool.parallel_for(n, [&](int64_t b, int64_t e) {
          EXPECT_LT(b, e);
          for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
        }, grain);
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << threads << " " << n;
      }
    }
  }
}

TEST(ThreadPool, RunGivesEachThreadItsIndex) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> seen(4);
  for (int rep = 0; rep < 300; ++rep) {
    pool.run([&](int ti, int nt) {
      EXPECT_EQ(nt, 4);
      seen[static_cast<size_t>(ti)]++;
    });
  }
  for (auto& s : seen) EXPECT_EQ(s.load(), 300);
}

TEST(ThreadPool, ManySmallJobsBackToBack) {
  // Exercises the spin/sleep hand-off: every job must complete before run() returns.
  ThreadPool pool(2);
  int64_t total = 0;
  for (int rep = 0; rep < 3000; ++rep) {
    std::atomic<int64_t> sum{0};
    pool.parallel_for(10, [&](int64_t b, int64_t e) { sum += e - b; });
    total += sum.load();
  }
  EXPECT_EQ(total, 30000);
}

}  // namespace
}  // namespace autoglm
