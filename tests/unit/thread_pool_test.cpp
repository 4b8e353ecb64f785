#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <utility>
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

TEST(ThreadPool, ParallelForTakesWorkFromAStalledThread) {
  // The worker stalls on its first range; the caller, done with its own share, must take the
  // back of the worker's share (repeatedly) instead of leaving half the work to it.
  ThreadPool pool(2);
  const auto caller = std::this_thread::get_id();
  std::atomic<int64_t> by_caller{0}, by_worker{0};
  std::atomic<bool> stalled{false};
  pool.parallel_for(400, [&](int64_t b, int64_t e) {
    if (std::this_thread::get_id() == caller) {
      by_caller += e - b;
      return;
    }
    if (!stalled.exchange(true)) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    by_worker += e - b;
  });
  EXPECT_EQ(by_caller.load() + by_worker.load(), 400);
  EXPECT_GT(by_caller.load(), 300) << "a static split gives the caller 200";
}

TEST(ThreadPool, ParallelForWalksEachShareFrontToBack) {
  // The caller owns the first half and claims it front to back, each range starting where its
  // previous one ended (one run of memory per thread, not pieces handed out in turn). The
  // worker waits until the caller is through its half, so it cannot take from it.
  ThreadPool pool(2);
  const auto caller = std::this_thread::get_id();
  std::vector<std::pair<int64_t, int64_t>> mine;
  std::atomic<bool> caller_done{false};
  pool.parallel_for(1000, [&](int64_t b, int64_t e) {
    if (std::this_thread::get_id() == caller) {
      mine.emplace_back(b, e);
      if (e == 500) caller_done = true;
      return;
    }
    while (!caller_done) std::this_thread::yield();
  });
  ASSERT_FALSE(mine.empty());
  EXPECT_EQ(mine[0].first, 0);
  size_t i = 1;
  for (; i < mine.size() && mine[i - 1].second < 500; ++i) EXPECT_EQ(mine[i].first, mine[i - 1].second);
  EXPECT_EQ(mine[i - 1].second, 500);
}

TEST(ThreadPool, ParallelForClaimsShrinkNearTheEnd) {
  // A claimed range cannot be stolen, so an owner's claims shrink to single chunks at the end of
  // its share: the other thread, done early, can then still take part of the last stretch
  // (fixed claims of an eighth left it idle for up to an eighth of an op). The worker waits, as
  // above, so the caller walks its whole half.
  ThreadPool pool(2);
  const auto caller = std::this_thread::get_id();
  std::vector<int64_t> sizes;
  std::atomic<bool> caller_done{false};
  pool.parallel_for(1000, [&](int64_t b, int64_t e) {
    if (std::this_thread::get_id() == caller) {
      if (e <= 500) sizes.push_back(e - b);  // its own half (then it takes from the worker's)
      if (e == 500) caller_done = true;
      return;
    }
    while (!caller_done) std::this_thread::yield();
  });
  ASSERT_GE(sizes.size(), 3u);
  EXPECT_EQ(sizes.front(), 500 / 8);
  for (size_t i = 1; i < sizes.size(); ++i) EXPECT_LE(sizes[i], sizes[i - 1]);
  EXPECT_EQ(sizes.back(), 1);
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
