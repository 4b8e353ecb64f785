// Metadata accessors (type coercion rules) and Value::to_display_string.
#include <gtest/gtest.h>

#include <limits>

#include "formats/gguf.h"
#include "gguf_test_util.h"

namespace autoglm::gguf {
namespace {

using VT = ValueType;

std::unique_ptr<File> make_file() {
  Writer w;
  w.add_value("u8", Value::of_uint(VT::UINT8, 200));
  w.add_value("i16", Value::of_int(VT::INT16, -300));
  w.add_value("u64.big", Value::of_uint(VT::UINT64, std::numeric_limits<uint64_t>::max()));
  w.add_value("f64", Value::of_float(VT::FLOAT64, 2.5));
  w.add_float32("f32", 0.5f);
  w.add_bool("b", false);
  w.add_string("s", "text");
  w.add_string_array("sa", {"a"});
  w.add_value("u16a", Value::of_array(VT::UINT16, {Value::of_uint(VT::UINT16, 1), Value::of_uint(VT::UINT16, 2)}));
  w.add_float32_array("fa", {0.5f});
  w.add_value("ba", Value::of_array(VT::BOOL, {Value::of_bool(true)}));
  w.add_value("u64a", Value::of_array(VT::UINT64, {Value::of_uint(VT::UINT64, ~0ull)}));
  w.add_value("nested", Value::of_array(VT::ARRAY, {Value::of_array(VT::INT32, {})}));
  auto bytes = w.to_bytes();
  auto r = File::from_bytes(bytes.data(), bytes.size());
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return std::move(r).value();
}

TEST(GgufValue, GetInt) {
  auto f = make_file();
  EXPECT_EQ(f->get_int("u8"), 200);
  EXPECT_EQ(f->get_int("i16"), -300);
  EXPECT_EQ(f->get_int("u64.big"), std::nullopt);  // does not fit int64
  EXPECT_EQ(f->get_int("f32"), std::nullopt);
  EXPECT_EQ(f->get_int("s"), std::nullopt);
  EXPECT_EQ(f->get_int("sa"), std::nullopt);
  EXPECT_EQ(f->get_int("missing"), std::nullopt);
  EXPECT_TRUE(f->find("u8")->is_integer());
  EXPECT_FALSE(f->find("b")->is_integer());
}

TEST(GgufValue, GetFloatBoolString) {
  auto f = make_file();
  EXPECT_EQ(f->get_float("f32"), 0.5);
  EXPECT_EQ(f->get_float("f64"), 2.5);
  EXPECT_EQ(f->get_float("i16"), -300.0);
  EXPECT_EQ(f->get_float("u8"), 200.0);
  EXPECT_EQ(f->get_float("s"), std::nullopt);
  EXPECT_EQ(f->get_float("b"), std::nullopt);
  EXPECT_EQ(f->get_bool("b"), false);
  EXPECT_EQ(f->get_bool("u8"), std::nullopt);
  EXPECT_EQ(f->get_string("s"), "text");
  EXPECT_EQ(f->get_string("u8"), std::nullopt);
  EXPECT_EQ(f->get_string("sa"), std::nullopt);
}

TEST(GgufValue, GetArrays) {
  auto f = make_file();
  ASSERT_NE(f->get_string_array("sa"), nullptr);
  EXPECT_EQ(f->get_string_array("sa")->size(), 1u);
  EXPECT_EQ(f->get_string_array("u16a"), nullptr);
  EXPECT_EQ(f->get_string_array("s"), nullptr);
  EXPECT_EQ(f->get_int_array("u16a"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(f->get_int_array("fa"), std::nullopt);
  EXPECT_EQ(f->get_int_array("ba"), std::nullopt);
  EXPECT_EQ(f->get_int_array("u64a"), std::nullopt);
  EXPECT_EQ(f->get_int_array("sa"), std::nullopt);
  EXPECT_EQ(f->get_int_array("nested"), std::nullopt);
  EXPECT_EQ(f->get_float_array("fa"), (std::vector<double>{0.5}));
  EXPECT_EQ(f->get_float_array("u16a"), (std::vector<double>{1, 2}));
  EXPECT_EQ(f->get_float_array("sa"), std::nullopt);
  EXPECT_EQ(f->get_float_array("ba"), std::nullopt);
  EXPECT_EQ(f->get_float_array("nested"), std::nullopt);
  EXPECT_EQ(f->get_float_array("u8"), std::nullopt);
  EXPECT_EQ(f->find("u16a")->array_size(), 2u);
  EXPECT_EQ(f->find("sa")->array_size(), 1u);
}

TEST(GgufValue, DisplayScalars) {
  EXPECT_EQ(Value::of_uint(VT::UINT64, ~0ull).to_display_string(), "18446744073709551615");
  EXPECT_EQ(Value::of_int(VT::INT32, -5).to_display_string(), "-5");
  EXPECT_EQ(Value::of_float(VT::FLOAT32, static_cast<double>(1e-5f)).to_display_string(), "1e-05");
  EXPECT_EQ(Value::of_float(VT::FLOAT32, 10000.0).to_display_string(), "10000");
  EXPECT_EQ(Value::of_float(VT::FLOAT64, 0.1).to_display_string(), "0.1");
  EXPECT_EQ(Value::of_bool(true).to_display_string(), "true");
  EXPECT_EQ(Value::of_string("a\"b\\c\nd\te\x01").to_display_string(), "\"a\\\"b\\\\c\\nd\\te\\x01\"");
  EXPECT_EQ(Value::of_string("\xe2\x96\x81h").to_display_string(), "\"\xe2\x96\x81h\"");  // UTF-8 kept
}

TEST(GgufValue, DisplayArrays) {
  std::vector<std::string> toks;
  for (int i = 0; i < 32000; ++i) toks.push_back("t" + std::to_string(i));
  EXPECT_EQ(Value::of_string_array(toks).to_display_string(3), "[\"t0\", \"t1\", \"t2\", ... (32000 items)]");
  EXPECT_EQ(Value::of_string_array({"a", "b"}).to_display_string(), "[\"a\", \"b\"]");
  EXPECT_EQ(Value::of_string_array({}).to_display_string(), "[]");
  std::vector<Value> ints;
  for (int i = 0; i < 10; ++i) ints.push_back(Value::of_int(VT::INT32, i));
  EXPECT_EQ(Value::of_array(VT::INT32, ints).to_display_string(), "[0, 1, 2, 3, 4, 5, 6, 7, ... (10 items)]");
  EXPECT_EQ(Value::of_array(VT::INT32, ints).to_display_string(0), "[... (10 items)]");
  Value nested = Value::of_array(VT::ARRAY, {Value::of_array(VT::FLOAT32, {Value::of_float(VT::FLOAT32, 0.5)}),
                                             Value::of_array(VT::FLOAT32, {})});
  EXPECT_EQ(nested.to_display_string(), "[[0.5], []]");
}

TEST(GgufValue, TypeNamesAndSizes) {
  EXPECT_STREQ(value_type_name(VT::FLOAT64), "f64");
  EXPECT_STREQ(value_type_name(static_cast<VT>(99)), "unknown");
  EXPECT_EQ(value_type_size(VT::UINT16), 2u);
  EXPECT_EQ(value_type_size(VT::STRING), 0u);
  EXPECT_TRUE(is_valid_value_type(12));
  EXPECT_FALSE(is_valid_value_type(13));
}

}  // namespace
}  // namespace autoglm::gguf
