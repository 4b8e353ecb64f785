// json_nesting_within: the depth check run on untrusted JSON text before parsing.
#include <gtest/gtest.h>

#include <string>

#include "autoglm/json_limits.h"

namespace autoglm {
namespace {

std::string nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(JsonNesting, CountsArraysAndObjectsUpToTheLimit) {
  EXPECT_TRUE(json_nesting_within("", 0));
  EXPECT_TRUE(json_nesting_within("1", 0));
  EXPECT_FALSE(json_nesting_within("[]", 0));
  EXPECT_TRUE(json_nesting_within(nested(32), 32));
  EXPECT_FALSE(json_nesting_within(nested(33), 32));
  EXPECT_TRUE(json_nesting_within(R"({"a":[{"b":[1,2]}],"c":{"d":{}}})", 4));
  EXPECT_FALSE(json_nesting_within(R"({"a":[{"b":[1,2]}],"c":{"d":{}}})", 3));
  // Siblings do not add up: depth is the deepest point, not the count of brackets.
  std::string wide = "[";
  for (int i = 0; i < 1000; ++i) wide += "[[]],";
  wide += "1]";
  EXPECT_TRUE(json_nesting_within(wide, 3));
  EXPECT_FALSE(json_nesting_within(wide, 2));
}

TEST(JsonNesting, BracketsInStringsDoNotCount) {
  EXPECT_TRUE(json_nesting_within(R"(["[[[[[[{{{{{{"])", 1));
  // An escaped quote does not end the string; an escaped backslash does not escape the quote.
  EXPECT_TRUE(json_nesting_within(R"(["\"[[[[", 1])", 1));
  EXPECT_FALSE(json_nesting_within(R"(["\\", [[1]]])", 2));
  EXPECT_TRUE(json_nesting_within(R"(["\\", [[1]]])", 3));
  // A trailing backslash in an unterminated string must not read past the end.
  EXPECT_TRUE(json_nesting_within("[\"abc\\", 1));
}

TEST(JsonNesting, StrayClosersDoNotBuyExtraDepth) {
  // Depth never goes below zero, so "]]]]" cannot pay for later nesting.
  EXPECT_FALSE(json_nesting_within(std::string(100, ']') + nested(33), 32));
  EXPECT_TRUE(json_nesting_within(std::string(100, '}') + nested(32), 32));
}

TEST(JsonNesting, HugeDepthIsRefusedQuickly) {
  EXPECT_FALSE(json_nesting_within(std::string(10u << 20, '['), 256));
  EXPECT_TRUE(json_nesting_within(nested(256), 256));
}

}  // namespace
}  // namespace autoglm
