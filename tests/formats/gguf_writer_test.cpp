// Writer -> reader round trips: every value type, tensors of several dtypes with exact bytes,
// alignment handling, and the file path through mmap.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <limits>

#include "formats/gguf.h"
#include "gguf_test_util.h"

namespace autoglm::gguf {
namespace {

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 31 + (i >> 8));
  return v;
}

std::vector<std::pair<std::string, Value>> every_value() {
  using VT = ValueType;
  std::vector<std::pair<std::string, Value>> kvs = {
      {"u8", Value::of_uint(VT::UINT8, 255)},
      {"i8", Value::of_int(VT::INT8, -128)},
      {"u16", Value::of_uint(VT::UINT16, 65535)},
      {"i16", Value::of_int(VT::INT16, -32768)},
      {"u32", Value::of_uint(VT::UINT32, 4294967295u)},
      {"i32", Value::of_int(VT::INT32, std::numeric_limits<int32_t>::min())},
      {"f32", Value::of_float(VT::FLOAT32, -1.25)},
      {"bool.t", Value::of_bool(true)},
      {"bool.f", Value::of_bool(false)},
      {"str", Value::of_string(std::string("h\xc3\xa9llo \"w\"\n\0x", 14))},
      {"str.empty", Value::of_string("")},
      {"u64", Value::of_uint(VT::UINT64, std::numeric_limits<uint64_t>::max())},
      {"i64", Value::of_int(VT::INT64, std::numeric_limits<int64_t>::min())},
      {"f64", Value::of_float(VT::FLOAT64, 0.1)},
      {"arr.str", Value::of_string_array({"<s>", "", "\xe2\x96\x81the"})},
      {"arr.empty", Value::of_array(VT::INT32, {})},
      {"arr.str.empty", Value::of_string_array({})},
      {"arr.bool", Value::of_array(VT::BOOL, {Value::of_bool(true), Value::of_bool(false)})},
      {"arr.nested", Value::of_array(VT::ARRAY, {Value::of_array(VT::INT32, {Value::of_int(VT::INT32, 1)}),
                                                 Value::of_string_array({"x", "y"})})},
  };
  for (VT t : {VT::UINT8, VT::INT8, VT::UINT16, VT::INT16, VT::UINT32, VT::INT32, VT::UINT64, VT::INT64}) {
    std::vector<Value> items;
    for (int k = 0; k < 3; ++k) {
      bool is_signed = t == VT::INT8 || t == VT::INT16 || t == VT::INT32 || t == VT::INT64;
      items.push_back(is_signed ? Value::of_int(t, -k * 5) : Value::of_uint(t, static_cast<uint64_t>(k) * 7));
    }
    kvs.emplace_back(std::string("arr.") + value_type_name(t), Value::of_array(t, std::move(items)));
  }
  kvs.emplace_back("arr.f32", Value::of_array(VT::FLOAT32, {Value::of_float(VT::FLOAT32, 0.5),
                                                            Value::of_float(VT::FLOAT32, -3.0)}));
  kvs.emplace_back("arr.f64", Value::of_array(VT::FLOAT64, {Value::of_float(VT::FLOAT64, 1e-300)}));
  return kvs;
}

TEST(GgufWriter, EveryValueTypeRoundTrips) {
  Writer w;
  const auto kvs = every_value();
  for (const auto& [k, v] : kvs) w.add_value(k, v);
  ASSERT_TRUE(w.check().ok()) << w.check().to_string();
  const std::vector<uint8_t> bytes = w.to_bytes();
  auto r = testing::parse(bytes);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const File& f = **r;
  EXPECT_EQ(f.version(), 3u);
  ASSERT_EQ(f.metadata().size(), kvs.size());  // no general.alignment at the default 32
  for (size_t i = 0; i < kvs.size(); ++i) {
    EXPECT_EQ(f.metadata()[i].first, kvs[i].first);
    EXPECT_TRUE(f.metadata()[i].second == kvs[i].second)
        << kvs[i].first << ": " << f.metadata()[i].second.to_display_string() << " vs "
        << kvs[i].second.to_display_string();
  }
  EXPECT_EQ(f.get_string("str")->size(), 14u);
  EXPECT_TRUE(f.tensors().empty());
}

