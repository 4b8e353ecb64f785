// Interop with llama.cpp's gguf-py writer (scripts/gen_gguf_fixtures.py): we read its file, and
// our Writer produces the very same bytes from the same content.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

#include "formats/gguf.h"

namespace autoglm::gguf {
namespace {

const std::string kReference = std::string(AUTOGLM_TEST_DATA) + "/gguf/gguf_py_reference.gguf";

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 31 + (i >> 8));
  return v;
}

std::vector<uint8_t> bytes_of(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  return {b, b + n};
}

// The content the script writes, through our Writer.
Writer reference_content() {
  using VT = ValueType;
  Writer w;
  w.add_string("general.architecture", "llama");
  w.add_value("t.u8", Value::of_uint(VT::UINT8, 255));
  w.add_value("t.i8", Value::of_int(VT::INT8, -128));
  w.add_value("t.u16", Value::of_uint(VT::UINT16, 65535));
  w.add_value("t.i16", Value::of_int(VT::INT16, -32768));
  w.add_uint32("t.u32", 4294967295u);
  w.add_int32("t.i32", std::numeric_limits<int32_t>::min());
  w.add_float32("t.f32", -1.25f);
  w.add_bool("t.bool", true);
  w.add_string("t.str", "h\xc3\xa9llo \"w\"\n");
  w.add_uint64("t.u64", std::numeric_limits<uint64_t>::max());
  w.add_value("t.i64", Value::of_int(VT::INT64, std::numeric_limits<int64_t>::min()));
  w.add_value("t.f64", Value::of_float(VT::FLOAT64, 0.1));
  w.add_string_array("t.arr.str", {"<s>", "", "\xe2\x96\x81the"});
  w.add_int32_array("t.arr.i32", {1, -2, 3});
  w.add_float32_array("t.arr.f32", {0.5f, -3.0f});
  w.add_value("t.arr.nested",
              Value::of_array(VT::ARRAY, {Value::of_array(VT::INT32, {Value::of_int(VT::INT32, 1), Value::of_int(VT::INT32, 2)}),
                                          Value::of_array(VT::INT32, {Value::of_int(VT::INT32, 3)})}));
  std::vector<float> f32(15);
  for (size_t i = 0; i < f32.size(); ++i) f32[i] = 0.5f * static_cast<float>(i);
  const uint16_t f16[7] = {0xC200, 0xC000, 0xBC00, 0x0000, 0x3C00, 0x4000, 0x4200};  // -3..3
  const std::vector<uint8_t> q8 = pattern(2 * 3 * 2 * 34, 3), q4k = pattern(2 * 144, 4);
  w.add_tensor("f32", DType::F32, {3, 5}, f32.data(), f32.size() * 4);
  w.add_tensor("f16", DType::F16, {7}, f16, sizeof(f16));
  w.add_tensor("q8_0", DType::Q8_0, {2, 3, 64}, q8.data(), q8.size());
  w.add_tensor("q4_k", DType::Q4_K, {2, 256}, q4k.data(), q4k.size());
  return w;
}

TEST(GgufInterop, ReadsGgufPyFile) {
  auto r = File::open(kReference);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const File& f = **r;
  EXPECT_EQ(f.metadata().size(), 17u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_int("t.i8"), -128);
  EXPECT_EQ(f.get_int("t.u64"), std::nullopt);
  EXPECT_EQ(f.find("t.u64")->u, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(f.get_int("t.i64"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(f.get_float("t.f64"), 0.1);
  EXPECT_EQ(f.get_bool("t.bool"), true);
  EXPECT_EQ(f.get_string("t.str"), "h\xc3\xa9llo \"w\"\n");
  EXPECT_EQ(f.find("t.arr.nested")->to_display_string(), "[[1, 2], [3]]");
  EXPECT_EQ(f.find("t.arr.str")->to_display_string(), "[\"<s>\", \"\", \"\xe2\x96\x81the\"]");

  // Every value matches what our Writer would have stored.
  const std::vector<uint8_t> ours = reference_content().to_bytes();
  auto mine = File::from_bytes(ours.data(), ours.size());
  ASSERT_TRUE(mine.ok()) << mine.status().to_string();
  ASSERT_EQ((*mine)->metadata().size(), f.metadata().size());
  for (size_t i = 0; i < f.metadata().size(); ++i) {
    EXPECT_EQ(f.metadata()[i].first, (*mine)->metadata()[i].first);
    EXPECT_TRUE(f.metadata()[i].second == (*mine)->metadata()[i].second) << f.metadata()[i].first;
  }
  ASSERT_EQ(f.tensors().size(), 4u);
  for (const TensorInfo& t : (*mine)->tensors()) {
    const TensorInfo* o = f.find_tensor(t.name);
    ASSERT_NE(o, nullptr) << t.name;
    EXPECT_EQ(o->type, t.type);
    EXPECT_EQ(o->ne, t.ne);
    EXPECT_EQ(o->offset, t.offset);
    EXPECT_EQ(bytes_of(o->data, o->nbytes), bytes_of(t.data, t.nbytes)) << t.name;
  }
}

TEST(GgufInterop, WriterMatchesGgufPyByteForByte) {
  std::ifstream in(kReference, std::ios::binary);
  ASSERT_TRUE(in.good()) << kReference;
  const std::vector<uint8_t> reference((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::vector<uint8_t> ours = reference_content().to_bytes();
  ASSERT_EQ(ours.size(), reference.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    ASSERT_EQ(ours[i], reference[i]) << "first difference at byte " << i;
  }
}

TEST(GgufInterop, PaddingFollowsGgufPy) {
  // gguf-py pads the data section even when there are no tensors, and pads the last tensor too.
  Writer empty;
  empty.add_string("general.architecture", "llama");
  EXPECT_EQ(empty.to_bytes().size(), 96u);
  Writer one;
  one.add_string("general.architecture", "llama");
  const float zeros[3] = {};
  one.add_tensor("a", DType::F32, {3}, zeros, sizeof(zeros));
  EXPECT_EQ(one.to_bytes().size(), 160u);
}

}  // namespace
}  // namespace autoglm::gguf
