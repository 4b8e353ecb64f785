// WordPiece on llama.cpp's bert-bge vocabulary: the 46 cases of test-tokenizer-0 (ids made by
// Hugging Face tokenizers, without [CLS]/[SEP]), specials, truncation, decoding.
#include <gtest/gtest.h>

#include "fixture_util.h"
#include "tokenizer/wordpiece_tokenizer.h"

namespace autoglm {
namespace {

constexpr const char* kBge = "ggml-vocab/ggml-vocab-bert-bge.gguf";

std::unique_ptr<WordPieceTokenizer> load_bge() {
  auto file = gguf::File::open(test::shared_model(kBge));
  if (!file.ok()) {
    ADD_FAILURE() << file.status().to_string();
    return nullptr;
  }
  auto vocab = Vocab::from_gguf(**file);
  if (!vocab.ok()) {
    ADD_FAILURE() << vocab.status().to_string();
    return nullptr;
  }
  auto tok = WordPieceTokenizer::from_gguf_vocab(std::move(vocab).value());
  if (!tok.ok()) {
    ADD_FAILURE() << tok.status().to_string();
    return nullptr;
  }
  return std::move(tok).value();
}

const WordPieceTokenizer* bge() {
  static std::unique_ptr<WordPieceTokenizer> tok = load_bge();
  return tok.get();
}

TEST(WordPieceGguf, BertBgeMatchesReference) {
  const WordPieceTokenizer* tok = bge();
  ASSERT_NE(tok, nullptr);
  const test::VocabCases vc = test::read_vocab_cases(test::shared_model(std::string(kBge)));
  const std::vector<std::string>& cases = vc.texts;
  ASSERT_EQ(cases.size(), 46u);
  ASSERT_EQ(vc.ids.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::vector<TokenId>& want = vc.ids[i];
    EXPECT_EQ(tok->encode(cases[i], false), want) << "case " << i << ": '" << cases[i] << "' got "
                                                  << test::pieces(*tok, tok->encode(cases[i], false));
    std::vector<TokenId> wrapped = want;
    wrapped.insert(wrapped.begin(), 101);
    wrapped.push_back(102);
    EXPECT_EQ(tok->encode(cases[i], true), wrapped) << "case " << i;
  }
}

TEST(WordPieceGguf, MakeTokenizerPicksWordPiece) {
  const Tokenizer* tok = test::fixture_tokenizer(kBge);
  ASSERT_NE(tok, nullptr);
  EXPECT_NE(dynamic_cast<const WordPieceTokenizer*>(tok), nullptr);
  EXPECT_EQ(tok->encode("Hello world", true), (std::vector<TokenId>{101, 7592, 2088, 102}));
}

TEST(WordPieceGguf, SpecialsAndUnknown) {
  const WordPieceTokenizer* tok = bge();
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->vocab().bos, 101);
  EXPECT_EQ(tok->vocab().eos, 102);
  EXPECT_EQ(tok->vocab().unk, 100);
  // Special texts are text unless parse_special.
  EXPECT_EQ(tok->encode("[SEP]", false, true), (std::vector<TokenId>{102}));
  const std::vector<TokenId> plain = tok->encode("[SEP]", false, false);
  EXPECT_GT(plain.size(), 1u);
  EXPECT_EQ(plain.front(), 1031);  // "["
  EXPECT_EQ(tok->encode("a[MASK]b", false, true), (std::vector<TokenId>{1037, 103, 1038}));
  // A word over 100 characters is one [UNK]; 100 characters are still tokenized.
  EXPECT_EQ(tok->encode(std::string(101, 'a'), false), (std::vector<TokenId>{100}));
  EXPECT_GT(tok->encode(std::string(100, 'a'), false).size(), 1u);
  EXPECT_EQ(tok->encode("x " + std::string(300, 'b') + " y", false), (std::vector<TokenId>{1060, 100, 1061}));
}

TEST(WordPieceGguf, NormalizationRules) {
  const WordPieceTokenizer* tok = bge();
  ASSERT_NE(tok, nullptr);
  // Lower-casing, accent stripping (NFD + drop Mn), CJK ideographs as words, punctuation split.
  EXPECT_EQ(tok->encode("CAFÉ", false), tok->encode("cafe", false));
  EXPECT_EQ(tok->encode("Cafe\xCC\x81", false), tok->encode("cafe", false));  // combining acute
  EXPECT_EQ(tok->encode("我天", false), (std::vector<TokenId>{1855, 1811}));
  EXPECT_EQ(tok->encode("a.b", false), (std::vector<TokenId>{1037, 1012, 1038}));
  // Control characters vanish, every whitespace separates.
  EXPECT_EQ(tok->encode(std::string("hel\x00lo", 6), false), tok->encode("hello", false));
  EXPECT_EQ(tok->encode("hello\xE2\x80\x8Bworld", false), tok->encode("helloworld", false));  // U+200B (Cf)
  EXPECT_EQ(tok->encode("hello\xE3\x80\x80world", false), tok->encode("hello world", false));  // U+3000
}

TEST(WordPieceGguf, Truncation) {
  auto owned = load_bge();
  ASSERT_NE(owned, nullptr);
  owned->set_truncation(4);
  EXPECT_EQ(owned->encode("hello world hello world", true), (std::vector<TokenId>{101, 7592, 2088, 102}));
  EXPECT_EQ(owned->encode("hello world hello world", false), (std::vector<TokenId>{7592, 2088, 7592, 2088}));
  owned->set_truncation(1);  // no room for text: the specials stay
  EXPECT_EQ(owned->encode("hello", true), (std::vector<TokenId>{101, 102}));
  owned->set_truncation(0);
  EXPECT_EQ(owned->encode("hello world hello world", true).size(), 6u);
}

TEST(WordPieceGguf, Decode) {
  const WordPieceTokenizer* tok = bge();
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->decode(tok->encode("Hello, world! Äpfel", true)), "hello, world! apfel");
  EXPECT_EQ(tok->decode(tok->encode("Hello world", true), true), "[CLS] hello world [SEP]");
  EXPECT_EQ(tok->decode({7592, 100, 2088}), "hello world");  // [UNK] is special: skipped
  EXPECT_EQ(tok->decode({-5, 7592, 1 << 30}), "hello");
  // Streaming gives the same text.
  const std::vector<TokenId> ids = tok->encode("it's 1314151 o'clock, ok?", true);
  StreamDecoder stream(*tok);
  std::string streamed;
  for (TokenId id : ids) streamed += stream.push(id);
  streamed += stream.flush();
  EXPECT_EQ(streamed, tok->decode(ids));
}

}  // namespace
}  // namespace autoglm