TEST(GgufWriter, ConvenienceAdders) {
  Writer w;
  w.add_string("s", "v");
  w.add_uint32("u32", 7);
  w.add_int32("i32", -7);
  w.add_uint64("u64", 1ull << 40);
  w.add_float32("f32", 0.25f);
  w.add_bool("b", true);
  w.add_string_array("sa", {"a", "b"});
  w.add_float32_array("fa", {1.5f, -2.0f});
  w.add_int32_array("ia", {3, -4});
  auto r = testing::parse(w.to_bytes());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const File& f = **r;
  EXPECT_EQ(f.get_string("s"), "v");
  EXPECT_EQ(f.find("u32")->type, ValueType::UINT32);
  EXPECT_EQ(f.get_int("u32"), 7);
  EXPECT_EQ(f.get_int("i32"), -7);
  EXPECT_EQ(f.get_int("u64"), int64_t{1} << 40);
  EXPECT_EQ(f.get_float("f32"), 0.25);
  EXPECT_EQ(f.get_bool("b"), true);
  EXPECT_EQ(*f.get_string_array("sa"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*f.get_float_array("fa"), (std::vector<double>{1.5, -2.0}));
  EXPECT_EQ(*f.get_int_array("ia"), (std::vector<int64_t>{3, -4}));
}

struct TensorCase {
  std::string name;
  DType type;
  std::vector<int64_t> shape;
};

void check_tensors_round_trip(uint64_t alignment) {
  const std::vector<TensorCase> cases = {
      {"tok_embd.weight", DType::F32, {3, 5}},            // 60 bytes: needs padding after it
      {"norm.weight", DType::F16, {7}},                   // 14 bytes
      {"blk.0.attn_q.weight", DType::Q8_0, {2, 3, 64}},   // 12 blocks of 34 bytes
      {"blk.0.ffn_down.weight", DType::Q4_K, {2, 256}},   // 2 blocks of 144 bytes
      {"x4", DType::F32, {2, 1, 3, 4}},                   // 4 dims
  };
  Writer w;
  w.set_alignment(alignment);
  w.add_string("general.architecture", "llama");
  std::vector<std::vector<uint8_t>> data;
  for (size_t i = 0; i < cases.size(); ++i) {
    const TensorCase& c = cases[i];
    int64_t rows = 1;
    for (size_t d = 0; d + 1 < c.shape.size(); ++d) rows *= c.shape[d];
    data.push_back(pattern(row_size(c.type, c.shape.back()) * static_cast<size_t>(rows), static_cast<uint8_t>(i)));
    w.add_tensor(c.name, c.type, c.shape, data.back().data(), data.back().size());
  }
  const std::vector<uint8_t> bytes = w.to_bytes();
  auto r = testing::parse(bytes);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const File& f = **r;
  EXPECT_EQ(f.alignment(), alignment);
  EXPECT_EQ(f.data_offset() % alignment, 0u);
  EXPECT_EQ(f.find("general.alignment") != nullptr, alignment != 32);
  if (alignment != 32) {
    EXPECT_EQ(f.find("general.alignment")->type, ValueType::UINT32);
  }
  ASSERT_EQ(f.tensors().size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const TensorCase& c = cases[i];
    const TensorInfo* t = f.find_tensor(c.name);
    ASSERT_NE(t, nullptr) << c.name;
    EXPECT_EQ(t, &f.tensors()[i]);  // file order is kept
    EXPECT_EQ(t->type, c.type);
    EXPECT_EQ(t->shape(), c.shape);
    EXPECT_EQ(t->ne, std::vector<int64_t>(c.shape.rbegin(), c.shape.rend()));
    EXPECT_EQ(t->n_dims, static_cast<int>(c.shape.size()));
    EXPECT_EQ(t->offset % alignment, 0u);
    ASSERT_EQ(t->nbytes, data[i].size());
    EXPECT_EQ(std::memcmp(t->data, data[i].data(), data[i].size()), 0) << c.name;
    Tensor view = f.tensor_view(*t);
    EXPECT_EQ(view.shape(), c.shape);
    EXPECT_EQ(view.dtype(), c.type);
    EXPECT_EQ(view.nbytes(), data[i].size());
    EXPECT_EQ(view.data(), static_cast<const void*>(t->data));
  }
  EXPECT_EQ(f.find_tensor("missing"), nullptr);
}

TEST(GgufWriter, TensorsRoundTripDefaultAlignment) { check_tensors_round_trip(32); }
TEST(GgufWriter, TensorsRoundTripAlignment64) { check_tensors_round_trip(64); }
TEST(GgufWriter, TensorsRoundTripAlignment1) { check_tensors_round_trip(1); }

TEST(GgufWriter, LayoutIsPaddedAndDeterministic) {
  Writer w;
  std::vector<uint8_t> a = pattern(12, 1), b = pattern(8, 2);
  w.add_tensor("a", DType::F32, {3}, a.data(), a.size());
  w.add_tensor("b", DType::F32, {2}, b.data(), b.size());
  const std::vector<uint8_t> bytes = w.to_bytes();
  EXPECT_EQ(bytes, w.to_bytes());
  auto r = testing::parse(bytes);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)->tensors()[1].offset, 32u);  // a's 12 bytes padded to 32
  EXPECT_EQ(bytes.size(), (*r)->data_offset() + 64);  // every tensor padded, the last one too
  EXPECT_EQ(std::memcmp(bytes.data(), "GGUF", 4), 0);
}

