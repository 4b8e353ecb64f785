// The GGUF reader against hostile images: each corruption gives a clear error, never a crash.
#include <gtest/gtest.h>

#include <limits>

#include "formats/gguf.h"
#include "gguf_test_util.h"

namespace autoglm::gguf {
namespace {

using testing::Bytes;
using testing::kv;
using testing::kv_str;
using testing::kv_u32;
using testing::RawImage;
using testing::RawTensor;

constexpr uint32_t kF32 = 0, kF16 = 1, kQ8_0 = 8;
constexpr uint64_t kMaxU64 = std::numeric_limits<uint64_t>::max();
constexpr StatusCode kCorrupt = StatusCode::kCorruptFile;
constexpr StatusCode kUnsupported = StatusCode::kUnsupported;

// A small valid image: two metadata entries, an F32 matrix and a Q8_0 row.
RawImage base() {
  RawImage im;
  im.kvs = {kv_str("general.architecture", "llama"), kv_u32("llama.embedding_length", 8)};
  im.tensors = {{"a", {8, 2}, kF32, 0}, {"b", {32}, kQ8_0, 64}};
  return im;
}

// An image with every kind of section, made by the Writer, whose last tensor ends the file.
std::vector<uint8_t> writer_image() {
  Writer w;
  w.add_string("general.architecture", "llama");
  w.add_uint32("llama.block_count", 2);
  w.add_float32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.add_bool("flag", true);
  w.add_string_array("tokenizer.ggml.tokens", {"<s>", "a", "bc"});
  w.add_int32_array("tokenizer.ggml.token_type", {1, 2, 3});
  w.add_value("nested", Value::of_array(ValueType::ARRAY, {Value::of_array(ValueType::INT16, {
                                                               Value::of_int(ValueType::INT16, -3)})}));
  std::vector<uint8_t> q8(34, 0x11), f32(8 * 4, 0x22);
  w.add_tensor("q", DType::Q8_0, {1, 32}, q8.data(), q8.size());
  w.add_tensor("f", DType::F32, {8}, f32.data(), f32.size());  // 32 bytes: no trailing padding
  return w.to_bytes();
}

TEST(GgufHostile, BaseImageIsValid) {
  auto r = testing::parse(base().build());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)->tensors().size(), 2u);
  EXPECT_EQ((*r)->metadata().size(), 2u);
}

TEST(GgufHostile, TruncatedAtEveryByte) {
  for (const std::vector<uint8_t>& full : {base().build(), writer_image()}) {
    ASSERT_TRUE(testing::parse(full).ok());
    for (size_t len = 0; len < full.size(); ++len) {
      std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
      auto r = File::from_bytes(cut.data(), cut.size());
      ASSERT_FALSE(r.ok()) << "accepted a file truncated to " << len << " of " << full.size() << " bytes";
      ASSERT_EQ(r.status().code(), kCorrupt) << len << ": " << r.status().to_string();
    }
  }
}

TEST(GgufHostile, EmptyAndTinyInput) {
  auto r = File::from_bytes(nullptr, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), kCorrupt);
  EXPECT_GGUF_ERROR(std::vector<uint8_t>({'G', 'G'}), kCorrupt, "too small");
}

TEST(GgufHostile, BadMagic) {
  RawImage im = base();
  im.magic = 0x46554746;
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "bad magic");
}

TEST(GgufHostile, BadVersions) {
  RawImage im = base();
  im.version = 0;
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "version 0");
  im.version = 1;
  EXPECT_GGUF_ERROR(im.build(), kUnsupported, "version 1");
  im.version = 4;
  EXPECT_GGUF_ERROR(im.build(), kUnsupported, "version 4");
  im.version = 0xFFFFFFFFu;
  EXPECT_GGUF_ERROR(im.build(), kUnsupported, "version 4294967295");
  im.version = 0x03000000u;  // a v3 file written big-endian
  EXPECT_GGUF_ERROR(im.build(), kUnsupported, "big-endian");
  im.version = 2;  // v2 has the same 64-bit layout as v3
  auto r = testing::parse(im.build());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)->version(), 2u);
}

TEST(GgufHostile, CountsLargerThanTheFile) {
  for (uint64_t n : {kMaxU64, uint64_t{1} << 40, uint64_t{1000}}) {
    RawImage im = base();
    im.n_kv = n;
    EXPECT_GGUF_ERROR(im.build(), kCorrupt, "metadata entries");
    im = base();
    im.n_tensors = n;
    EXPECT_GGUF_ERROR(im.build(), kCorrupt, "tensors");
  }
}

