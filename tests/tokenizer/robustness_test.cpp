// Hostile and large inputs, and the decode(encode(s)) round trip, on Llama 2's vocabulary.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "fixture_util.h"
#include "tokenizer/utf8.h"

namespace autoglm {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr double kMegabyteSeconds = 30.0;  // sanitizers slow everything ~10x
#else
constexpr double kMegabyteSeconds = 2.0;
#endif

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";

void expect_ids_in_range(const Tokenizer& tok, const std::vector<TokenId>& ids) {
  for (TokenId id : ids) {
    ASSERT_GE(id, 0);
    ASSERT_LT(static_cast<size_t>(id), tok.n_vocab());
  }
}

// Byte fallback keeps every input byte, and decode() turns ill-formed ones into U+FFFD, so the
// round trip gives the input's sanitized form (U+2581 in the input would come back as ' ').
void expect_round_trip(const Tokenizer& tok, const std::string& s) {
  const std::vector<TokenId> ids = tok.encode(s, true);
  expect_ids_in_range(tok, ids);
  EXPECT_EQ(tok.decode(ids), utf8::sanitize(s)) << "input of " << s.size() << " bytes";
}

TEST(TokenizerRobustness, EmptyString) {
  const Tokenizer* tok = test::llama_spm();
  ASSERT_NE(tok, nullptr);
  EXPECT_TRUE(tok->encode("", false).empty());
  EXPECT_EQ(tok->encode("", true), (std::vector<TokenId>{1}));
  EXPECT_TRUE(tok->encode("", false, true).empty());
  EXPECT_EQ(tok->decode({}), "");
}

TEST(TokenizerRobustness, InvalidUtf8) {
  const Tokenizer* tok = test::llama_spm();
  ASSERT_NE(tok, nullptr);
  for (const std::string s : {"\xFF", "\xC3", "a\xC3", "\xC3" "a", "\x80\x80\x80", "\xF8\x88\x80\x80\x80",
                              "\xC0\xAF", "\xE0\x80\xAF", "\xF4\x90\x80\x80", "abc\xE4\xB8", "\xFE\xFF text"}) {
    expect_round_trip(*tok, s);
  }
  // Each ill-formed byte is one symbol and falls back to its own byte token.
  EXPECT_EQ(tok->encode("\xFF", false), (std::vector<TokenId>{29871, 3 + 0xFF}));
}

TEST(TokenizerRobustness, LoneSurrogateBytes) {
  const Tokenizer* tok = test::llama_spm();
  ASSERT_NE(tok, nullptr);
  const std::vector<TokenId> ids = tok->encode("\xED\xA0\x80", false);
  EXPECT_EQ(ids, (std::vector<TokenId>{29871, 3 + 0xED, 3 + 0xA0, 3 + 0x80}));
  const std::string r(utf8::kReplacement);
  EXPECT_EQ(tok->decode(ids), r + r + r);
}

TEST(TokenizerRobustness, EmbeddedNuls) {
  const Tokenizer* tok = test::llama_spm();
  ASSERT_NE(tok, nullptr);
  const std::string s("a\0b\0\0c", 6);
  const std::vector<TokenId> ids = tok->encode(s, false);
  EXPECT_EQ(ids, (std::vector<TokenId>{263, 3, 29890, 3, 3, 29883}));  // SentencePiece gives the same
  EXPECT_EQ(tok->decode(ids), s);
}

TEST(TokenizerRobustness, RandomBytesRoundTrip) {
  const Tokenizer* tok = test::llama_spm();
  ASSERT_NE(tok, nullptr);
  std::mt19937 rng(7);
  for (int iter = 0; iter < 300; ++iter) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 4 == 0 ? ' ' + rng() % 95 : rng() % 256);
    for (size_t p; (p = s.find(kSpaceMark)) != std::string::npos;) s[p] = 'x';
    expect_round_trip(*tok, s);
  }
}

