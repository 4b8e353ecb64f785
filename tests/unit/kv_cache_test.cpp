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

// Values: symmetric, each within half a step (max|x| / 127 / 2). Keys: quantized after the
// orthonormal rotation, so the error vector's length is within half a step (range / 255 / 2)
// per rotated dim, and the rotation gives it back unchanged in length.
TEST(KVCache, Int8RoundTripWithinHalfAStep) {
  auto cache = KVCache::create(small(DType::I8)).value();
  std::vector<float> k = {0.5f, -1.0f, 0.25f, 3.0f, -7.0f, 0.0f, 1e-3f, 2.0f}, v = {1.0f, -2.0f, 0.3f, 0.0f, 0, 0, 0, 0};
  std::vector<float> out(4);
  cache->store(0, 1, 3, k.data(), v.data());
  for (int h = 0; h < 2; ++h) {
    cache->load_k(0, 1, 3, h, out.data());
    std::vector<float> rot(k.begin() + 4 * h, k.begin() + 4 * h + 4);
    KVCache::rotate_keys(rot.data(), 4);
    const float range = *std::max_element(rot.begin(), rot.end()) - *std::min_element(rot.begin(), rot.end());
    double err2 = 0;
    for (int i = 0; i < 4; ++i) err2 += std::pow(double(out[size_t(i)]) - k[size_t(4 * h + i)], 2);
    EXPECT_LE(std::sqrt(err2), std::sqrt(4.0) * range / 255.0f * 0.51f + 1e-6f) << h;
    cache->load_v(0, 1, 3, h, out.data());
    float amax = 0;
    for (int i = 0; i < 4; ++i) amax = std::max(amax, std::fabs(v[size_t(4 * h + i)]));
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(out[size_t(i)], v[size_t(4 * h + i)], amax / 127.0f * 0.51f + 1e-6f);
  }
  cache->load_v(0, 1, 3, 1, out.data());
  for (float x : out) EXPECT_EQ(x, 0.0f);  // an all-zero head has scale 0
}

// rotate_keys is orthonormal and its own inverse; odd lengths are left alone.
TEST(KVCache, RotationIsOrthonormalInvolution) {
  std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, y = x;  // 12 = 3 pieces of 4
  KVCache::rotate_keys(y.data(), 12);
  double n0 = 0, n1 = 0;
  for (size_t i = 0; i < x.size(); ++i) n0 += x[i] * x[i], n1 += y[i] * y[i];
  EXPECT_NEAR(n0, n1, 1e-3);
  EXPECT_NE(x, y);
  KVCache::rotate_keys(y.data(), 12);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(y[i], x[i], 1e-5);
  std::vector<float> odd = {1, 2, 3};
  KVCache::rotate_keys(odd.data(), 3);
  EXPECT_EQ(odd, (std::vector<float>{1, 2, 3}));
}

// Block views: keys transposed [dim][slot], values [slot][dim], per head.
TEST(KVCache, BlockViewsLayout) {
  auto cache = KVCache::create(small(DType::F32)).value();
  std::vector<float> k(8), v(8);
  for (int i = 0; i < 8; ++i) k[size_t(i)] = float(i), v[size_t(i)] = float(10 + i);
  cache->store(1, 2, 3, k.data(), v.data());
  const auto kb = cache->key_block(1, 2, 1);
  const auto vb = cache->value_block(1, 2, 1);
  for (int d = 0; d < 4; ++d) {
    EXPECT_EQ(static_cast<const float*>(kb.data)[d * 4 + 3], k[size_t(4 + d)]);
    EXPECT_EQ(static_cast<const float*>(vb.data)[3 * 4 + d], v[size_t(4 + d)]);
  }
  EXPECT_EQ(kb.scale, nullptr);
}

}  // namespace
}  // namespace autoglm::kv