TEST(GgufHostile, StringLengthsPastTheEnd) {
  RawImage im = base();
  im.kvs.push_back(Bytes().u64(kMaxU64).b);  // key length 2^64-1
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "runs past the end");
  im = base();
  im.kvs.push_back(Bytes().u64(1000).raw({'a', 'b'}).b);
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "string length 1000");
  im = base();
  im.kvs.push_back(kv("s", 8, Bytes().u64(kMaxU64).b));  // string value length
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "metadata 's': string length 18446744073709551615");
  im = base();
  im.tensors[0].name = "";
  std::vector<uint8_t> b = im.build();
  // Patch the empty name's length (first tensor info right after the kvs) to 2^64-1.
  size_t at = 24;
  for (const auto& k : im.kvs) at += k.size();
  for (int i = 0; i < 8; ++i) b[at + static_cast<size_t>(i)] = 0xFF;
  EXPECT_GGUF_ERROR(b, kCorrupt, "tensor #0 name");
}

TEST(GgufHostile, ArrayLengthsPastTheEnd) {
  for (uint64_t n : {kMaxU64, kMaxU64 / 2, uint64_t{1} << 33, uint64_t{100000}}) {
    for (uint32_t elem : {0u, 6u, 8u, 9u, 12u}) {
      RawImage im = base();
      im.kvs.push_back(kv("arr", 9, Bytes().u32(elem).u64(n).u64(0).b));
      EXPECT_GGUF_ERROR(im.build(), kCorrupt, "cannot fit");
    }
  }
  RawImage im = base();  // a string element whose own length is absurd
  im.kvs.push_back(kv("arr", 9, Bytes().u32(8).u64(2).str("ok").u64(kMaxU64).b));
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "array index 1");
}

TEST(GgufHostile, DuplicateAndEmptyKeys) {
  RawImage im = base();
  im.kvs.push_back(kv_u32("llama.embedding_length", 9));
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "duplicate metadata key 'llama.embedding_length'");
  im = base();
  im.kvs.push_back(kv_u32("", 9));
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "metadata key #2 is empty");
  im = base();
  im.kvs.push_back(kv_u32(std::string(70000, 'k'), 9));
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "at most 65535");
}

TEST(GgufHostile, UnknownValueTypes) {
  for (uint32_t t : {13u, 100u, 0xFFFFFFFFu}) {
    RawImage im = base();
    im.kvs.push_back(kv("x", t, Bytes().u64(0).b));
    EXPECT_GGUF_ERROR(im.build(), kCorrupt, "unknown value type");
    im = base();
    im.kvs.push_back(kv("x", 9, Bytes().u32(t).u64(1).u64(0).b));
    EXPECT_GGUF_ERROR(im.build(), kCorrupt, "unknown array element type");
  }
}

TEST(GgufHostile, BoolMustBeZeroOrOne) {
  RawImage im = base();
  im.kvs.push_back(kv("b", 7, Bytes().u8(2).b));
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "not 0 or 1");
}

// depth levels of arrays, the innermost holding one u8.
std::vector<uint8_t> nested_array(int depth) {
  Bytes inner;
  inner.u32(0).u64(1).u8(7);
  for (int d = 1; d < depth; ++d) inner = Bytes().u32(9).u64(1).raw(inner.b);
  return inner.b;
}

TEST(GgufHostile, ArrayNestingIsBounded) {
  RawImage im = base();
  im.kvs.push_back(kv("n", 9, nested_array(4)));
  auto r = testing::parse(im.build());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)->find("n")->to_display_string(), "[[[[7]]]]");
  im = base();
  im.kvs.push_back(kv("n", 9, nested_array(5)));
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "nested deeper than 4");
  im = base();
  im.kvs.push_back(kv("n", 9, nested_array(100)));
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "nested deeper than 4");
}

TEST(GgufHostile, ArrayValueBudget) {
  // Legal but absurd: 2^24 + 1 u8 values would cost ~2 GB as Values; refused before allocating.
  RawImage im = base();
  const uint64_t n = (uint64_t{1} << 24) + 1;
  std::vector<uint8_t> payload = Bytes().u32(0).u64(n).b;
  payload.resize(payload.size() + n, 1);
  im.kvs.push_back(kv("big", 9, payload));
  EXPECT_GGUF_ERROR(im.build(), kUnsupported, "refusing");
}

TEST(GgufHostile, Alignment) {
  for (uint32_t a : {0u, 3u, 48u, 0xFFFFFFFFu}) {
    RawImage im = base();
    im.kvs.push_back(kv_u32("general.alignment", a));
    EXPECT_GGUF_ERROR(im.build(), kCorrupt, "power of two");
  }
  for (uint32_t type : {10u, 5u, 2u}) {  // u64, i32, u16
    RawImage im = base();
    Bytes payload;
    if (type == 10) payload.u64(32);
    if (type == 5) payload.u32(32);
    if (type == 2) payload.put<uint16_t>(32);
    im.kvs.push_back(kv("general.alignment", type, payload.b));
    EXPECT_GGUF_ERROR(im.build(), kCorrupt, "general.alignment must be u32");
  }
  RawImage im = base();
  im.kvs.push_back(kv_str("general.alignment", "32"));
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "general.alignment must be u32, found str");

  im = base();  // 64: tensor "b" at 64 is still aligned, and the data section moves
  im.kvs.push_back(kv_u32("general.alignment", 64));
  im.alignment = 64;
  auto r = testing::parse(im.build());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)->alignment(), 64u);
  EXPECT_EQ((*r)->data_offset() % 64, 0u);
  im.tensors[1].offset = 96;  // aligned to 32, not to 64
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "not a multiple of the alignment 64");
}