std::string random_utf8(std::mt19937& rng, size_t n_chars) {
  static const std::vector<std::pair<uint32_t, uint32_t>> ranges = {
      {0x20, 0x7E}, {0x20, 0x7E}, {0x20, 0x7E}, {0x09, 0x0D}, {0xA0, 0x24F}, {0x370, 0x3FF}, {0x400, 0x4FF},
      {0x590, 0x6FF}, {0x900, 0x97F}, {0x1780, 0x17FF}, {0x3040, 0x30FF}, {0x4E00, 0x9FFF}, {0xAC00, 0xD7A3},
      {0xE000, 0xF8FF}, {0xFE00, 0xFFFD}, {0x1F300, 0x1FAFF}, {0x10000, 0x10FFFF}};
  std::string s;
  for (size_t i = 0; i < n_chars; ++i) {
    const auto& [lo, hi] = ranges[rng() % ranges.size()];
    uint32_t cp = lo + rng() % (hi - lo + 1);
    if (cp == 0x2581) cp = ' ';
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return s;
}

// Every SentencePiece vocabulary among the fixtures (baichuan has no .inp/.out of its own).
TEST(TokenizerRobustness, Utf8RoundTripIsExact) {
  for (const char* rel : {"ggml-vocab/ggml-vocab-llama-spm.gguf", "ggml-vocab/ggml-vocab-phi-3.gguf",
                          "ggml-vocab/ggml-vocab-baichuan.gguf", "stories260K/stories260K.gguf"}) {
    const Tokenizer* tok = test::fixture_tokenizer(rel);
    ASSERT_NE(tok, nullptr);
    std::mt19937 rng(11);
    for (int iter = 0; iter < 300; ++iter) {
      const std::string s = random_utf8(rng, rng() % 50);
      ASSERT_TRUE(utf8::is_valid(s));
      EXPECT_EQ(tok->decode(tok->encode(s, true)), s) << rel;
      EXPECT_EQ(tok->decode(tok->encode(s, false)), s) << rel;
    }
    for (const std::string s : {" ", "  leading", "trailing  ", "\n", " \n ", "Hello, world!", "a  b   c"}) {
      EXPECT_EQ(tok->decode(tok->encode(s, true)), s) << rel;
    }
  }
}

void expect_fast(const Tokenizer& tok, const std::string& s, const char* what) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<TokenId> ids = tok.encode(s, false);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(secs, kMegabyteSeconds) << what;
  EXPECT_FALSE(ids.empty()) << what;
  EXPECT_EQ(tok.decode(ids), utf8::sanitize(s)) << what;
}

TEST(TokenizerRobustness, OneMegabyteInputs) {
  const Tokenizer* tok = test::llama_spm();
  ASSERT_NE(tok, nullptr);
  constexpr size_t kMB = 1 << 20;
  std::mt19937 rng(3);
  std::string words;
  const char* vocab[] = {"the ", "quick ", "brown ", "fox ", "jumps\n", "over ", "lazy ", "dog. ", "Once ", "upon "};
  while (words.size() < kMB) words += vocab[rng() % 10];
  expect_fast(*tok, words, "words");
  expect_fast(*tok, std::string(kMB, 'a'), "one letter");
  expect_fast(*tok, std::string(kMB, ' '), "spaces");
  std::string cjk;
  while (cjk.size() < kMB) cjk += "\xE4\xB8\xAD";
  expect_fast(*tok, cjk, "one CJK character");
  std::string bytes(kMB, '\0');
  for (char& c : bytes) c = static_cast<char>(rng() % 256);
  for (size_t p; (p = bytes.find(kSpaceMark)) != std::string::npos;) bytes[p] = 'x';
  expect_fast(*tok, bytes, "random bytes");
  expect_fast(*tok, random_utf8(rng, kMB / 3), "random UTF-8");
}

TEST(TokenizerRobustness, SpecialParsingOnLargeInput) {
  const Tokenizer* tok = test::fixture_tokenizer("ggml-vocab/ggml-vocab-phi-3.gguf");
  ASSERT_NE(tok, nullptr);
  std::string s;
  while (s.size() < (1 << 20)) s += "<|user|>hi <|end|><|assistant|><|";
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<TokenId> ids = tok->encode(s, true, true);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(secs, kMegabyteSeconds);
  expect_ids_in_range(*tok, ids);
}

// Gemma-like vocabularies carry thousands of special tokens that share a first byte; text full
// of that byte must not cost (positions x specials).
TEST(TokenizerRobustness, ManySpecialTokensSharingAFirstByte) {
  Vocab v = test::small_vocab({{"\xE2\x96\x81", -1}, {"<", -1}, {"u", -1}, {"n", -1}});
  for (int i = 0; i < 6000; ++i) {
    v.tokens.push_back("<unused" + std::to_string(i) + ">");
    v.types.push_back(i % 2 ? TokenType::kControl : TokenType::kUserDefined);
    v.scores.push_back(0);
  }
  auto tok = make_tokenizer(std::move(v));
  ASSERT_TRUE(tok.ok());
  std::string s;
  while (s.size() < (1 << 20)) s += "<<unused12><unused13><unused<un";
  for (bool parse_special : {false, true}) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<TokenId> ids = (*tok)->encode(s, false, parse_special);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(secs, kMegabyteSeconds);
    // <unused12> is user-defined (always matched), <unused13> is control (only with parse_special;
    // otherwise it is text, spelled with the pieces and bytes the vocabulary has).
    const std::vector<TokenId> got = (*tok)->encode("<unused12><unused13>", false, parse_special);
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got[0], 263 + 12);
    if (parse_special) {
      EXPECT_EQ(got, (std::vector<TokenId>{263 + 12, 263 + 13}));
    } else {
      EXPECT_EQ((*tok)->decode(got), "<unused12> <unused13>");  // the space prefix after a special token
    }
  }
}

}  // namespace
}  // namespace autoglm
