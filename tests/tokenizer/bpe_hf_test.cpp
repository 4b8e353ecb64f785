// SmolLM2's tokenizer.json against Hugging Face tokenizers (scripts/gen_hf_tokenizer_fixtures.py),
// and the pre-tokenizer matchers against the same regexes run by Hugging Face's engine.
#include <gtest/gtest.h>

#include <map>

#include <nlohmann/json.hpp>

#include "tok_test_util.h"
#include "tokenizer/bpe_tokenizer.h"

namespace autoglm {
namespace {

const Tokenizer* smollm2() {
  static std::unique_ptr<Tokenizer> tok = [] {
    std::string text;
    EXPECT_TRUE(test::read_file(test::shared_model("smollm2-135m-instruct/tokenizer.json"), &text));
    auto r = make_bpe_from_hf_json(nlohmann::json::parse(text));
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? std::move(r).value() : nullptr;
  }();
  return tok.get();
}

std::string fixture(const std::string& name) {
  std::string data;
  EXPECT_TRUE(test::read_file(std::string(AUTOGLM_TEST_DATA) + "/" + name, &data)) << name;
  return data;
}

TEST(BpeHfJson, Smollm2Metadata) {
  const Tokenizer* tok = smollm2();
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->n_vocab(), 49152u);
  EXPECT_EQ(tok->vocab().tokens[1], "<|im_start|>");
  EXPECT_EQ(tok->vocab().types[1], TokenType::kControl);
  EXPECT_FALSE(tok->vocab().add_bos);
  const auto* bpe = dynamic_cast<const BpeTokenizer*>(tok);
  ASSERT_NE(bpe, nullptr);
  EXPECT_EQ(bpe->n_merges(), 48900u);
}

// Every line: hex(text) TAB ids TAB ids with special-token texts kept as text ("=": same) TAB
// hex(decode(ids)).
TEST(BpeHfJson, Smollm2MatchesHuggingFace) {
  const Tokenizer* tok = smollm2();
  ASSERT_NE(tok, nullptr);
  int n = 0;
  for (const std::string& line : test::split(fixture("hf_tokenizer_smollm2.tsv"), '\n')) {
    if (line.empty()) continue;
    const std::vector<std::string> f = test::split(line, '\t');
    ASSERT_EQ(f.size(), 4u);
    const std::string text = test::from_hex(f[0]);
    const std::vector<TokenId> want = test::parse_ids(f[1]);
    const std::vector<TokenId> want_plain = f[2] == "=" ? want : test::parse_ids(f[2]);
    const std::vector<TokenId> got = tok->encode(text, false, true);
    EXPECT_EQ(got, want) << "line " << n << ": '" << text << "' got " << test::pieces(*tok, got);
    EXPECT_EQ(tok->encode(text, false, false), want_plain) << "line " << n << ": '" << text << "'";
    EXPECT_EQ(tok->decode(want, true), test::from_hex(f[3])) << "line " << n;
    // Lossless: the text comes back, and with special parsing off even its special-token texts.
    EXPECT_EQ(tok->decode(want_plain), text) << "line " << n;
    ++n;
  }
  EXPECT_GE(n, 500);
}

TEST(BpeHfJson, Smollm2SpecialTokens) {
  const Tokenizer* tok = smollm2();
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->encode("<|im_start|>", false, true), (std::vector<TokenId>{1}));
  EXPECT_GT(tok->encode("<|im_start|>", false, false).size(), 1u);
  EXPECT_EQ(tok->decode({1, 2}), "");
  EXPECT_EQ(tok->decode({1, 2}, true), "<|im_start|><|im_end|>");
}

PreRule rule_named(const std::string& name) {
  static const std::map<std::string, PreRule> rules = {
      {"gpt2", PreRule::kGpt2},
      {"llama3", PreRule::kLlama3},
      {"qwen2", PreRule::kQwen2},
      {"digit", PreRule::kDigit},
      {"digit_run", PreRule::kDigitRun},
      {"three_digits", PreRule::kThreeDigits},
      {"newline", PreRule::kNewline},
      {"space_letters", PreRule::kSpaceLetters},
      {"space_punct", PreRule::kSpacePunct},
      {"deepseek_cased", PreRule::kDeepseekCased},
      {"deepseek_punct", PreRule::kDeepseekPunct},
      {"trailing_space", PreRule::kTrailingSpace},
      {"deepseek_cjk", PreRule::kDeepseekCjk},
  };
  return rules.at(name);
}

// Every line: rule TAB hex(text) TAB the byte lengths of the pieces Hugging Face's Split makes.
TEST(BpePreTokenizer, MatchesHuggingFaceRegexSplits) {
  int n = 0;
  std::vector<std::string_view> pieces;
  for (const std::string& line : test::split(fixture("hf_tokenizer_pretok.tsv"), '\n')) {
    if (line.empty()) continue;
    const std::vector<std::string> f = test::split(line, '\t');
    ASSERT_EQ(f.size(), 3u);
    const std::string text = test::from_hex(f[1]);
    std::string want;
    for (const std::string& len : test::split(f[2], ',')) {
      if (!len.empty()) want += (want.empty() ? "" : ",") + len;
    }
    PreTokenizer(std::vector<PreTokenizer::Step>{{rule_named(f[0]), false}}).split(text, &pieces);
    std::string got;
    for (std::string_view p : pieces) got += (got.empty() ? "" : ",") + std::to_string(p.size());
    EXPECT_EQ(got, want) << f[0] << " line " << n << ": '" << text << "'";
    ++n;
  }
  EXPECT_GT(n, 700);
}

// The exact regex texts of tokenizer.json files map to their matchers.
TEST(BpePreTokenizer, KnownRegexes) {
  auto r = PreTokenizer::rule_for_regex(R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, PreRule::kGpt2);
  r = PreTokenizer::rule_for_regex(
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, PreRule::kLlama3);
  EXPECT_FALSE(PreTokenizer::rule_for_regex("[a-z]+").ok());
  EXPECT_FALSE(PreTokenizer::for_ggml_pre("no-such-model").ok());
  for (const char* pre : {"", "default", "gpt-2", "llama-bpe", "qwen2", "deepseek-llm", "deepseek-coder", "falcon",
                          "starcoder", "refact", "mpt", "smollm", "chatglm4", "glm4"}) {
    EXPECT_TRUE(PreTokenizer::for_ggml_pre(pre).ok()) << pre;
  }
}

}  // namespace
}  // namespace autoglm
