#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AG_CPU_RELAX() _mm_pause()
#else
#define AG_CPU_RELAX() ((void)0)
#endif

namespace autoglm {
namespace {
// Spin for a while (a decode step dispatches ops microseconds apart, and a worker that has
// gone to yield or sleep starts its share late, so the caller ends up doing most of it), then
// yield the core, then sleep. The spin is bounded by time, not iterations: PAUSE costs from a
// few to ~100 cycles depending on the CPU. Yielding matters when threads outnumber free cores:
// a spinning waiter would steal the time the thread it waits for needs.
constexpr auto kSpinTime = std::chrono::microseconds(100);
constexpr int kYieldIterations = 50;

template <typename Pred>
bool spin_then_yield(Pred done) {
  const auto until = std::chrono::steady_clock::now() + kSpinTime;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      AG_CPU_RELAX();
    }
    if (std::chrono::steady_clock::now() > until) break;
  }
  for (int i = 0; i < kYieldIterations; ++i) {
    if (done()) return true;
    std::this_thread::yield();
  }
  return done();
}

// A share in parallel_for: chunk indices [front, back) packed into one word, so a claim from
// either end is one compare-and-swap.
uint64_t share(int64_t front, int64_t back) { return static_cast<uint64_t>(front) | static_cast<uint64_t>(back) << 32; }
int64_t front_of(uint64_t v) { return static_cast<int64_t>(v & 0xFFFFFFFFu); }
int64_t back_of(uint64_t v) { return static_cast<int64_t>(v >> 32); }
}  // namespace

ThreadPool::ThreadPool(int n_threads)
    : n_threads_(std::max(1, n_threads)), ranges_(std::make_unique<Range[]>(static_cast<size_t>(n_threads_))) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

int ThreadPool::default_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

void ThreadPool::worker_loop(int index) {
  uint64_t seen = 0;
  for (;;) {
    spin_then_yield([&] { return generation_.load(std::memory_order_acquire) != seen; });
    uint64_t gen = generation_.load(std::memory_order_acquire);
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      gen = generation_.load(std::memory_order_acquire);
    }
    seen = gen;
    if (stop_.load()) return;
    (*job_)(index, n_threads_);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mu_);
      done_.notify_one();
    }
  }
}

void ThreadPool::run(const std::function<void(int, int)>& fn) {
  if (n_threads_ == 1) {
    fn(0, 1);
    return;
  }
  job_ = &fn;
  pending_.store(n_threads_ - 1, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(mu_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  wake_.notify_all();
  fn(0, n_threads_);
  if (!spin_then_yield([&] { return pending_.load(std::memory_order_acquire) == 0; })) {
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [&] { return pending_.load(std::memory_order_acquire) == 0; });
  }
  job_ = nullptr;
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  // Chunk indices must fit a share's 32 bits: coarser chunks (still multiples of grain) if not.
  grain *= (n + grain - 1) / grain / (int64_t{1} << 31) + 1;
  const int64_t chunks = (n + grain - 1) / grain;
  if (n_threads_ == 1 || chunks == 1) {
    fn(0, n);
    return;
  }
  // Each thread owns a contiguous share of the chunks and walks it from the front, a few
  // chunks per claim; a thread done with its own takes the back half of whatever is left of
  // the largest other share, and walks that. So each thread reads one run of memory per op
  // (plus one per steal), where pieces handed out round-robin made every thread restart its
  // stream several times per op: a restart costs the memory latency before the prefetches
  // catch up, ~1-2 us per small matrix. A thread that starts late or runs slower (a shared
  // host) still ends with less work, as with the shared counter before.
  const auto to_range = [&](int64_t c0, int64_t c1) { fn(c0 * grain, std::min(n, c1 * grain)); };
  for (int t = 0; t < n_threads_; ++t) {
    ranges_[static_cast<size_t>(t)].front_back.store(share(chunks * t / n_threads_, chunks * (t + 1) / n_threads_),
                                                     std::memory_order_relaxed);
  }
  // An owner claims an eighth of its share at a time, and a quarter of what is left once that is
  // less: a claimed piece cannot be stolen, so fixed eighths left the other thread idle for up
  // to an eighth of an op at its end, and a lone thread reads memory at about half the pair's
  // rate (a decode step: the two threads finished 13.7 us apart on average, 4.3 with the
  // shrinking claims; llama3.2-1b Q4_K tg128 41.7 -> 43.2 t/s, medians of 5 alternating).
  const int64_t owner_step = std::max<int64_t>(1, chunks / n_threads_ / 8);
  run([&](int ti, int nt) {
    std::atomic<uint64_t>& mine = ranges_[static_cast<size_t>(ti)].front_back;
    for (;;) {
      // Own share, front first.
      for (uint64_t v = mine.load(std::memory_order_acquire);;) {
        const int64_t f = front_of(v), e = back_of(v);
        if (f >= e) break;
        const int64_t nf = f + std::max<int64_t>(1, std::min(owner_step, (e - f) / 4));
        if (mine.compare_exchange_weak(v, share(nf, e), std::memory_order_acq_rel)) {
          to_range(f, nf);
          v = mine.load(std::memory_order_acquire);
        }
      }
      // Then the back half of the largest share left, which becomes this thread's own (so
      // others can take from it in turn); done when every share is empty.
      bool stole = false;
      while (!stole) {
        int victim = -1;
        int64_t most = 0;
        for (int t = 0; t < nt; ++t) {
          const uint64_t v = ranges_[static_cast<size_t>(t)].front_back.load(std::memory_order_acquire);
          const int64_t left = back_of(v) - front_of(v);
          if (left > most) most = left, victim = t;
        }
        if (victim < 0) return;
        std::atomic<uint64_t>& theirs = ranges_[static_cast<size_t>(victim)].front_back;
        uint64_t v = theirs.load(std::memory_order_acquire);
        const int64_t f = front_of(v), e = back_of(v);
        if (f >= e) continue;
        const int64_t ne = e - (e - f + 1) / 2;
        if (theirs.compare_exchange_strong(v, share(f, ne), std::memory_order_acq_rel)) {
          mine.store(share(ne, e), std::memory_order_release);
          stole = true;
        }
      }
    }
  });
}

}  // namespace autoglm
