#include "core/large_buffer.h"

#include <cstdint>
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
// Bytes handed out for a request of `bytes`: whole cache lines, at least one.
size_t line_bytes(size_t bytes) { return round_up(bytes == 0 ? 1 : bytes, 64); }

// Not zeroed: a chunk's pages are touched only as buffers are carved from it.
std::shared_ptr<void> allocate_uninitialized(size_t bytes) {
  size_t alloc = line_bytes(bytes);
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
  if (p != nullptr) std::memset(p.get(), 0, line_bytes(bytes));
  return p;
}

std::shared_ptr<void> allocate_weight_buffer(size_t bytes) {
  const size_t need = line_bytes(bytes);
  if (!huge_pages_requested() || need > kWeightChunk / 2) return allocate_large_buffer(bytes);
  static std::mutex mu;
  // The chunk being carved, held only by the buffers carved from it: once a model's weights are
  // all freed, so is their memory (a process that loads and unloads models keeps nothing).
  static std::weak_ptr<void> current;
  static size_t used = 0;
  std::shared_ptr<void> owner;
  void* p = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu);
    owner = current.lock();
    if (owner == nullptr || used + need > kWeightChunk) {
      owner = allocate_uninitialized(kWeightChunk);
      if (owner == nullptr) return nullptr;
      current = owner;
      used = 0;
    }
    p = static_cast<char*>(owner.get()) + used;
    used += need;
  }
  std::memset(p, 0, need);
  return std::shared_ptr<void>(std::move(owner), p);  // shares the chunk's count
}

std::shared_ptr<void> allocate_lazy_zeroed(size_t bytes) {
  if (bytes == 0) bytes = 1;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (bytes >= 2 * kHugePage && huge_pages_requested()) {
    // An anonymous mapping is zero-filled on first touch; mapped with a huge page of slack and
    // trimmed so the kept range starts on a 2 MiB boundary.
    const size_t len = round_up(bytes, kHugePage);
    void* m = ::mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return nullptr;
    const auto base = reinterpret_cast<uintptr_t>(m);
    const uintptr_t start = round_up(base, kHugePage);
    if (start > base) ::munmap(m, start - base);
    if (const size_t tail = base + kHugePage - start; tail > 0) ::munmap(reinterpret_cast<void*>(start + len), tail);
    auto* p = reinterpret_cast<void*>(start);
    ::madvise(p, len, MADV_HUGEPAGE);
    return std::shared_ptr<void>(p, [len](void* q) { ::munmap(q, len); });
  }
#endif
  void* p = std::calloc(bytes, 1);  // large callocs are lazily zeroed mappings too
  if (p == nullptr) return nullptr;
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}

}  // namespace autoglm
