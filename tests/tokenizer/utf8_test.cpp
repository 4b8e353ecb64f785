#include "tokenizer/utf8.h"

#include <gtest/gtest.h>

namespace autoglm {
namespace {

using utf8::Lead;

TEST(Utf8, Classify) {
  EXPECT_EQ(utf8::classify("a").kind, Lead::kComplete);
  EXPECT_EQ(utf8::classify("\xC3\xA9").len, 2u);
  EXPECT_EQ(utf8::classify("\xE4\xB8\xAD").len, 3u);
  EXPECT_EQ(utf8::classify("\xF0\x9F\x98\x80").len, 4u);
  EXPECT_EQ(utf8::classify("\xF0\x9F").kind, Lead::kTruncated);
  EXPECT_EQ(utf8::classify("\xE4").kind, Lead::kTruncated);
  EXPECT_EQ(utf8::classify("\x80").kind, Lead::kInvalid);
  EXPECT_EQ(utf8::classify("\xC0\x80").kind, Lead::kInvalid);      // overlong
  EXPECT_EQ(utf8::classify("\xE0\x80\x80").kind, Lead::kInvalid);  // overlong
  EXPECT_EQ(utf8::classify("\xED\xA0\x80").kind, Lead::kInvalid);  // surrogate
  EXPECT_EQ(utf8::classify("\xF4\x90\x80\x80").kind, Lead::kInvalid);  // > U+10FFFF
  EXPECT_EQ(utf8::classify("\xF5").kind, Lead::kInvalid);
  EXPECT_EQ(utf8::classify("\xE4" "a").kind, Lead::kInvalid);
  EXPECT_EQ(utf8::classify(std::string_view("\0", 1)).kind, Lead::kComplete);
}

TEST(Utf8, Sanitize) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(utf8::sanitize("abc"), "abc");
  EXPECT_EQ(utf8::sanitize("\xE4\xB8"), r + r);
  EXPECT_EQ(utf8::sanitize("a\xFF" "b"), "a" + r + "b");
  EXPECT_EQ(utf8::sanitize("\xED\xA0\x80"), r + r + r);
  EXPECT_TRUE(utf8::is_valid("h\xC3\xA9llo \xF0\x9F\xA6\x99"));
  EXPECT_FALSE(utf8::is_valid("\xF0\x9F\xA6"));
}

}  // namespace
}  // namespace autoglm
