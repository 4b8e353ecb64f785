#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kv/kv_cache.h"
#include "kv/sequence_kv.h"

namespace autoglm::kv {
namespace {

KVCacheConfig small(DType t = DType::F32) {
  KVCacheConfig c;
  c.n_layers = 2;
  c.n_kv_heads = 2;
  c.head_dim = 4;
  c.block_size = 4;
  c.n_blocks = 5;
  c.dtype = t;
  return c;
}

TEST(BlockPool, AllocateReleaseRefCounts) {
  BlockPool p(3);
  auto a = p.allocate(), b = p.allocate(), c = p.allocate();
  ASSERT_TRUE(a && b && c);
  EXPECT_FALSE(p.allocate().has_value());
  EXPECT_EQ(p.n_free(), 0);
  p.retain(*b);
  p.release(*b);
  EXPECT_EQ(p.n_free(), 0);  // still one reference
  p.release(*b);
  EXPECT_EQ(p.n_free(), 1);
  EXPECT_EQ(p.allocate(), b);
}

TEST(KVCache, RejectsBadConfig) {
  KVCacheConfig c = small();
  c.head_dim = 0;
  EXPECT_EQ(KVCache::create(c).status().code(), StatusCode::kInvalidArgument);
  c = small(DType::Q4_0);  // not a KV type
  EXPECT_EQ(KVCache::create(c).status().code(), StatusCode::kUnsupported);
  c = small();
  c.n_blocks = 1 << 30;
  c.n_layers = 1 << 20;
  EXPECT_EQ(KVCache::create(c).status().code(), StatusCode::kResourceExhausted);
}

TEST(SequenceKV, ReserveLocateRelease) {
  auto cache = KVCache::create(small()).value();
  SequenceKV s;
  ASSERT_TRUE(s.reserve(*cache, 9).ok());  // 3 blocks of 4
  EXPECT_EQ(s.blocks().size(), 3u);
  EXPECT_EQ(s.capacity(*cache), 12);
  EXPECT_EQ(cache->pool().n_free(), 2);
  auto [blk, slot] = s.locate(*cache, 5);
  EXPECT_EQ(blk, s.blocks()[1]);
  EXPECT_EQ(slot, 1);
  // Growing past the pool fails without leaking what it grabbed.
  Status st = s.reserve(*cache, 25);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.blocks().size(), 3u);
  EXPECT_EQ(cache->pool().n_free(), 2);
  s.release(*cache);
  EXPECT_EQ(cache->pool().n_free(), 5);
}

TEST(KVCache, StoreLoadRoundTrip) {
  for (DType t : {DType::F32, DType::F16}) {
    auto cache = KVCache::create(small(t)).value();
    std::vector<float> k(8), v(8), out(4);
    for (int i = 0; i < 8; ++i) {
      k[static_cast<size_t>(i)] = 0.5f * static_cast<float>(i) - 1.0f;
      v[static_cast<size_t>(i)] = 2.0f * static_cast<float>(i);
    }
    cache->store(1, 3, 2, k.data(), v.data());
    cache->load_k(1, 3, 2, 1, out.data());
    for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(out[static_cast<size_t>(i)], k[static_cast<size_t>(4 + i)]);
    cache->load_v(1, 3, 2, 0, out.data());
    for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(out[static_cast<size_t>(i)], v[static_cast<size_t>(i)]);
    // Other slots untouched.
    cache->load_k(0, 3, 2, 1, out.data());
    for (float x : out) EXPECT_EQ(x, 0.0f);
  }
}

}  // namespace
}  // namespace autoglm::kv

namespace autoglm::kv {
namespace {

TEST(KVCache, Int8RoundTripWithinHalfAStep) {
  auto cache = KVCache::create(small(DType::I8)).value();
  std::vector<float> k = {0.5f, -1.0f, 0.25f, 3.0f, -7.0f, 0.0f, 1e-3f, 2.0f}, v(8, 0.0f), out(4);
  cache->store(0, 1, 3, k.data(), v.data());
  for (int h = 0; h < 2; ++h) {
    cache->load_k(0, 1, 3, h, out.data());
    float amax = 0;
    for (int i = 0; i < 4; ++i) amax = std::max(amax, std::fabs(k[size_t(4 * h + i)]));
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(out[size_t(i)], k[size_t(4 * h + i)], amax / 127.0f * 0.51f + 1e-6f);
    cache->load_v(0, 1, 3, h, out.data());
    for (float x : out) EXPECT_EQ(x, 0.0f);  // an all-zero head has scale 0
  }
}

}  // namespace
}  // namespace autoglm::kv
