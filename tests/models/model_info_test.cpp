// ModelInfo's byte counts against sums taken from the model file itself: weight bytes count a
// tied embedding once; decode bytes per token (the roofline's byte count) are every matrix and
// norm once plus one table row; KV bytes per token follow the cache type.
#include <gtest/gtest.h>

#include "autoglm/model.h"
#include "core/dtype.h"
#include "kv/kv_cache.h"
#include "test_util.h"

namespace autoglm {
namespace {

struct FileSums {
  int64_t total = 0;      // every tensor's bytes
  int64_t table = 0;      // token_embd.weight
  int64_t table_row = 0;  // one row of it
  bool tied = false;
};

FileSums sums(const std::string& path) {
  auto f = gguf::File::open(path).value();
  FileSums s;
  for (const auto& t : f->tensors()) s.total += static_cast<int64_t>(t.nbytes);
  const gguf::TensorInfo* e = f->find_tensor("token_embd.weight");
  s.table = static_cast<int64_t>(e->nbytes);
  s.table_row = static_cast<int64_t>(row_size(e->type, e->shape().back()));
  s.tied = f->find_tensor("output.weight") == nullptr;
  return s;
}

std::string tied_stories() {
  testing::GgufEdit edit;
  edit.drop_tensors = {"output.weight"};
  return testing::write_edited(testing::stories_path(), edit, "stories_tied");
}

TEST(ModelInfo, UntiedModelReadsOneTableRowPerToken) {
  const FileSums s = sums(testing::stories_path());
  ASSERT_FALSE(s.tied);
  auto m = AutoModel::from_pretrained(testing::stories_path()).value();
  const ModelInfo i = m.info();
  EXPECT_EQ(i.weight_bytes, s.total);
  EXPECT_EQ(i.decode_bytes_per_token, s.total - s.table + s.table_row);
}

TEST(ModelInfo, TiedEmbeddingCountsOnce) {
  const std::string path = tied_stories();
  const FileSums s = sums(path);
  ASSERT_TRUE(s.tied);
  auto m = AutoModel::from_pretrained(path).value();
  const ModelInfo i = m.info();
  // The table is also the output head: read in full each token, held and counted once.
  EXPECT_EQ(i.weight_bytes, s.total);
  EXPECT_EQ(i.decode_bytes_per_token, s.total);
}

TEST(ModelInfo, DecodeBytesFollowLoadTimeQuantization) {
  // Quantized at load, a tied model computes with a Q8_0 copy of the table as its head while
  // lookups read the file's f32 rows: one f32 row plus every matrix in Q8_0, norms in f32.
  const std::string path = tied_stories();
  auto f = gguf::File::open(path).value();
  int64_t want = 0;
  for (const auto& t : f->tensors()) {
    const std::vector<int64_t> shape = t.shape();
    if (shape.size() == 1) {
      want += static_cast<int64_t>(t.nbytes);
    } else {
      // Rows that are not whole Q8_0 blocks (stories260K's ffn_down: 172) keep their type.
      ASSERT_EQ(t.type, DType::F32);
      want += shape.back() % 32 == 0 ? shape[0] * static_cast<int64_t>(row_size(DType::Q8_0, shape.back()))
                                     : static_cast<int64_t>(t.nbytes);
    }
  }
  want += static_cast<int64_t>(row_size(DType::F32, f->find_tensor("token_embd.weight")->shape().back()));
  auto m = AutoModel::from_pretrained(path, OptimizationConfig().enable_quantization(8)).value();
  EXPECT_EQ(m.info().decode_bytes_per_token, want);
  EXPECT_EQ(m.info().weight_bytes, sums(path).total);  // file bytes, each tensor once
}

TEST(ModelInfo, KvBytesPerTokenFollowCacheType) {
  int64_t per_type[3] = {};
  const char* types[3] = {"f32", "f16", "int8"};
  ModelInfo i;
  for (int k = 0; k < 3; ++k) {
    auto m = AutoModel::from_pretrained(testing::stories_path(), OptimizationConfig().set_kv_cache_type(types[k])).value();
    i = m.info();
    per_type[k] = i.kv_bytes_per_token;
  }
  const int64_t head_dim = i.n_embd / i.n_head, values = 2 * i.n_layer * i.n_head_kv * head_dim;
  EXPECT_EQ(per_type[0], values * 4);
  EXPECT_EQ(per_type[1], values * 2);
  // INT8's row layout (values + per-head scale) belongs to the KV cache; what it takes per token
  // must be what the cache allocates per token, and less than F16.
  kv::KVCacheConfig c;
  c.n_layers = static_cast<int32_t>(i.n_layer);
  c.n_kv_heads = static_cast<int32_t>(i.n_head_kv);
  c.head_dim = static_cast<int32_t>(head_dim);
  c.n_blocks = 1;
  c.dtype = DType::I8;
  auto cache = kv::KVCache::create(c).value();
  EXPECT_EQ(per_type[2], static_cast<int64_t>(cache->bytes()) / c.block_size);
  EXPECT_LT(per_type[2], per_type[1]);
}

}  // namespace
}  // namespace autoglm
