#include "core/large_buffer.h"

#include <cstdlib>
#include <cstring>
#include <mutex>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace autoglm {

namespace {

constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kWeightChunk = size_t{64} << 20;

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

// Not zeroed: a chunk's pages are touched only as buffers are carved from it.
std::shared_ptr<void> allocate_uninitialized(size_t bytes) {
  size_t alloc = round_up(bytes == 0 ? 1 : bytes, 64);
  size_t align = 64;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const bool huge = alloc >= 2 * kHugePage && huge_pages_requested();
  if (huge) {
    align = kHugePage;
    alloc = round_up(alloc, kHugePage);
  }
#endif
  void* p = std::aligned_alloc(align, alloc);
  if (p == nullptr) return nullptr;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  // Advice before the first touch, so the first write faults in a whole huge page. Failure
  // (no THP in this kernel) leaves base pages, which are only slower.
  if (huge) ::madvise(p, alloc, MADV_HUGEPAGE);
#endif
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}

}  // namespace

bool huge_pages_requested() {
  static const bool on = [] {
    const char* env = std::getenv("AUTOGLM_HUGE_PAGES");
    return env == nullptr || std::strcmp(env, "0") != 0;
  }();
  return on;
}

std::shared_ptr<void> allocate_large_buffer(size_t bytes) {
  std::shared_ptr<void> p = allocate_uninitialized(bytes);
  if (p != nullptr) std::memset(p.get(), 0, round_up(bytes == 0 ? 1 : bytes, 64));
  return p;
}

std::shared_ptr<void> allocate_weight_buffer(size_t bytes) {
  const size_t need = round_up(bytes == 0 ? 1 : bytes, 64);
  if (!huge_pages_requested() || need > kWeightChunk / 2) return allocate_large_buffer(bytes);
  static std::mutex mu;
  static std::shared_ptr<void> chunk;  // the one being carved
  static size_t used = 0;
  std::shared_ptr<void> owner;
  void* p = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (chunk == nullptr || used + need > kWeightChunk) {
      chunk = allocate_uninitialized(kWeightChunk);
      used = 0;
      if (chunk == nullptr) return nullptr;
    }
    p = static_cast<char*>(chunk.get()) + used;
    used += need;
    owner = chunk;
  }
  std::memset(p, 0, need);
  return std::shared_ptr<void>(std::move(owner), p);  // shares the chunk's count
}

}  // namespace autoglm
