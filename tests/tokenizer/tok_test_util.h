// Helpers shared by the tokenizer tests: fixture paths, hex, id lists, small vocabularies.
#pragma once

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tokenizer/tokenizer.h"

namespace autoglm::test {

inline std::string shared_model(const std::string& rel) { return std::string(AUTOGLM_SHARED_MODELS) + "/" + rel; }
inline std::string tokenizer_data(const std::string& rel) {
  return std::string(AUTOGLM_TEST_DATA) + "/../tokenizer/data/" + rel;
}

inline bool read_file(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

inline std::string from_hex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

inline std::vector<TokenId> parse_ids(const std::string& line) {
  std::vector<TokenId> ids;
  std::istringstream ss(line);
  long v;
  while (ss >> v) ids.push_back(static_cast<TokenId>(v));
  return ids;
}

inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return parts;
}

// llama.cpp's test-tokenizer-0 data for one ggml-vocab fixture: `<base>.inp` holds the input
// texts separated by "\n__ggml_vocab_test__\n", `<base>.out` one line of expected ids per text.
// Fails the calling test (non-fatally) when the files are unreadable or do not pair up.
struct VocabCases {
  std::vector<std::string> texts;
  std::vector<std::vector<TokenId>> ids;
};
inline VocabCases read_vocab_cases(const std::string& base) {
  VocabCases c;
  std::string inp, out;
  EXPECT_TRUE(read_file(base + ".inp", &inp)) << base;
  EXPECT_TRUE(read_file(base + ".out", &out)) << base;
  const std::string sep = "\n__ggml_vocab_test__\n";
  size_t pos = 0;
  for (size_t next; (next = inp.find(sep, pos)) != std::string::npos; pos = next + sep.size()) {
    c.texts.push_back(inp.substr(pos, next - pos));
  }
  EXPECT_EQ(pos, inp.size()) << base << ": text after the last separator";
  std::vector<std::string> lines = split(out, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  EXPECT_EQ(lines.size(), c.texts.size()) << base;
  for (const std::string& l : lines) c.ids.push_back(parse_ids(l));
  return c;
}

// <unk>, <s>, </s>, the 256 byte tokens <0x00>..<0xFF> (ids 3..258), then `normal` with scores,
// as Llama-style vocabularies are laid out.
inline Vocab small_vocab(const std::vector<std::pair<std::string, float>>& normal) {
  Vocab v;
  v.model = "llama";
  v.tokens = {"<unk>", "<s>", "</s>"};
  v.types = {TokenType::kUnknown, TokenType::kControl, TokenType::kControl};
  v.scores = {0, 0, 0};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
    v.tokens.push_back(buf);
    v.types.push_back(TokenType::kByte);
    v.scores.push_back(0);
  }
  for (const auto& [text, score] : normal) {
    v.tokens.push_back(text);
    v.types.push_back(TokenType::kNormal);
    v.scores.push_back(score);
  }
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  v.add_bos = true;
  return v;
}

inline std::string pieces(const Tokenizer& tok, const std::vector<TokenId>& ids) {
  std::string s;
  for (TokenId id : ids) s += "[" + tok.vocab().tokens[static_cast<size_t>(id)] + "]";
  return s;
}

}  // namespace autoglm::test
