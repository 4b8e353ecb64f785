// llama.cpp's test-tokenizer-0 cases for the byte-level BPE vocabularies (ids made by Hugging Face
// tokenizers), plus decoding and special tokens on those vocabularies.
#include <gtest/gtest.h>

#include "fixture_util.h"
#include "tokenizer/bpe_tokenizer.h"

namespace autoglm {
namespace {

using test::fixture_tokenizer;

// The .inp file holds the cases separated by "\n__ggml_vocab_test__\n" (the last case is followed
// by one too); the .out file has one line of ids per case, without BOS.
void check_bpe_fixture(const std::string& name) {
  const Tokenizer* tok = fixture_tokenizer("ggml-vocab/" + name);
  ASSERT_NE(tok, nullptr);
  ASSERT_NE(dynamic_cast<const BpeTokenizer*>(tok), nullptr);
  const test::VocabCases vc = test::read_vocab_cases(test::shared_model("ggml-vocab/" + name));
  const std::vector<std::string>& cases = vc.texts;
  ASSERT_EQ(cases.size(), 46u);
  ASSERT_EQ(vc.ids.size(), cases.size());
  const Vocab& v = tok->vocab();
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::vector<TokenId>& want = vc.ids[i];
    const std::vector<TokenId> got = tok->encode(cases[i], false);
    EXPECT_EQ(got, want) << name << " case " << i << ": '" << cases[i] << "' got " << test::pieces(*tok, got);
    std::vector<TokenId> with_special = want;
    if (v.add_bos && v.bos >= 0) with_special.insert(with_special.begin(), v.bos);
    if (v.add_eos && v.eos >= 0) with_special.push_back(v.eos);
    EXPECT_EQ(tok->encode(cases[i], true), with_special) << name << " case " << i;
    // Byte-level BPE is lossless on well-formed text.
    EXPECT_EQ(tok->decode(want), cases[i]) << name << " case " << i;
  }
}

TEST(BpeGgmlVocab, Gpt2MatchesReference) { check_bpe_fixture("ggml-vocab-gpt-2.gguf"); }
TEST(BpeGgmlVocab, FalconMatchesReference) { check_bpe_fixture("ggml-vocab-falcon.gguf"); }
TEST(BpeGgmlVocab, DeepseekCoderMatchesReference) { check_bpe_fixture("ggml-vocab-deepseek-coder.gguf"); }
TEST(BpeGgmlVocab, DeepseekLlmMatchesReference) { check_bpe_fixture("ggml-vocab-deepseek-llm.gguf"); }
TEST(BpeGgmlVocab, MptMatchesReference) { check_bpe_fixture("ggml-vocab-mpt.gguf"); }
TEST(BpeGgmlVocab, RefactMatchesReference) { check_bpe_fixture("ggml-vocab-refact.gguf"); }
TEST(BpeGgmlVocab, StarcoderMatchesReference) { check_bpe_fixture("ggml-vocab-starcoder.gguf"); }

}  // namespace
}  // namespace autoglm
