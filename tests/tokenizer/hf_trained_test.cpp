// Unigram, WordLevel and Llama-2-style BPE tokenizer.json files against Hugging Face tokenizers:
// our own small trained files (scripts/gen_hf_trained_fixtures.py, committed) and, when
// tests/py/test_hf_llama2_tokenizer.py has rebuilt them from the real Llama 2 model, the
// converted Llama 2 files (scripts/gen_hf_llama2_fixtures.py; not committed: Llama 2 license).
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include "hf_fixture_cases.h"
#include "tokenizer/hf_tokenizer_json.h"

namespace autoglm {
namespace {

std::string data(const std::string& rel) {
  std::string text;
  EXPECT_TRUE(test::read_file(std::string(AUTOGLM_TEST_DATA) + "/" + rel, &text)) << rel;
  return text;
}

// Loads (once) `dir/name.json`; nullptr after a failure.
const Tokenizer* load_once(const std::string& dir, const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  const std::string path = dir + "/" + name + ".json";
  if (auto it = cache.find(path); it != cache.end()) return it->second.get();
  auto tok = load_hf_tokenizer(path);
  EXPECT_TRUE(tok.ok()) << tok.status().to_string();
  return (cache[path] = tok.ok() ? std::move(tok).value() : nullptr).get();
}

const std::string kTrained = std::string(AUTOGLM_TEST_DATA) + "/hf_trained";

TEST(HfTrained, MatchesHuggingFace) {
  std::map<std::string, int> counts;
  test::check_hf_cases(data("hf_tokenizer_trained.tsv"),
                       [](const std::string& name) { return load_once(kTrained, name); }, &counts);
  EXPECT_GE(counts["unigram"], 500);
  EXPECT_GE(counts["unigram_bf"], 300);
  EXPECT_GE(counts["unigram_added"], 300);
  EXPECT_GE(counts["wordlevel"], 200);
  EXPECT_GE(counts["bpe_added"], 300);  // byte-level BPE (bpe_tokenizer.h) with the same added tokens
}

TEST(HfTrained, UnigramMetadata) {
  const Tokenizer* tok = load_once(kTrained, "unigram");
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->n_vocab(), 800u);
  EXPECT_EQ(tok->vocab().unk, 0);
  EXPECT_EQ(tok->vocab().types[1], TokenType::kControl);
  EXPECT_TRUE(tok->vocab().add_bos);
  EXPECT_TRUE(tok->vocab().add_eos);
}

// Invalid UTF-8, lone surrogates, NUL and 1 MB inputs give ids (bad bytes read as U+FFFD, which
// HF would be given by Python's errors="replace"), never a crash.
TEST(HfTrained, HostileText) {
  for (const char* name : {"unigram", "unigram_bf", "unigram_added", "wordlevel"}) {
    const Tokenizer* tok = load_once(kTrained, name);
    ASSERT_NE(tok, nullptr);
    EXPECT_EQ(tok->encode("a\xFF" "b", false), tok->encode("a\xEF\xBF\xBD" "b", false)) << name;
    EXPECT_EQ(tok->encode("a\xED\xA0\x80z", false), tok->encode("a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz", false)) << name;
    EXPECT_FALSE(tok->encode(std::string("x\0y", 3), false).empty()) << name;
    std::string big;
    while (big.size() < (1u << 20)) big += "Hello, world! \xE4\xBD\xA0\xE5\xA5\xBD caf\xC3\xA9 \xF0\x9F\x98\x80 \xFF fix <mask> ";
    const std::vector<TokenId> ids = tok->encode(big, true, true);
    EXPECT_GT(ids.size(), 50000u) << name;
    EXPECT_FALSE(tok->decode(ids).empty()) << name;
    EXPECT_FALSE(tok->encode(std::string(1 << 20, 'a'), false).empty()) << name;
    if (std::string(name) != "wordlevel") {
      EXPECT_FALSE(tok->encode(std::string(1 << 20, ' '), false).empty()) << name;
    }
    std::string cjk;
    while (cjk.size() < (1u << 20)) cjk += "\xF0\x9F\xA6\x99";  // one unknown character, repeated: unks fuse
    EXPECT_FALSE(tok->encode(cjk, false).empty()) << name;
    EXPECT_EQ(tok->decode({-1, 1 << 30}), "") << name;
  }
}

// Set by tests/py/test_hf_llama2_tokenizer.py to the folder with the rebuilt Llama 2 files.
TEST(HfLlama2, MatchesHuggingFace) {
  const char* dir = std::getenv("AUTOGLM_LLAMA2_JSON_DIR");
  if (dir == nullptr || *dir == '\0') GTEST_SKIP() << "run by tests/py/test_hf_llama2_tokenizer.py (needs transformers)";
  std::map<std::string, int> counts;
  test::check_hf_cases(data("hf_tokenizer_llama2.tsv"),
                       [dir](const std::string& name) { return load_once(dir, name); }, &counts);
  EXPECT_GE(counts["always"], 500);
  for (const char* v : {"first", "prepend", "split"}) EXPECT_GE(counts[v], 300) << v;
  const Tokenizer* tok = load_once(dir, "prepend");
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->n_vocab(), 32005u);  // five new added tokens ("both" is already a piece)
  EXPECT_EQ(tok->vocab().types[13], TokenType::kByte);  // <0x0A>
}

}  // namespace
}  // namespace autoglm