TEST(GgufHostile, TensorNames) {
  RawImage im = base();
  im.tensors[0].name = std::string(63, 'n');
  ASSERT_TRUE(testing::parse(im.build()).ok());
  im.tensors[0].name = std::string(64, 'n');
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "at most 63");
  im.tensors[0].name = "";
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "tensor #0 has an empty name");
  im.tensors[0].name = "b";
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "duplicate tensor name 'b'");
}

TEST(GgufHostile, TensorDims) {
  RawImage im = base();
  im.tensors[0].ne = {};
  im.data_bytes = 128;
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "n_dims is 0");
  im.tensors[0].ne = {1, 1, 1, 1, 16};
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "n_dims is 5");
  im.tensors[0].ne = {8, 0};
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "dimension 1 is 0");
  im.tensors[0].ne = {static_cast<uint64_t>(-8), 2};
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "dimension 0 is -8");
  im.tensors[0].ne = {kMaxU64 >> 1, kMaxU64 >> 1};  // each fits int64; the product does not
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "element count overflows");
  im.tensors[0].ne = {uint64_t{1} << 32, uint64_t{1} << 31};  // 2^63 elements
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "element count overflows");
  im.tensors[0].ne = {uint64_t{1} << 61};  // 2^61 f32 = 2^63 bytes
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "byte size overflows");
  im.tensors[0].ne = {uint64_t{1} << 31, uint64_t{1} << 31};  // 2^62 elements, 2^64 bytes
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "byte size overflows");
  im.tensors[0].ne = {uint64_t{1} << 40};  // plausible size, but far past the end of the file
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "runs past the end of the file");
}

TEST(GgufHostile, BlockSizeAndTypes) {
  RawImage im = base();
  im.tensors[1].ne = {16, 2};  // Q8_0 rows must be multiples of 32
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "not a multiple of the q8_0 block size 32");
  for (uint32_t t : {4u, 5u, 31u, 40u, 1000u, 0xFFFFFFFFu}) {
    im = base();
    im.tensors[0].type = t;
    im.data_bytes = 128;
    EXPECT_GGUF_ERROR(im.build(), kCorrupt, "unknown tensor type id " + std::to_string(t));
  }
  im = base();
  im.tensors[0].type = 39;  // MXFP4: a real ggml type this engine does not implement
  im.data_bytes = 128;
  EXPECT_GGUF_ERROR(im.build(), kUnsupported, "type id 39");
}

TEST(GgufHostile, TensorOffsets) {
  RawImage im = base();
  im.tensors[1].offset = 68;
  im.data_bytes = 128;
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "offset 68 is not a multiple of the alignment 32");
  im.tensors[1].offset = 32;  // "a" spans [0, 64)
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "tensors 'a' and 'b' overlap");
  im.tensors[1].offset = 0;  // same offset
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "overlap");
  im = base();
  im.tensors[1].offset = 0;  // listed out of order: sorting still finds it
  im.tensors[0].offset = 32;
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "tensors 'b' and 'a' overlap");
  im = base();
  im.tensors[1].offset = 96;  // aligned, inside the file, but 32 bytes after "a" ends
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "tensor 'b' starts at data offset 96, leaving a gap after 64");
  im = base();
  im.tensors[0].offset = 32;  // a gap before the first tensor
  im.tensors[1].offset = 96;
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "tensor 'a' starts at data offset 32, leaving a gap after 0");
  im = base();
  im.data_bytes = 97;  // "b" needs [64, 98)
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "tensor 'b': data [64, +34) runs past the end");
  im = base();
  im.tensors[1].offset = kMaxU64 - 31;  // aligned, and offset + nbytes overflows
  im.data_bytes = 128;
  EXPECT_GGUF_ERROR(im.build(), kCorrupt, "runs past the end");
}

TEST(GgufHostile, TensorsNeedTheirDataSection) {
  RawImage im = base();
  im.tensors = {{"a", {8}, kF16, 0}};
  im.data_bytes = 0;
  std::vector<uint8_t> b = im.build();
  b.resize(b.size() - 1);  // also drop one byte of padding: the data section starts past the end
  EXPECT_GGUF_ERROR(b, kCorrupt, "truncated file");
}

TEST(GgufHostile, NoTensorsMayEndUnpadded) {
  RawImage im = base();
  im.tensors.clear();
  std::vector<uint8_t> b = im.build();
  ASSERT_NE(b.size() % 32, 0u);
  auto r = testing::parse(b);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE((*r)->tensors().empty());
}

}  // namespace
}  // namespace autoglm::gguf
