// ThreadPool: one persistent set of workers; the calling thread takes part in every job.
// Workers spin briefly on a generation counter before sleeping, so per-op dispatch in a
// decode step costs microseconds, not a futex round trip each time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace autoglm {

class ThreadPool {
 public:
  // n_threads counts the caller: ThreadPool(1) runs everything inline.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(thread_index, n_threads) on every thread (the caller is index 0) and waits.
  void run(const std::function<void(int, int)>& fn);

  // Splits [0, n) into contiguous ranges (multiples of `grain`) and calls fn(begin, end) once
  // for each. Each thread walks its own contiguous share front to back; a thread that finishes
  // early takes the back half of what is left of another's. fn may run several times on one
  // thread.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain = 1);

  static int default_threads();

 private:
  void worker_loop(int index);

  // One thread's share in parallel_for, in chunks of `grain`: front (low 32 bits) and end
  // (high 32), claimed by compare-and-swap from the front by its owner, from the back by others.
  struct alignas(64) Range {
    std::atomic<uint64_t> front_back{0};
  };

  int n_threads_;
  std::unique_ptr<Range[]> ranges_;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_;
};

}  // namespace autoglm
