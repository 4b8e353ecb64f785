// all-MiniLM-L6-v2's tokenizer.json against Hugging Face tokenizers 0.23 on 560 strings
// (scripts/gen_hf_wordpiece_fixtures.py): ids with [CLS]/[SEP], and HF's decode of them.
#include <gtest/gtest.h>

#include <chrono>

#include "fixture_util.h"
#include "tokenizer/hf_tokenizer_json.h"
#include "tokenizer/wordpiece_tokenizer.h"

namespace autoglm {
namespace {

std::unique_ptr<Tokenizer> load_minilm() {
  auto tok = load_hf_tokenizer(test::shared_model("all-MiniLM-L6-v2/tokenizer.json"));
  if (!tok.ok()) {
    ADD_FAILURE() << tok.status().to_string();
    return nullptr;
  }
  return std::move(tok).value();
}

struct Case {
  std::string text;
  std::vector<TokenId> ids;
  std::string decoded;
};

std::vector<Case> read_cases(const std::string& name) {
  std::string data;
  EXPECT_TRUE(test::read_file(std::string(AUTOGLM_TEST_DATA) + "/" + name, &data)) << name;
  std::vector<Case> cases;
  for (const std::string& line : test::split(data, '\n')) {
    if (line.empty()) continue;
    const std::vector<std::string> f = test::split(line, '\t');
    EXPECT_EQ(f.size(), 3u) << line;
    if (f.size() != 3) continue;
    cases.push_back({test::from_hex(f[0]), test::parse_ids(f[1]), test::from_hex(f[2])});
  }
  return cases;
}

TEST(HfJsonMiniLm, MatchesHuggingFaceTokenizers) {
  std::unique_ptr<Tokenizer> tok = load_minilm();
  ASSERT_NE(tok, nullptr);
  auto* wp = dynamic_cast<WordPieceTokenizer*>(tok.get());
  ASSERT_NE(wp, nullptr);
  EXPECT_EQ(wp->truncation(), 128u);  // from the file, as HF's Tokenizer.from_file applies it
  wp->set_truncation(0);              // the fixture was made with truncation off
  const std::vector<Case> cases = read_cases("hf_tokenizer_minilm.tsv");
  ASSERT_GE(cases.size(), 500u);
  int id_mismatches = 0, text_mismatches = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    // HF matches added tokens everywhere: the fixture is compared with special parsing on.
    const std::vector<TokenId> got = tok->encode(c.text, true, true);
    if (got != c.ids) {
      ++id_mismatches;
      ADD_FAILURE() << "line " << i << " '" << c.text << "'\n got  " << test::pieces(*tok, got) << "\n want "
                    << test::pieces(*tok, c.ids);
    }
    const std::string text = tok->decode(c.ids);
    if (text != c.decoded) {
      ++text_mismatches;
      ADD_FAILURE() << "line " << i << " decode '" << text << "' want '" << c.decoded << "'";
    }
  }
  EXPECT_EQ(id_mismatches, 0);
  EXPECT_EQ(text_mismatches, 0);
}

// WordPiece is lossy (case, accents, spacing around punctuation); where HF's own round trip gives
// the text back, ours must too.
TEST(HfJsonMiniLm, RoundTripWhereLossless) {
  std::unique_ptr<Tokenizer> tok = load_minilm();
  ASSERT_NE(tok, nullptr);
  dynamic_cast<WordPieceTokenizer&>(*tok).set_truncation(0);
  int lossless = 0;
  for (const Case& c : read_cases("hf_tokenizer_minilm.tsv")) {
    if (c.decoded != c.text) continue;
    ++lossless;
    EXPECT_EQ(tok->decode(tok->encode(c.text, true)), c.text);
  }
  EXPECT_GE(lossless, 10);
}

TEST(HfJsonMiniLm, TruncationFromTheFile) {
  std::unique_ptr<Tokenizer> tok = load_minilm();
  ASSERT_NE(tok, nullptr);
  const std::vector<Case> cases = read_cases("hf_tokenizer_minilm_trunc.tsv");
  ASSERT_GE(cases.size(), 5u);
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::vector<TokenId> got = tok->encode(cases[i].text, true, true);
    EXPECT_EQ(got, cases[i].ids) << "line " << i;
    EXPECT_LE(got.size(), 128u);
    EXPECT_EQ(tok->decode(cases[i].ids), cases[i].decoded) << "line " << i;
  }
}

TEST(HfJsonMiniLm, VocabularyAndSpecials) {
  std::unique_ptr<Tokenizer> tok = load_minilm();
  ASSERT_NE(tok, nullptr);
  const Vocab& v = tok->vocab();
  EXPECT_EQ(v.model, "bert");
  EXPECT_EQ(v.size(), 30522u);
  EXPECT_EQ(v.bos, 101);
  EXPECT_EQ(v.eos, 102);
  EXPECT_EQ(v.unk, 100);
  EXPECT_EQ(v.pad, 0);
  // llama.cpp's GGUF spelling: word-initial pieces marked, continuation pieces bare.
  EXPECT_EQ(v.tokens[7592], "\xE2\x96\x81hello");
  EXPECT_EQ(v.tokens[2100], "y");  // "##y"
  EXPECT_EQ(v.tokens[101], "[CLS]");
  EXPECT_EQ(v.types[101], TokenType::kControl);
  // User text keeps special-token texts as text unless parse_special.
  EXPECT_EQ(tok->encode("[SEP]", false, true), (std::vector<TokenId>{102}));
  EXPECT_EQ(tok->encode("[SEP]", false, false), (std::vector<TokenId>{1031, 19802, 1033}));
  EXPECT_EQ(tok->decode({101, 7592, 102}, true), "[CLS] hello [SEP]");
}

// The same vocabulary through GGUF (bert-bge is bert-base-uncased's vocabulary) and through
// tokenizer.json gives the same ids.
TEST(HfJsonMiniLm, AgreesWithGgufBertVocabulary) {
  std::unique_ptr<Tokenizer> hf = load_minilm();
  ASSERT_NE(hf, nullptr);
  auto file = gguf::File::open(test::shared_model("ggml-vocab/ggml-vocab-bert-bge.gguf"));
  ASSERT_TRUE(file.ok());
  auto gg = make_tokenizer(**file);
  ASSERT_TRUE(gg.ok()) << gg.status().to_string();
  for (const Case& c : read_cases("hf_tokenizer_minilm.tsv")) {
    EXPECT_EQ((*gg)->encode(c.text, true), hf->encode(c.text, true)) << c.text;
  }
}

}  // namespace
}  // namespace autoglm
