// The Precompiled normalizer (SentencePiece's precompiled_charsmap): SentencePiece Unigram models
// trained with nmt_nfkc / nmt_nfkc_cf and converted by transformers (scripts/gen_hf_precompiled_fixtures.py,
// committed) against Hugging Face tokenizers, and hostile charsmap blobs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>
#include <random>

#include "hf_fixture_cases.h"
#include "tokenizer/base64.h"
#include "tokenizer/hf_json_fields.h"
#include "tokenizer/hf_tokenizer_json.h"
#include "tokenizer/precompiled_charsmap.h"

namespace autoglm {
namespace {

using nlohmann::json;
using text::PrecompiledCharsmap;

const std::string kDir = std::string(AUTOGLM_TEST_DATA) + "/hf_trained";

std::string data(const std::string& path) {
  std::string text;
  EXPECT_TRUE(test::read_file(path, &text)) << path;
  return text;
}

const Tokenizer* load_once(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  if (auto it = cache.find(name); it != cache.end()) return it->second.get();
  auto tok = load_hf_tokenizer(kDir + "/" + name + ".json");
  EXPECT_TRUE(tok.ok()) << name << ": " << tok.status().to_string();
  return (cache[name] = tok.ok() ? std::move(tok).value() : nullptr).get();
}

// The decoded precompiled_charsmap blob of a committed file.
std::string charsmap_blob(const std::string& name) {
  const json doc = json::parse(data(kDir + "/" + name + ".json"));
  for (const json& n : doc["normalizer"]["normalizers"]) {
    if (n["type"] == "Precompiled") {
      std::optional<std::string> blob = text::base64_decode(n["precompiled_charsmap"].get<std::string>());
      EXPECT_TRUE(blob.has_value());
      return blob.value_or("");
    }
  }
  ADD_FAILURE() << name << " has no Precompiled normalizer";
  return "";
}

TEST(HfPrecompiled, MatchesHuggingFace) {
  std::map<std::string, int> counts;
  test::check_hf_cases(data(std::string(AUTOGLM_TEST_DATA) + "/hf_tokenizer_precompiled.tsv"),
                       [](const std::string& name) { return load_once(name); }, &counts);
  EXPECT_GE(counts["t5_nfkc"], 600);
  EXPECT_GE(counts["albert_cf"], 600);
  EXPECT_GE(counts["albert_lower"], 300);
}

// HF's rules on the nmt_nfkc_cf table: a short grapheme cluster goes whole to its shortest prefix
// rule (the accent after the full-width A is dropped; CR LF is one space), a long one goes
// character by character.
TEST(HfPrecompiled, GraphemeRules) {
  auto m = PrecompiledCharsmap::from_bytes(charsmap_blob("albert_cf"), "albert_cf");
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(m->transform("\xEF\xBC\xA1"), "a");                    // U+FF21 -> a (case folded)
  EXPECT_EQ(m->transform("\xEF\xAC\x81"), "fi");                   // U+FB01 ligature
  EXPECT_EQ(m->transform("abc"), std::nullopt);
  EXPECT_EQ(m->normalize("\xEF\xBC\xA1\xCC\x81"), "a");              // U+FF21 U+0301, 5 bytes
  EXPECT_EQ(m->normalize("x\r\ny"), "x y");
  EXPECT_EQ(m->normalize("\xE2\x91\xA0\xCC\x88\xCC\x88"), "1\xCC\x88\xCC\x88");  // 7 bytes: per character
  EXPECT_EQ(m->normalize("Hello"), "hello");
  EXPECT_EQ(m->normalize(""), "");
}

// A one-key trie: "a" -> strings[value]; root offset 256, "a"'s unit offset 1.
std::string one_key_blob(uint32_t value, const std::string& strings, uint32_t root = 256u << 10) {
  std::vector<uint32_t> units(512, 0);
  units[0] = root;
  units[256 ^ 'a'] = 'a' | (1u << 8) | (1u << 10);
  units[(256 ^ 'a') ^ 1] = value;
  std::string blob;
  auto put = [&blob](uint32_t v) {
    for (int k = 0; k < 4; ++k) blob.push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
  };
  put(static_cast<uint32_t>(units.size() * 4));
  for (uint32_t u : units) put(u);
  return blob + strings;
}

TEST(HfPrecompiled, HandBuiltTrie) {
  auto m = PrecompiledCharsmap::from_bytes(one_key_blob(3, std::string("xx\0by\0", 6)), "t");
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(m->transform("a"), "by");
  EXPECT_EQ(m->transform("ab"), "by");  // a prefix rule
  EXPECT_EQ(m->transform("b"), std::nullopt);
  EXPECT_EQ(m->normalize("bab\xC3\xA9" "a"), "bbyb\xC3\xA9" "by");
  // The value at the very end: "" (HF's empty slice); past the end or inside a character: no rule.
  EXPECT_EQ(PrecompiledCharsmap::from_bytes(one_key_blob(6, std::string("xx\0by\0", 6)), "t")->transform("a"), "");
  EXPECT_EQ(PrecompiledCharsmap::from_bytes(one_key_blob(7, std::string("xx\0by\0", 6)), "t")->transform("a"),
            std::nullopt);
  EXPECT_EQ(PrecompiledCharsmap::from_bytes(one_key_blob(0x7FFFFFFF, "x"), "t")->transform("a"), std::nullopt);
  EXPECT_EQ(PrecompiledCharsmap::from_bytes(one_key_blob(1, "\xC3\xA9"), "t")->transform("a"), std::nullopt);
  EXPECT_EQ(PrecompiledCharsmap::from_bytes(one_key_blob(0, "\xC3\xA9"), "t")->transform("a"), "\xC3\xA9");
  // Offsets that leave the array, with and without the shifted-offset bit.
  for (uint32_t root : {0xFFFFFC00u, 0xFFFFFE00u, 600u << 10}) {
    auto bad = PrecompiledCharsmap::from_bytes(one_key_blob(0, "x", root), "t");
    ASSERT_TRUE(bad.ok());
    EXPECT_EQ(bad->transform("a"), std::nullopt);
    EXPECT_EQ(bad->normalize("abc\xF0\x9F\x98\x80"), "abc\xF0\x9F\x98\x80");
  }
}

TEST(HfPrecompiled, CorruptBlobsAreClearErrors) {
  const std::string good = one_key_blob(0, std::string("b\0", 2));
  const std::string trie_size_huge = std::string("\xFF\xFF\xFF\xFF", 4) + good.substr(4);
  const std::string trie_size_zero = std::string(4, '\0') + "ab";
  const std::string bad_utf8 = one_key_blob(0, "\xC3(");
  const std::string surrogate = one_key_blob(0, "\xED\xA0\x80");
  for (const std::string& blob : {std::string(), std::string("\x04\x00", 2), trie_size_huge, trie_size_zero, bad_utf8,
                                  surrogate, good.substr(0, good.size() - 4)}) {
    auto m = PrecompiledCharsmap::from_bytes(blob, "normalizer.precompiled_charsmap");
    ASSERT_FALSE(m.ok()) << blob.size();
    EXPECT_EQ(m.status().code(), StatusCode::kCorruptFile);
    EXPECT_NE(m.status().message().find("normalizer.precompiled_charsmap"), std::string::npos) << m.status().message();
  }
  // A trie size that is not a multiple of 4: the remainder belongs to the strings (as HF reads it).
  std::string odd = good;
  odd[0] = static_cast<char>(odd[0] + 1);
  EXPECT_TRUE(PrecompiledCharsmap::from_bytes(odd, "t").ok());
}

TEST(HfPrecompiled, Base64) {
  EXPECT_EQ(text::base64_decode(""), "");
  EXPECT_EQ(text::base64_decode("TWFu"), "Man");
  EXPECT_EQ(text::base64_decode("TWE="), "Ma");
  EXPECT_EQ(text::base64_decode("TQ=="), "M");
  EXPECT_EQ(text::base64_decode("+/+/"), "\xFB\xFF\xBF");
  for (const char* bad : {"TWE", "TQ=", "T===", "TR==", "TWF=", "TW u", "TW\nu", "TWFu=", "=TWF", "TW=u", "TWF\xC3"}) {
    EXPECT_EQ(text::base64_decode(bad), std::nullopt) << bad;
  }
  auto m = PrecompiledCharsmap::from_base64("AAAA!", "x.precompiled_charsmap");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kCorruptFile);
  EXPECT_NE(m.status().message().find("base64"), std::string::npos);
}

// Truncated and garbled copies of a real blob (run under ASan/UBSan): each is a clear error or a
// charsmap that normalizes any text without reading out of bounds.
TEST(HfPrecompiled, FuzzedBlobs) {
  const std::string real = charsmap_blob("t5_nfkc");
  ASSERT_GT(real.size(), 1000u);
  std::mt19937 rng(7);
  const std::string probe = "Ａｂｃ ﬁ ① e\xCC\x81 \r\n \xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\x98\x80 x\xC2\xA0y \xEF\xBD\xB6\xEF\xBE\x9E \x01";
  int ok = 0, errors = 0;
  auto check = [&](const std::string& blob) {
    auto m = PrecompiledCharsmap::from_bytes(blob, "blob");
    if (!m.ok()) {
      EXPECT_EQ(m.status().code(), StatusCode::kCorruptFile);
      ++errors;
      return;
    }
    ++ok;
    (void)m->normalize(probe);
    std::string noise(64, '\0');
    for (char& c : noise) c = static_cast<char>(rng() & 0xFF);
    (void)m->normalize(noise);
  };
  for (size_t len = 0; len < 64; ++len) check(real.substr(0, len));
  for (int i = 0; i < 60; ++i) check(real.substr(0, rng() % real.size()));
  const size_t trie_end = 4 + (static_cast<uint8_t>(real[0]) | static_cast<uint8_t>(real[1]) << 8 |
                                static_cast<uint8_t>(real[2]) << 16 | static_cast<size_t>(static_cast<uint8_t>(real[3])) << 24);
  ASSERT_LT(trie_end, real.size());
  for (int i = 0; i < 120; ++i) {
    std::string g = real;
    const int flips = 1 + static_cast<int>(rng() % 64);
    // Mostly inside the trie (a flip among the strings is usually invalid UTF-8: an error).
    for (int k = 0; k < flips; ++k) g[rng() % (k % 8 == 7 ? g.size() : trie_end)] = static_cast<char>(rng() & 0xFF);
    if (i % 4 == 0) g[rng() % 4] = static_cast<char>(rng() & 0xFF);  // the trie size itself
    check(g);
  }
  for (int i = 0; i < 40; ++i) {  // whole units at random: offsets and values anywhere
    std::string g = real;
    for (size_t at = 4; at + 4 <= 4 + 4 * 2048 && at + 4 <= g.size(); at += 4) {
      if (rng() % 8 == 0) {
        const uint32_t v = static_cast<uint32_t>(rng());
        for (int k = 0; k < 4; ++k) g[at + k] = static_cast<char>((v >> (8 * k)) & 0xFF);
      }
    }
    check(g);
  }
  EXPECT_GT(ok, 80);
  EXPECT_GT(errors, 10);
}

TEST(HfPrecompiled, JsonFields) {
  text::Normalizer n;
  Status st = hfjson::parse_normalizer(json::parse(R"({"type": "Precompiled"})"), "normalizer", &n);
  EXPECT_EQ(st.code(), StatusCode::kCorruptFile);
  EXPECT_NE(st.message().find("'normalizer.precompiled_charsmap'"), std::string::npos) << st.message();
  st = hfjson::parse_normalizer(json::parse(R"({"type": "Precompiled", "precompiled_charsmap": ""})"), "normalizer", &n);
  EXPECT_EQ(st.code(), StatusCode::kCorruptFile) << st.to_string();
  st = hfjson::parse_normalizer(json::parse(R"({"type": "Precompiled", "precompiled_charsmap": "AAA*"})"), "normalizer", &n);
  EXPECT_EQ(st.code(), StatusCode::kCorruptFile) << st.to_string();
  EXPECT_TRUE(n.empty());

  // Replace with a Regex: only a run of one literal character.
  for (const char* re : {" +", "a|b", " {0,}", " {2,3}", "\\s{2,}", ". {2,}", "{2,}", " {,}", " {x,}", " {2}"}) {
    text::Normalizer r;
    const json j = {{"type", "Replace"}, {"pattern", {{"Regex", re}}}, {"content", " "}};
    EXPECT_EQ(hfjson::parse_normalizer(j, "normalizer", &r).code(), StatusCode::kUnsupported) << re;
  }
  text::Normalizer r;
  ASSERT_TRUE(hfjson::parse_normalizer(
      json::parse(R"({"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": "\u2581"})"), "normalizer", &r).ok());
  EXPECT_EQ(r.apply("a  b c   d    "), "a\xE2\x96\x81" "b c\xE2\x96\x81" "d\xE2\x96\x81");
  text::Normalizer r3;
  ASSERT_TRUE(hfjson::parse_normalizer(
      json::parse(R"({"type": "Replace", "pattern": {"Regex": "\u00e9{3,}"}, "content": ""})"), "normalizer", &r3).ok());
  EXPECT_EQ(r3.apply("\xC3\xA9\xC3\xA9|\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9|"), "\xC3\xA9\xC3\xA9||");
}

// Invalid UTF-8, lone surrogates, NUL and 1 MB inputs through a whole Precompiled pipeline.
TEST(HfPrecompiled, HostileText) {
  for (const char* name : {"t5_nfkc", "albert_cf"}) {
    const Tokenizer* tok = load_once(name);
    ASSERT_NE(tok, nullptr);
    EXPECT_EQ(tok->encode("a\xFF" "b", false), tok->encode("a\xEF\xBF\xBD" "b", false)) << name;
    EXPECT_FALSE(tok->encode(std::string("x\0y", 3), false).empty()) << name;
    std::string big;
    while (big.size() < (1u << 20)) big += "Ｈｅｌｌｏ ﬁ \xE4\xBD\xA0\xE5\xA5\xBD e\xCC\x81\xCC\x81 \r\n\xF0\x9F\x98\x80 \xFF   x ";
    const std::vector<TokenId> ids = tok->encode(big, true, true);
    EXPECT_GT(ids.size(), 50000u) << name;
    EXPECT_FALSE(tok->decode(ids).empty()) << name;
    std::string marks = "a";
    while (marks.size() < (1u << 20)) marks += "\xCC\x81";  // one 1 MB grapheme cluster
    EXPECT_FALSE(tok->encode(marks, false).empty()) << name;
  }
}

}  // namespace
}  // namespace autoglm
