// StreamDecoder: streamed text == decode(), and characters split across byte tokens are held
// until complete.
#include <gtest/gtest.h>

#include <random>

#include "fixture_util.h"
#include "tokenizer/utf8.h"

namespace autoglm {
namespace {

TokenId byte_id(int b) { return static_cast<TokenId>(3 + b); }

TEST(StreamDecoder, HoldsPartialCharacters) {
  const Tokenizer* tok = test::llama_spm();
  ASSERT_NE(tok, nullptr);
  StreamDecoder s(*tok);
  EXPECT_EQ(s.push(1), "");                 // BOS
  EXPECT_EQ(s.push(15043), "Hello");        // "▁Hello": the added space is stripped
  EXPECT_EQ(s.push(byte_id(0xF0)), "");     // 🦙 = F0 9F A6 99, one byte at a time
  EXPECT_EQ(s.push(byte_id(0x9F)), "");
  EXPECT_EQ(s.push(byte_id(0xA6)), "");
  EXPECT_EQ(s.push(byte_id(0x99)), "\xF0\x9F\xA6\x99");
  EXPECT_EQ(s.push(3186), " world");
  EXPECT_EQ(s.push(byte_id(0xE4)), "");
  EXPECT_EQ(s.push(byte_id(0x41)), "\xEF\xBF\xBD" "A");  // E4 can no longer complete
  EXPECT_EQ(s.push(byte_id(0xE4)), "");
  EXPECT_EQ(s.push(byte_id(0xB8)), "");
  EXPECT_EQ(s.flush(), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(s.flush(), "");
}

TEST(StreamDecoder, InvalidBytesAreEmittedAtOnce) {
  const Tokenizer* tok = test::llama_spm();
  ASSERT_NE(tok, nullptr);
  StreamDecoder s(*tok);
  EXPECT_EQ(s.push(byte_id(0xFF)), "\xEF\xBF\xBD");
  EXPECT_EQ(s.push(byte_id(0x80)), "\xEF\xBF\xBD");
  EXPECT_EQ(s.push(byte_id(0xED)), "");
  EXPECT_EQ(s.push(byte_id(0xA0)), "\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate: ED is dead, A0 too
  EXPECT_EQ(s.push(-3), "");
  EXPECT_EQ(s.push(1 << 30), "");
}

// Random id sequences: mostly byte tokens (whole characters, fragments, junk), plus normal,
// control and unknown tokens and out-of-range ids. All push() outputs + flush() == decode().
void check_random_streams(const Tokenizer& tok, uint32_t seed, bool render_special) {
  std::mt19937 rng(seed);
  const auto n = static_cast<TokenId>(tok.n_vocab());
  const std::string chars[] = {"\xC3\xA9", "\xE4\xB8\xAD", "\xF0\x9F\xA6\x99", "\xED\x9F\xBF", "\xF4\x8F\xBF\xBF"};
  for (int iter = 0; iter < 400; ++iter) {
    std::vector<TokenId> ids;
    const int len = static_cast<int>(rng() % 40);
    for (int i = 0; i < len; ++i) {
      switch (rng() % 8) {
        case 0: case 1: {
          const std::string& c = chars[rng() % 5];
          for (char b : c) ids.push_back(byte_id(static_cast<uint8_t>(b)));
          break;
        }
        case 2: {
          const std::string& c = chars[rng() % 5];
          ids.push_back(byte_id(static_cast<uint8_t>(c[rng() % c.size()])));
          break;
        }
        case 3: ids.push_back(byte_id(static_cast<int>(rng() % 256))); break;
        case 4: ids.push_back(static_cast<TokenId>(rng() % 3)); break;  // unk, BOS, EOS
        case 5: ids.push_back(static_cast<TokenId>(rng() % static_cast<uint32_t>(n))); break;
        case 6:  // out of range on either side
          ids.push_back(rng() % 2 ? -1 - static_cast<TokenId>(rng() % 5) : n + static_cast<TokenId>(rng() % 5));
          break;
        default: ids.push_back(static_cast<TokenId>(259 + rng() % static_cast<uint32_t>(n - 259))); break;
      }
    }
    StreamDecoder s(tok, render_special);
    std::string streamed;
    for (TokenId id : ids) {
      const std::string out = s.push(id);
      EXPECT_TRUE(utf8::is_valid(out));
      streamed += out;
    }
    streamed += s.flush();
    const std::string decoded = tok.decode(ids, render_special);
    ASSERT_EQ(streamed, decoded) << "seed " << seed << " iteration " << iter;
    EXPECT_TRUE(utf8::is_valid(decoded));
  }
}

TEST(StreamDecoder, RandomSequencesMatchDecode) {
  for (const char* rel : {"ggml-vocab/ggml-vocab-llama-spm.gguf", "ggml-vocab/ggml-vocab-phi-3.gguf",
                          "stories260K/stories260K.gguf"}) {
    const Tokenizer* tok = test::fixture_tokenizer(rel);
    ASSERT_NE(tok, nullptr);
    check_random_streams(*tok, 1, false);
    check_random_streams(*tok, 2, true);
  }
}

TEST(StreamDecoder, EncodedTextStreamsBack) {
  const Tokenizer* tok = test::llama_spm();
  ASSERT_NE(tok, nullptr);
  const std::string text = " Hi 🦙! Ünïcödé 中文 ក្រុមហ៊ុន\n\tend";
  StreamDecoder s(*tok);
  std::string streamed;
  for (TokenId id : tok->encode(text, true)) streamed += s.push(id);
  streamed += s.flush();
  EXPECT_EQ(streamed, text);
}

}  // namespace
}  // namespace autoglm
