// Hostile and malformed templates: every one is a clear Status (with line and column for
// syntax errors), quickly, never a crash, hang or runaway allocation (run under ASan/UBSan).
#include <chrono>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/chat_template/chat_template.h"

namespace autoglm {
namespace {

using json = nlohmann::json;

// Parses and renders with an empty message list; returns the first error (or OK).
Status run(const std::string& source, ChatTemplate::Limits limits = {}, std::string* out = nullptr) {
  Result<ChatTemplate> t = ChatTemplate::parse(source, limits);
  if (!t.ok()) return t.status();
  Result<std::string> r = t->render(json{{"messages", json::array()}});
  if (!r.ok()) return r.status();
  if (out) *out = r.value();
  return Status::OK();
}

void expect_error(const std::string& source, StatusCode code, const std::string& fragment,
                  ChatTemplate::Limits limits = {}) {
  const auto start = std::chrono::steady_clock::now();
  Status s = run(source, limits);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_FALSE(s.ok()) << source.substr(0, 80);
  EXPECT_EQ(s.code(), code) << s.to_string();
  EXPECT_NE(s.message().find(fragment), std::string::npos) << "'" << fragment << "' not in: " << s.to_string();
  EXPECT_LT(secs, 20.0) << "took too long: " << source.substr(0, 80);
}

TEST(ChatTemplateHostile, SyntaxErrorsNameLineAndColumn) {
  expect_error("{{ x ", StatusCode::kInvalidArgument, "line 1, column 1: unclosed expression");
  expect_error("ab\n{% if x %}", StatusCode::kInvalidArgument, "missing '{% endif %}'");
  expect_error("{% for x in %}{% endfor %}", StatusCode::kInvalidArgument, "line 1, column 13: expected an expression");
  expect_error("{# never closed", StatusCode::kInvalidArgument, "unclosed comment");
  expect_error("{{ 'abc }}", StatusCode::kInvalidArgument, "unterminated string");
  expect_error("{% endif %}", StatusCode::kInvalidArgument, "unknown or unexpected tag 'endif'");
  expect_error("{% frobnicate %}", StatusCode::kInvalidArgument, "unknown or unexpected tag 'frobnicate'");
  expect_error("x\n  {{ (1 + ]) }}", StatusCode::kInvalidArgument, "line 2");
  expect_error("{{ 1 ? 2 }}", StatusCode::kInvalidArgument, "unexpected character '?'");
  expect_error("{% if %}{% endif %}", StatusCode::kInvalidArgument, "expected an expression");
  expect_error("{% set = 1 %}", StatusCode::kInvalidArgument, "expected a variable name");
  expect_error("{{ x[] }}", StatusCode::kInvalidArgument, "empty subscript");
  expect_error("{{ '\\x4' }}", StatusCode::kInvalidArgument, "bad \\x escape");
  expect_error("{% for x in xs recursive %}{% endfor %}", StatusCode::kInvalidArgument, "recursive");
}

TEST(ChatTemplateHostile, RuntimeErrors) {
  expect_error("{{ x | no_such_filter }}", StatusCode::kInvalidArgument, "line 1, column 6: unknown filter 'no_such_filter'");
  expect_error("{{ x is no_such_test }}", StatusCode::kInvalidArgument, "unknown test 'no_such_test'");
  expect_error("{{ raise_exception('nope: ' ~ 3) }}", StatusCode::kInvalidArgument, "nope: 3");
  expect_error("{{ 1 / 0 }}", StatusCode::kInvalidArgument, "division by zero");
  expect_error("{{ 1 // 0 }}", StatusCode::kInvalidArgument, "division or modulo by zero");
  expect_error("{{ undefined_thing.attr }}", StatusCode::kInvalidArgument, "'undefined_thing' is undefined");
  expect_error("{{ 'a' + 1 }}", StatusCode::kInvalidArgument, "unsupported operand");
  expect_error("{{ x() }}", StatusCode::kInvalidArgument, "'x' is undefined");
  expect_error("{{ 'abc'.nosuch() }}", StatusCode::kInvalidArgument, "no method 'nosuch'");
  expect_error("{% set xs = [1] %}{{ xs.append(2) }}", StatusCode::kInvalidArgument, "immutable");
  expect_error("{% set d = {} %}{% set d.x = 1 %}", StatusCode::kInvalidArgument, "only namespace()");
  expect_error("{{ 9223372036854775807 + 1 }}", StatusCode::kOutOfRange, "integer overflow");
  expect_error("{{ [1][::0] }}", StatusCode::kInvalidArgument, "slice step cannot be zero");
  expect_error("{% for x in 5 %}{% endfor %}", StatusCode::kInvalidArgument, "cannot iterate");
  expect_error("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", StatusCode::kInvalidArgument, "takes 1 arguments");
}

TEST(ChatTemplateHostile, HugeRangeIsRefusedUpFront) {
  expect_error("{% for i in range(1000000000000) %}x{% endfor %}", StatusCode::kOutOfRange, "step limit");
  expect_error("{% for i in range(-9223372036854775807, 9223372036854775807) %}{% endfor %}",
               StatusCode::kOutOfRange, "step limit");
}

TEST(ChatTemplateHostile, NestedLoopsHitTheStepLimit) {
  expect_error("{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}{% endfor %}"
               "{% endfor %}{% endfor %}",
               StatusCode::kOutOfRange, "steps");
}

TEST(ChatTemplateHostile, InfiniteMacroRecursionHitsTheDepthLimit) {
  expect_error("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", StatusCode::kOutOfRange, "recursion limit");
  // Mutual recursion too.
  expect_error("{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}",
               StatusCode::kOutOfRange, "recursion limit");
}

TEST(ChatTemplateHostile, ExponentialMacroFanOutHitsTheStepLimit) {
  expect_error("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}",
               StatusCode::kOutOfRange, "steps");
}

TEST(ChatTemplateHostile, TenMegabyteOutputIsRefused) {
  expect_error("{% for i in range(10240) %}{{ 'x' * 1024 }}{% endfor %}", StatusCode::kOutOfRange, "exceed");
  expect_error("{{ 'x' * 10485760 }}", StatusCode::kOutOfRange, "exceed");
  expect_error("{% set s = namespace(v='xx') %}{% for i in range(40) %}{% set s.v = s.v ~ s.v %}{% endfor %}",
               StatusCode::kOutOfRange, "exceed");
  expect_error("{{ ('x' * 100000) | replace('x', 'y' * 1000) }}", StatusCode::kOutOfRange, "exceed");
  expect_error("{{ [1] * 100000000000 }}", StatusCode::kOutOfRange, "");
}

TEST(ChatTemplateHostile, DeepNestingIsRefused) {
  expect_error("{{ " + std::string(200, '(') + "1" + std::string(200, ')') + " }}", StatusCode::kOutOfRange,
               "nesting deeper than");
  expect_error("{{ " + std::string(100000, '(') + "1", StatusCode::kInvalidArgument, "brackets nested too deeply");
  std::string ifs;
  for (int i = 0; i < 5000; ++i) ifs += "{% if true %}";
  expect_error(ifs, StatusCode::kOutOfRange, "nesting deeper than");
  std::string nots;
  for (int i = 0; i < 100000; ++i) nots += "not ";
  expect_error("{{ " + nots + "1 }}", StatusCode::kOutOfRange, "nesting deeper than");
  std::string negs(100000, '-');
  expect_error("{{ " + negs + "1 }}", StatusCode::kOutOfRange, "nesting deeper than");
  std::string brackets(100000, '[');
  expect_error("{{ " + brackets, StatusCode::kInvalidArgument, "");
}

TEST(ChatTemplateHostile, LimitsAreConfigurable) {
  ChatTemplate::Limits tight;
  tight.max_steps = 100;
  expect_error("{% for i in range(50) %}{{ i }}{% endfor %}", StatusCode::kOutOfRange, "100 steps", tight);
  tight = {};
  tight.max_output_bytes = 10;
  expect_error("{{ 'abcdefghijk' }}", StatusCode::kOutOfRange, "10 bytes", tight);
  tight = {};
  tight.max_call_depth = 3;
  expect_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", StatusCode::kOutOfRange, "limit of 3",
               tight);
  tight = {};
  tight.max_source_bytes = 4;
  expect_error("hello", StatusCode::kOutOfRange, "source", tight);
  // Within limits the same templates render.
  std::string out;
  ASSERT_TRUE(run("{% for i in range(50) %}{{ i }}{% endfor %}", {}, &out).ok());
  EXPECT_EQ(out.size(), 90u);
}

TEST(ChatTemplateHostile, GarbageBytesNeverCrash) {
  // A deterministic pseudo-random walk over template-ish fragments and raw bytes.
  const char* pieces[] = {"{{", "}}", "{%", "%}", "{#", "#}", "-", "+", "if ", "for ", "in ", "endif", "endfor",
                          "x", "'", "\"", "(", ")", "[", "]", "{", "}", "|", ".", ":", ",", "1", "\n", " ",
                          "\xff", "\xc3", "set ", "=", "macro ", "loop", "range(9)", "not ", "is ", "~", "*"};
  uint64_t state = 0x9E3779B97F4A7C15ull;
  for (int round = 0; round < 3000; ++round) {
    std::string src;
    const int n = 1 + static_cast<int>(state % 40);
    for (int i = 0; i < n; ++i) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      src += pieces[state % (sizeof(pieces) / sizeof(pieces[0]))];
    }
    (void)run(src);  // any result is fine; ASan/UBSan watch for crashes
  }
  SUCCEED();
}

TEST(ChatTemplateHostile, BadContextIsAnError) {
  Result<ChatTemplate> t = ChatTemplate::parse("{{ x }}");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->render(json::array()).ok());
  EXPECT_FALSE(apply_chat_template("{{ x }}", json::object(), true).ok());
  EXPECT_FALSE(apply_chat_template("{{ x }}", json::array(), true, json::array()).ok());
}

}  // namespace
}  // namespace autoglm
