// stories260K (llama2.c's tiny TinyStories Llama): its GGUF vocabulary must encode like llama2.c's
// encoder and decode llama2.c's greedy generation to the published text.
#include <gtest/gtest.h>

#include "fixture_util.h"

namespace autoglm {
namespace {

// The few bits of golden_outputs.json the tests need, without a JSON library: the array after
// `"key": [` and the first string after `"key": "`.
std::vector<TokenId> json_int_array(const std::string& json, const std::string& key) {
  size_t p = json.find("\"" + key + "\"");
  if (p == std::string::npos) return {};
  p = json.find('[', p);
  const size_t e = json.find(']', p);
  std::string body = json.substr(p + 1, e - p - 1);
  for (char& c : body) c = c == ',' ? ' ' : c;
  return test::parse_ids(body);
}

std::string json_first_string(const std::string& json, const std::string& key) {
  size_t p = json.find("\"" + key + "\"");
  if (p == std::string::npos) return {};
  p = json.find('"', json.find(':', p)) + 1;
  std::string out;
  for (; p < json.size() && json[p] != '"'; ++p) {
    if (json[p] != '\\') {
      out.push_back(json[p]);
      continue;
    }
    const char c = json[++p];
    out.push_back(c == 'n' ? '\n' : c == 't' ? '\t' : c);  // \" \\ \/ and the two used escapes
  }
  return out;
}

class Stories260K : public ::testing::Test {
 protected:
  void SetUp() override {
    tok_ = test::stories260k();
    ASSERT_NE(tok_, nullptr);
    ASSERT_TRUE(test::read_file(test::shared_model("stories260K/golden_outputs.json"), &json_));
  }
  const Tokenizer* tok_ = nullptr;
  std::string json_;
};

TEST_F(Stories260K, Metadata) {
  const Vocab& v = tok_->vocab();
  EXPECT_EQ(v.size(), 512u);
  EXPECT_EQ(v.bos, 1);
  EXPECT_EQ(v.eos, 2);
  EXPECT_EQ(v.unk, 0);
  EXPECT_EQ(v.pad, -1);  // stored as 0xFFFFFFFF: none
  EXPECT_TRUE(v.add_bos);  // not stored: the "llama" default
  EXPECT_TRUE(v.add_space_prefix);
}

TEST_F(Stories260K, DecodesGreedyGenerationToGoldenText) {
  const std::vector<TokenId> ids = json_int_array(json_, "greedy_ids_from_bos");
  ASSERT_EQ(ids.size(), 200u);
  ASSERT_EQ(ids[0], 1);
  const std::string golden = json_first_string(json_, "expected_output");
  ASSERT_TRUE(golden.starts_with("Once upon a time, there was a little girl named Lily."));
  const std::string text = tok_->decode(ids);
  // llama2.c ran one step further than the 199 ids stored: the golden text goes on with " she".
  EXPECT_TRUE(golden.starts_with(text)) << text;
  EXPECT_EQ(golden.substr(text.size()), " she");

  StreamDecoder stream(*tok_);
  std::string streamed;
  for (TokenId id : ids) streamed += stream.push(id);
  streamed += stream.flush();
  EXPECT_EQ(streamed, text);
}

TEST_F(Stories260K, GreedyTextReencodesToSameIds) {
  // Here the model's greedy output is also the tokenizer's own segmentation of its text, so
  // encoding the decoded text gives back exactly the generated ids (BOS included).
  const std::vector<TokenId> ids = json_int_array(json_, "greedy_ids_from_bos");
  EXPECT_EQ(tok_->encode(tok_->decode(ids), true), ids);
}

// tests/tokenizer/data/stories260k_llama2c.tsv: prompts encoded by a Python port of llama2.c's
// encode() over tok512.bin (see gen_spm_golden.py), the ids after BOS.
TEST_F(Stories260K, EncodesLikeLlama2c) {
  std::string data;
  ASSERT_TRUE(test::read_file(test::tokenizer_data("stories260k_llama2c.tsv"), &data));
  int n = 0;
  for (const std::string& line : test::split(data, '\n')) {
    if (line.empty()) continue;
    const std::vector<std::string> f = test::split(line, '\t');
    ASSERT_EQ(f.size(), 2u);
    const std::string prompt = test::from_hex(f[0]);
    EXPECT_EQ(tok_->encode(prompt, false), test::parse_ids(f[1])) << "'" << prompt << "'";
    ++n;
  }
  EXPECT_EQ(n, 7);
}

TEST_F(Stories260K, ThereWasABig) {
  // llama2.c: " There was a big" -> one id per character, then the best-scoring adjacent pair is
  // merged until none is a token: ▁The re ▁was ▁a ▁big (gen_spm_golden.py's port of run.c
  // computed these ids from tok512.bin; the vocabulary has no "▁There").
  const std::vector<TokenId> ids = tok_->encode("There was a big", true);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids[0], 1);
  EXPECT_EQ(std::vector<TokenId>(ids.begin() + 1, ids.end()), (std::vector<TokenId>{291, 276, 286, 261, 370}));
  EXPECT_EQ(tok_->decode(ids), "There was a big");
}

}  // namespace
}  // namespace autoglm
