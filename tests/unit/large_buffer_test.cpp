#include "core/large_buffer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace autoglm {
namespace {

// The "THPeligible" field of the /proc/self/smaps mapping that holds `p`: 1, 0, or -1 where this
// kernel does not report it.
int thp_eligible(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const auto a = reinterpret_cast<uintptr_t>(p);
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find(' ') > line.find('-')) {
      inside = lo <= a && a < hi;
      continue;
    }
    if (inside && line.rfind("THPeligible:", 0) == 0) return std::stoi(line.substr(12));
  }
  return -1;
}

bool thp_available() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string s;
  std::getline(f, s);
  return !s.empty() && s.find("[never]") == std::string::npos;
}

TEST(LargeBuffer, SmallBuffersAreZeroedAndCacheLineAligned) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{63}, size_t{4097}, size_t{3} << 20}) {
    auto b = allocate_large_buffer(n);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.get()) % 64, 0u) << n;
    const auto* p = static_cast<const uint8_t*>(b.get());
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(p[i], 0) << n << " " << i;
  }
}

TEST(LargeBuffer, LargeBuffersAreHugePageAlignedAndAdvised) {
  const size_t n = (size_t{9} << 20) + 5;
  auto b = allocate_large_buffer(n);
  ASSERT_NE(b, nullptr);
  const auto* p = static_cast<const uint8_t*>(b.get());
  EXPECT_EQ(p[0], 0);
  EXPECT_EQ(p[n - 1], 0);
  if (!huge_pages_requested()) GTEST_SKIP() << "AUTOGLM_HUGE_PAGES=0";
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % (size_t{2} << 20), 0u);
  if (!thp_available()) GTEST_SKIP() << "transparent huge pages are off in this kernel";
  const int eligible = thp_eligible(p);
  if (eligible < 0) GTEST_SKIP() << "this kernel's smaps has no THPeligible";
  EXPECT_EQ(eligible, 1);
}

TEST(LargeBuffer, WeightBuffersShareChunksAndOutliveTheirNeighbours) {
  std::vector<std::shared_ptr<void>> bufs;
  for (size_t n : {size_t{1}, size_t{100}, size_t{3} << 20, size_t{40} << 20, size_t{200} << 20, size_t{5000}}) {
    auto b = allocate_weight_buffer(n);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.get()) % 64, 0u) << n;
    auto* p = static_cast<uint8_t*>(b.get());
    for (size_t i = 0; i < n; i += 4093) ASSERT_EQ(p[i], 0) << n << " " << i;
    ASSERT_EQ(p[n - 1], 0);
    std::memset(p, 0xab, n);  // each buffer is its own: neighbours keep their bytes
    bufs.push_back(b);
  }
  // Dropping all but the last keeps the last one's bytes (its chunk stays alive).
  auto last = bufs.back();
  bufs.clear();
  const auto* q = static_cast<const uint8_t*>(last.get());
  for (size_t i = 0; i < 5000; ++i) ASSERT_EQ(q[i], 0xab);
  if (!huge_pages_requested() || !thp_available()) return;
  const int eligible = thp_eligible(allocate_weight_buffer(1000).get());
  if (eligible >= 0) {
    EXPECT_EQ(eligible, 1);
  }
}

TEST(LargeBuffer, WeightChunkIsFreedWithItsLastBuffer) {
  std::weak_ptr<void> chunk;
  {
    auto a = allocate_weight_buffer(1000);
    auto b = allocate_weight_buffer(2000);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    chunk = a;  // the control block is the chunk's (an aliasing pointer)
    a.reset();
    if (huge_pages_requested()) {
      EXPECT_FALSE(chunk.expired());  // b was carved from the same chunk
    }
  }
  EXPECT_TRUE(chunk.expired());  // nothing else, the allocator included, keeps it
  auto c = allocate_weight_buffer(3000);  // a fresh chunk
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(static_cast<const uint8_t*>(c.get())[2999], 0);
}

TEST(LargeBuffer, LazyZeroedBuffersAreZeroWritableAndAdvised) {
  for (size_t n : {size_t{1}, size_t{5000}, (size_t{6} << 20) + 12}) {
    auto b = allocate_lazy_zeroed(n);
    ASSERT_NE(b, nullptr);
    auto* p = static_cast<uint8_t*>(b.get());
    for (size_t i = 0; i < n; i += 4093) ASSERT_EQ(p[i], 0) << n << " " << i;
    ASSERT_EQ(p[n - 1], 0);
    std::memset(p, 0x5a, n);
    EXPECT_EQ(p[n - 1], 0x5a);
    if (n < (size_t{4} << 20) || !huge_pages_requested()) continue;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % (size_t{2} << 20), 0u);
    const int eligible = thp_available() ? thp_eligible(p) : -1;
    if (eligible >= 0) {
      EXPECT_EQ(eligible, 1);
    }
  }
}

}  // namespace
}  // namespace autoglm