TEST(GgufWriter, CheckRejectsInconsistentInput) {
  std::vector<uint8_t> d(16);
  {
    Writer w;
    w.add_uint32("k", 1);
    w.add_uint32("k", 2);
    EXPECT_EQ(w.check().code(), StatusCode::kInvalidArgument);
  }
  {
    Writer w;
    w.add_tensor("t", DType::F32, {5}, d.data(), d.size());  // 5 f32 are 20 bytes
    EXPECT_EQ(w.check().code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(w.write("/nonexistent-dir/x.gguf").ok());
  }
  {
    Writer w;
    w.add_tensor("t", DType::Q8_0, {16}, d.data(), d.size());
    EXPECT_FALSE(w.check().ok());
  }
  {
    Writer w;
    w.add_tensor(std::string(64, 'n'), DType::F32, {4}, d.data(), d.size());
    EXPECT_FALSE(w.check().ok());
  }
  {
    Writer w;
    w.set_alignment(48);
    EXPECT_FALSE(w.check().ok());
  }
  {
    Writer w;
    w.add_value("a", Value::of_array(ValueType::INT32, {Value::of_uint(ValueType::UINT8, 1)}));
    EXPECT_FALSE(w.check().ok());
  }
}

TEST(GgufWriter, WriteThenOpenMapsTheFile) {
  Writer w;
  w.add_string("general.architecture", "llama");
  std::vector<uint8_t> q = pattern(144, 9);
  w.add_tensor("q", DType::Q4_K, {1, 256}, q.data(), q.size());
  char path[] = "/tmp/autoglm_gguf_test_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  ASSERT_TRUE(w.write(path).ok());
  auto r = File::open(path);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const File& f = **r;
  EXPECT_EQ(f.file_size(), w.to_bytes().size());
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  const TensorInfo* t = f.find_tensor("q");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(std::memcmp(t->data, q.data(), q.size()), 0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t->data) % 32, 0u);  // mmap base is page aligned

  // A corrupt file on disk reports the path and the problem.
  std::vector<uint8_t> bad = w.to_bytes();
  bad[4] = 9;
  std::FILE* out = std::fopen(path, "wb");
  ASSERT_NE(out, nullptr);
  std::fwrite(bad.data(), 1, bad.size(), out);
  std::fclose(out);
  auto r2 = File::open(path);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(r2.status().message().find(path), std::string::npos);
  std::remove(path);
}

}  // namespace
}  // namespace autoglm::gguf
