// SPM tokenizer behaviour on small hand-made vocabularies (no model files needed).
#include <gtest/gtest.h>

#include "tok_test_util.h"
#include "tokenizer/spm_tokenizer.h"

namespace autoglm {
namespace {

using test::pieces;
using test::small_vocab;

constexpr const char* kSp = "\xE2\x96\x81";  // ▁

std::unique_ptr<Tokenizer> make(Vocab v) {
  auto r = make_tokenizer(std::move(v));
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return std::move(r).value();
}

std::string sp(const std::string& s) { return kSp + s; }

TEST(SpmBasic, MergesHighestScoreFirst) {
  // "▁abc": bc (-1) beats ab (-2) and ▁a (-3); then only ▁a can merge; "▁abc" is not a token.
  auto tok = make(small_vocab({{kSp, -10}, {"a", -10}, {"b", -10}, {"c", -10}, {"ab", -2}, {"bc", -1}, {sp("a"), -3}}));
  EXPECT_EQ(pieces(*tok, tok->encode("abc", false)), "[" + sp("a") + "][bc]");
}

TEST(SpmBasic, TiesMergeLeftmostPair) {
  Vocab v = small_vocab({{"a", -5}, {"aa", -1}});
  v.add_space_prefix = false;
  auto tok = make(std::move(v));
  EXPECT_EQ(pieces(*tok, tok->encode("aaa", false)), "[aa][a]");
  EXPECT_EQ(pieces(*tok, tok->encode("aaaa", false)), "[aa][aa]");
}

TEST(SpmBasic, MergedResultCanMergeAgain) {
  Vocab v = small_vocab({{"a", -5}, {"b", -5}, {"ab", -1}, {"abab", -2}});
  v.add_space_prefix = false;
  auto tok = make(std::move(v));
  EXPECT_EQ(pieces(*tok, tok->encode("ababa", false)), "[abab][a]");
}

TEST(SpmBasic, SpacesBecomeMarkAndPrefixIsAdded) {
  auto tok = make(small_vocab({{kSp, -1}, {"a", -1}, {"b", -1}}));
  const TokenId s = 259, a = 260, b = 261;
  EXPECT_EQ(tok->encode("a b", false), (std::vector<TokenId>{s, a, s, b}));
  EXPECT_EQ(tok->encode(" ", false), (std::vector<TokenId>{s, s}));
  EXPECT_TRUE(tok->encode("", false).empty());
  EXPECT_EQ(tok->encode("", true), (std::vector<TokenId>{1}));
}

TEST(SpmBasic, NoSpacePrefixWhenDisabled) {
  Vocab v = small_vocab({{kSp, -1}, {"a", -1}});
  v.add_space_prefix = false;
  auto tok = make(std::move(v));
  EXPECT_EQ(tok->encode("a", false), (std::vector<TokenId>{260}));
  EXPECT_EQ(tok->decode({259, 260}), " a");  // nothing to strip either
}

TEST(SpmBasic, ByteFallbackForUnknownCharacters) {
  auto tok = make(small_vocab({{kSp, -1}, {"a", -1}}));
  // é = C3 A9 -> <0xC3> <0xA9> (ids 3 + byte).
  EXPECT_EQ(tok->encode("a\xC3\xA9", false), (std::vector<TokenId>{259, 260, 3 + 0xC3, 3 + 0xA9}));
  // An ill-formed byte is its own character and falls back to its byte token.
  EXPECT_EQ(tok->encode("\xFF" "a", false), (std::vector<TokenId>{259, 3 + 0xFF, 260}));
}

TEST(SpmBasic, UnkWhenNoByteTokens) {
  Vocab v;
  v.model = "llama";
  v.tokens = {"<unk>", "<s>", "</s>", kSp, "a"};
  v.types = {TokenType::kUnknown, TokenType::kControl, TokenType::kControl, TokenType::kNormal, TokenType::kNormal};
  v.unk = 0;
  auto tok = make(std::move(v));
  // One unk per unknown character.
  EXPECT_EQ(tok->encode("a\xC3\xA9\xE4\xB8\xAD" "a", false), (std::vector<TokenId>{3, 4, 0, 0, 4}));
}

TEST(SpmBasic, BosAndEos) {
  Vocab v = small_vocab({{kSp, -1}, {"a", -1}});
  v.add_eos = true;
  auto tok = make(std::move(v));
  EXPECT_EQ(tok->encode("a", true), (std::vector<TokenId>{1, 259, 260, 2}));
  EXPECT_EQ(tok->encode("a", false), (std::vector<TokenId>{259, 260}));
}

TEST(SpmBasic, ControlTokensParsedOnlyWhenAsked) {
  auto tok = make(small_vocab({{kSp, -1}, {"a", -1}, {"<", -1}, {"s", -1}, {">", -1}, {"/", -1}}));
  const std::vector<TokenId> plain = tok->encode("<s>a", false);
  EXPECT_EQ(pieces(*tok, plain), "[" + std::string(kSp) + "][<][s][>][a]");
  // With parse_special the text after a special token gets the space prefix (llama.cpp's rule).
  EXPECT_EQ(tok->encode("<s>a</s>", false, true), (std::vector<TokenId>{1, 259, 260, 2}));
  EXPECT_EQ(tok->encode("a<s>", false, true), (std::vector<TokenId>{259, 260, 1}));
}

TEST(SpmBasic, UserDefinedTokensAlwaysMatched) {
  Vocab v = small_vocab({{kSp, -1}, {"a", -1}, {"<", -1}, {"|", -1}, {">", -1}});
  v.tokens.push_back("<|u|>");
  v.types.push_back(TokenType::kUserDefined);
  v.scores.push_back(0);
  const auto ud = static_cast<TokenId>(v.tokens.size() - 1);
  auto tok = make(std::move(v));
  EXPECT_EQ(tok->encode("a<|u|>a", false), (std::vector<TokenId>{259, 260, ud, 259, 260}));
  EXPECT_EQ(tok->token_to_piece(ud), "<|u|>");
}

TEST(SpmBasic, LongestSpecialWins) {
  Vocab v = small_vocab({{kSp, -1}, {"a", -1}});
  v.tokens.insert(v.tokens.end(), {"<|x", "<|x|>"});
  v.types.insert(v.types.end(), {TokenType::kControl, TokenType::kControl});
  v.scores.insert(v.scores.end(), {0, 0});
  auto tok = make(std::move(v));
  EXPECT_EQ(tok->encode("<|x|>", false, true), (std::vector<TokenId>{262}));
}

TEST(SpmBasic, TokenToPiece) {
  auto tok = make(small_vocab({{sp("hi"), -1}, {"x", -1}}));
  EXPECT_EQ(tok->token_to_piece(259), " hi");
  EXPECT_EQ(tok->token_to_piece(260), "x");
  EXPECT_EQ(tok->token_to_piece(3 + 'A'), "A");
  EXPECT_EQ(tok->token_to_piece(3 + 0xE4), "\xE4");
  EXPECT_EQ(tok->token_to_piece(1), "");
  EXPECT_EQ(tok->token_to_piece(1, true), "<s>");
  EXPECT_EQ(tok->token_to_piece(0), " \xE2\x81\x87 ");
  EXPECT_EQ(tok->token_to_piece(-1), "");
  EXPECT_EQ(tok->token_to_piece(100000), "");
}

TEST(SpmBasic, DecodeStripsOnlyTheAddedSpace) {
  auto tok = make(small_vocab({{sp("hi"), -1}, {sp("there"), -1}, {kSp, -1}}));
  const TokenId hi = 259, there = 260, space = 261;
  EXPECT_EQ(tok->decode({1, hi, there}), "hi there");
  EXPECT_EQ(tok->decode({hi, there}), "hi there");
  EXPECT_EQ(tok->decode({space, hi}), " hi");
  EXPECT_EQ(tok->decode({1, 1, hi}), "hi");
  EXPECT_EQ(tok->decode({hi, 1, hi}), "hi hi");
  EXPECT_EQ(tok->decode({3 + ' ', hi}), "  hi");  // a byte token first ends the window
  EXPECT_EQ(tok->decode({0, hi}), " \xE2\x81\x87  hi");
  EXPECT_EQ(tok->decode({1, hi}, true), "<s>hi");
  EXPECT_EQ(tok->decode({}), "");
}

TEST(SpmBasic, DecodeReplacesIllFormedBytes) {
  auto tok = make(small_vocab({{"A", -1}}));
  const std::string r = "\xEF\xBF\xBD";
  auto b = [](int x) { return static_cast<TokenId>(3 + x); };
  EXPECT_EQ(tok->decode({b(0xE4), b(0xB8), b(0xAD)}), "\xE4\xB8\xAD");
  EXPECT_EQ(tok->decode({b(0xE4), b(0xB8), 259}), r + r + "A");
  EXPECT_EQ(tok->decode({b(0xED), b(0xA0), b(0x80)}), r + r + r);
  EXPECT_EQ(tok->decode({b(0xC0), b(0x80)}), r + r);
  // A control token splits a byte run even though it renders as nothing.
  EXPECT_EQ(tok->decode({b(0xE4), 1, b(0xB8), b(0xAD)}), r + r + r);
}

TEST(SpmBasic, IllFormedTokenTextStillDecodesToValidUtf8) {
  Vocab v = small_vocab({{"\xFF" "ab", -1}, {"\xE4\xB8", -1}, {"\xAD", -1}});
  v.add_space_prefix = false;
  auto tok = make(std::move(v));
  const std::string r = "\xEF\xBF\xBD";
  // Each piece is sanitized on its own: E4 B8 | AD does not join into one character.
  const std::vector<TokenId> ids = {259, 260, 261};
  EXPECT_EQ(tok->decode(ids), r + "ab" + r + r + r);
  StreamDecoder s(*tok);
  std::string streamed;
  for (TokenId id : ids) streamed += s.push(id);
  EXPECT_EQ(streamed + s.flush(), tok->decode(ids));
}

TEST(SpmBasic, RejectsInconsistentVocab) {
  Vocab empty;
  empty.model = "llama";
  EXPECT_EQ(make_tokenizer(empty).status().code(), StatusCode::kInvalidArgument);
  Vocab v = small_vocab({{"a", -1}});
  v.scores.pop_back();
  EXPECT_EQ(make_tokenizer(v).status().code(), StatusCode::kInvalidArgument);
  Vocab w = small_vocab({{"a", -1}});
  w.bos = 5000;
  EXPECT_EQ(make_tokenizer(w).status().code(), StatusCode::kInvalidArgument);
  Vocab g = small_vocab({{"a", -1}});
  g.model = "rwkv";
  EXPECT_EQ(make_tokenizer(g).status().code(), StatusCode::kUnsupported);
}

TEST(SpmBasic, VocabWithoutScoresOrTypes) {
  Vocab v;
  v.model = "llama";
  v.tokens = {kSp, "a", "b", sp("a"), "ab"};
  auto tok = make(std::move(v));
  // All scores 0: leftmost merges first ("▁a"), then "▁ab" is no token.
  EXPECT_EQ(tok->encode("ab", false), (std::vector<TokenId>{3, 2}));
}

}  // namespace
}  // namespace autoglm
