// llama.cpp's test-tokenizer-0 data for the SentencePiece vocabularies, and SentencePiece's own
// output on random Unicode (tests/tokenizer/gen_spm_golden.py).
#include <gtest/gtest.h>

#include "fixture_util.h"

namespace autoglm {
namespace {

using test::fixture_tokenizer;

// The .inp file holds the cases separated by "\n__ggml_vocab_test__\n" (the last case is followed
// by one too); the .out file has one line of ids per case, without BOS.
void check_vocab_fixture(const std::string& name) {
  const Tokenizer* tok = fixture_tokenizer("ggml-vocab/" + name);
  ASSERT_NE(tok, nullptr);
  const test::VocabCases vc = test::read_vocab_cases(test::shared_model("ggml-vocab/" + name));
  const std::vector<std::string>& cases = vc.texts;
  ASSERT_EQ(cases.size(), 46u);
  ASSERT_EQ(vc.ids.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::vector<TokenId>& want = vc.ids[i];
    EXPECT_EQ(tok->encode(cases[i], false), want) << name << " case " << i << ": '" << cases[i] << "'";
    std::vector<TokenId> with_bos = want;
    with_bos.insert(with_bos.begin(), tok->vocab().bos);
    EXPECT_EQ(tok->encode(cases[i], true), with_bos) << name << " case " << i;
  }
}

TEST(GgmlVocab, LlamaSpmMatchesLlamaCpp) { check_vocab_fixture("ggml-vocab-llama-spm.gguf"); }
TEST(GgmlVocab, Phi3MatchesLlamaCpp) { check_vocab_fixture("ggml-vocab-phi-3.gguf"); }

TEST(GgmlVocab, LlamaSpmMetadata) {
  const Tokenizer* tok = test::llama_spm();
  ASSERT_NE(tok, nullptr);
  const Vocab& v = tok->vocab();
  EXPECT_EQ(v.model, "llama");
  EXPECT_EQ(v.pre, "default");
  EXPECT_EQ(v.size(), 32000u);
  EXPECT_EQ(v.bos, 1);
  EXPECT_EQ(v.eos, 2);
  EXPECT_EQ(v.unk, 0);
  EXPECT_EQ(v.pad, -1);
  EXPECT_TRUE(v.add_bos);
  EXPECT_FALSE(v.add_eos);
  EXPECT_TRUE(v.add_space_prefix);
}

TEST(GgmlVocab, Phi3SpecialTokens) {
  const Tokenizer* tok = fixture_tokenizer("ggml-vocab/ggml-vocab-phi-3.gguf");
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->vocab().eos, 32000);
  EXPECT_EQ(tok->vocab().pad, 32000);
  // Control tokens are text unless parse_special.
  const std::vector<TokenId> plain = tok->encode("<|user|>", false);
  EXPECT_GT(plain.size(), 1u);
  EXPECT_EQ(tok->encode("<|user|>", false, true), (std::vector<TokenId>{32010}));
  EXPECT_EQ(tok->decode({32010, 15043}), "Hello");  // control: no text, still at the start
  EXPECT_EQ(tok->decode({32010, 15043}, true), "<|user|>Hello");
}

// Every line: hex(text) TAB ids TAB hex(SentencePiece's decode of those ids).
void check_sentencepiece_random(const std::string& rel) {
  const Tokenizer* tok = fixture_tokenizer(rel);
  ASSERT_NE(tok, nullptr);
  std::string data;
  ASSERT_TRUE(test::read_file(test::tokenizer_data("spm_llama_random.tsv"), &data));
  int n = 0;
  for (const std::string& line : test::split(data, '\n')) {
    if (line.empty()) continue;
    const std::vector<std::string> f = test::split(line, '\t');
    ASSERT_EQ(f.size(), 3u);
    const std::string text = test::from_hex(f[0]);
    const std::vector<TokenId> want = test::parse_ids(f[1]);
    EXPECT_EQ(tok->encode(text, false), want) << rel << " line " << n << ": '" << text << "'";
    EXPECT_EQ(tok->decode(want), test::from_hex(f[2])) << rel << " line " << n;
    ++n;
  }
  EXPECT_EQ(n, 300);
}

TEST(GgmlVocab, LlamaSpmMatchesSentencePieceOnRandomUnicode) {
  check_sentencepiece_random("ggml-vocab/ggml-vocab-llama-spm.gguf");
}

// Phi-3 extends Llama 2's vocabulary (same first 32000 pieces and scores, other special types).
TEST(GgmlVocab, Phi3MatchesSentencePieceOnRandomUnicode) {
  check_sentencepiece_random("ggml-vocab/ggml-vocab-phi-3.gguf");
}

// Decoding edge cases, checked against SentencePiece 0.2 with Llama 2's tokenizer.model.
TEST(GgmlVocab, DecodeMatchesSentencePiece) {
  const Tokenizer* tok = test::llama_spm();
  ASSERT_NE(tok, nullptr);
  auto b = [](int x) { return static_cast<TokenId>(3 + x); };
  const std::string r = "\xEF\xBF\xBD", unk = " \xE2\x81\x87 ";
  const TokenId the = 450, sp = 29871, sp2 = 259;
  EXPECT_EQ(tok->decode({1, 1, the}), "The");
  EXPECT_EQ(tok->decode({2, the}), "The");
  EXPECT_EQ(tok->decode({b(' '), the}), "  The");
  EXPECT_EQ(tok->decode({sp, the}), " The");
  EXPECT_EQ(tok->decode({1, sp, the}), " The");
  EXPECT_EQ(tok->decode({sp2, the}), "  The");
  EXPECT_EQ(tok->decode({the, 1, the}), "The The");
  EXPECT_EQ(tok->decode({b(0xE4), b(0xB8), 29909}), r + r + "A");
  EXPECT_EQ(tok->decode({b(0xE4), b(0xB8), b(0xAD)}), "\xE4\xB8\xAD");
  EXPECT_EQ(tok->decode({b(0xED), b(0xA0), b(0x80)}), r + r + r);
  EXPECT_EQ(tok->decode({b(0xC0), b(0x80)}), r + r);
  EXPECT_EQ(tok->decode({b(0xF4), b(0x90), b(0x80), b(0x80)}), r + r + r + r);
  EXPECT_EQ(tok->decode({b(0xE4), 1, b(0xB8), b(0xAD)}), r + r + r);
  EXPECT_EQ(tok->decode({b(0xF0), b(0x9F), b(0x98), the}), r + r + r + " The");
  EXPECT_EQ(tok->decode({0, the}), unk + " The");
  EXPECT_EQ(tok->decode({the, 0}), "The" + unk);
  EXPECT_EQ(tok->decode({b(0xE4), b(0xB8), 0, b(0xAD)}), r + r + unk + r);
}

}  // namespace
}  // namespace autoglm
