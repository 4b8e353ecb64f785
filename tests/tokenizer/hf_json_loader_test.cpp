// tokenizer.json loader: hand-written WordPiece files (added-token flags, sections) and hostile
// files (every error is a Status naming the field, never a throw or a crash).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tok_test_util.h"
#include "tokenizer/hf_tokenizer_json.h"
#include "tokenizer/wordpiece_tokenizer.h"

namespace autoglm {
namespace {

using nlohmann::json;

json small_wordpiece() {
  return json::parse(R"({
    "version": "1.0",
    "added_tokens": [
      {"id": 0, "content": "[UNK]", "special": true, "normalized": false},
      {"id": 1, "content": "[CLS]", "special": true, "normalized": false},
      {"id": 2, "content": "[SEP]", "special": true, "normalized": false},
      {"id": 3, "content": "[MASK]", "special": true, "lstrip": true, "normalized": false},
      {"id": 9, "content": "<tool>", "special": false, "rstrip": true, "normalized": false}
    ],
    "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                   "strip_accents": null, "lowercase": true},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 2], "cls": ["[CLS]", 1]},
    "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
              "max_input_chars_per_word": 9,
              "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[MASK]": 3, "un": 4, "##aff": 5, "##able": 6,
                        "a": 7, ",": 8, "<tool>": 9, "中": 10, "cafe": 11}}
  })");
}

Result<std::unique_ptr<Tokenizer>> load(const json& j) { return load_hf_tokenizer_json(j.dump()); }

TEST(HfJsonLoader, SmallWordPiece) {
  auto tok = load(small_wordpiece());
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  const Tokenizer& t = **tok;
  EXPECT_EQ(t.encode("UNAFFABLE", true), (std::vector<TokenId>{1, 4, 5, 6, 2}));
  EXPECT_EQ(t.encode("unaffable a", false), (std::vector<TokenId>{4, 5, 6, 7}));
  EXPECT_EQ(t.encode("unaffablea", false), (std::vector<TokenId>{0}));  // > 9 characters
  EXPECT_EQ(t.encode("Café,中a", false), (std::vector<TokenId>{11, 8, 10, 7}));
  EXPECT_EQ(t.encode("unx", false), (std::vector<TokenId>{0}));  // unmatchable rest: the whole word
  // lstrip swallows the spaces before [MASK]; rstrip those after <tool>.
  EXPECT_EQ(t.encode("a   [MASK]a", false, true), (std::vector<TokenId>{7, 3, 7}));
  EXPECT_EQ(t.encode("a<tool>   a", false), (std::vector<TokenId>{7, 9, 7}));
  EXPECT_EQ(t.decode({1, 4, 5, 6, 8, 7, 2}), "unaffable, a");
  EXPECT_EQ(t.decode({1, 4, 5, 2}, true), "[CLS] unaff [SEP]");
  EXPECT_EQ(t.vocab().tokens[4], "\xE2\x96\x81un");
  EXPECT_EQ(t.vocab().tokens[5], "aff");
  EXPECT_EQ(t.vocab().types[9], TokenType::kUserDefined);
}

TEST(HfJsonLoader, TemplateProcessingAndSequences) {
  json j = small_wordpiece();
  j["post_processor"] = json::parse(R"({"type": "Sequence", "processors": [
      {"type": "ByteLevel"},
      {"type": "TemplateProcessing",
       "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                  {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
       "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [1], "tokens": ["[CLS]"]},
                          "[SEP]": {"id": "[SEP]", "ids": [2], "tokens": ["[SEP]"]}}}]})");
  j["normalizer"] = json::parse(R"({"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "Lowercase"},
                                    {"type": "StripAccents"}]})");
  j["decoder"] = nullptr;
  auto tok = load(j);
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  EXPECT_EQ((*tok)->encode("CAFÉ", true), (std::vector<TokenId>{1, 11, 2, 2}));
  EXPECT_EQ((*tok)->decode({4, 5, 6}), "un ##aff ##able");  // no decoder: tokens joined as they are
}

TEST(HfJsonLoader, Truncation) {
  json j = small_wordpiece();
  j["truncation"] = json::parse(R"({"max_length": 4, "strategy": "LongestFirst", "stride": 0})");
  auto tok = load(j);
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  EXPECT_EQ((*tok)->encode("a a a a a", true), (std::vector<TokenId>{1, 7, 7, 2}));
}

// Each mutation of a valid file, and the field its error must name.
TEST(HfJsonLoader, BadFieldsAreNamed) {
  struct Bad {
    const char* pointer;
    json value;
    const char* field;
  };
  const std::vector<Bad> cases = {
      {"/model", json(), "model"},
      {"/model/vocab", json::array(), "model.vocab"},
      {"/model/vocab", json::object(), "model.vocab"},
      {"/model/vocab/un", json("x"), "model.vocab.un"},
      {"/model/vocab/un", json(-1), "model.vocab.un"},
      {"/model/vocab/un", json(1.5), "model.vocab.un"},
      {"/model/vocab/un", json(7), "model.vocab.un"},            // repeats id 7 of "a"
      {"/model/vocab/un", json(4000000000u), "model.vocab.un"},  // beyond int32
      {"/model/vocab/un", json(100000000), "model.vocab"},       // far beyond the vocabulary
      {"/model/unk_token", json(), "model.unk_token"},
      {"/model/unk_token", json("<nope>"), "model.unk_token"},
      {"/model/continuing_subword_prefix", json(3), "model.continuing_subword_prefix"},
      {"/model/max_input_chars_per_word", json(-3), "model.max_input_chars_per_word"},
      {"/added_tokens", json("x"), "added_tokens"},
      {"/added_tokens/0", json(7), "added_tokens[0]"},
      {"/added_tokens/0/id", json("0"), "added_tokens[0].id"},
      {"/added_tokens/1/content", json(), "added_tokens[1].content"},
      {"/added_tokens/1/special", json("yes"), "added_tokens[1].special"},
      {"/normalizer", json(5), "normalizer"},
      {"/normalizer/lowercase", json("no"), "normalizer.lowercase"},
      {"/normalizer/type", json(), "normalizer.type"},
      {"/pre_tokenizer", json::array(), "pre_tokenizer"},
      {"/post_processor/cls", json("[CLS]"), "post_processor.cls"},
      {"/post_processor/cls/1", json(99), "post_processor"},
      {"/decoder/prefix", json(1), "decoder.prefix"},
      {"/truncation", json(3), "truncation"},
  };
  for (const Bad& b : cases) {
    json j = small_wordpiece();
    if (b.value.is_null() && std::string(b.pointer) != "/normalizer/type") {
      j[json::json_pointer(b.pointer).parent_pointer()].erase(json::json_pointer(b.pointer).back());
    } else {
      j[json::json_pointer(b.pointer)] = b.value;
    }
    auto tok = load(j);
    ASSERT_FALSE(tok.ok()) << b.pointer;
    EXPECT_EQ(tok.status().code(), StatusCode::kCorruptFile) << b.pointer << ": " << tok.status().to_string();
    EXPECT_NE(tok.status().message().find(std::string("'") + b.field + "'"), std::string::npos)
        << b.pointer << ": " << tok.status().message();
  }
}

TEST(HfJsonLoader, UnsupportedSectionsSayWhat) {
  json j = small_wordpiece();
  j["normalizer"] = json::parse(R"({"type": "Replace", "pattern": {"Regex": "a|b"}, "content": ""})");
  auto tok = load(j);
  ASSERT_FALSE(tok.ok());
  EXPECT_EQ(tok.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(tok.status().message().find("a|b"), std::string::npos);
  j = small_wordpiece();
  j["model"]["type"] = "Mystery";
  tok = load(j);
  ASSERT_FALSE(tok.ok());
  EXPECT_EQ(tok.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(tok.status().message().find("Mystery"), std::string::npos);
}

TEST(HfJsonLoader, NotJsonOrTooDeep) {
  for (const std::string& text : {std::string(""), std::string("{"), std::string("[1, 2"), std::string("nul"),
                                   std::string("\xFF\xFE{}"), std::string("{\"model\": {\"vocab\": {\"a\": 1e999}}}"),
                                   std::string("42"), std::string("[]"), std::string("{}"),
                                   std::string(100000, '[') + std::string(100000, ']'),
                                   std::string("{\"model\":") + std::string(300, '{')}) {
    auto tok = load_hf_tokenizer_json(text);
    ASSERT_FALSE(tok.ok()) << text.substr(0, 40);
    EXPECT_EQ(tok.status().code(), StatusCode::kCorruptFile) << tok.status().to_string();
  }
}

// BPE files go to the byte-level BPE builder (hf_bpe.cpp, tested in bpe_hf_test.cpp).
TEST(HfJsonLoader, DispatchesBpe) {
  auto tok = load_hf_tokenizer(test::shared_model("smollm2-135m-instruct/tokenizer.json"));
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  EXPECT_EQ((*tok)->n_vocab(), 49152u);
  EXPECT_EQ((*tok)->decode((*tok)->encode("Hello world", false)), "Hello world");
}

TEST(HfJsonLoader, MissingFile) {
  auto tok = load_hf_tokenizer("/nonexistent/tokenizer.json");
  ASSERT_FALSE(tok.ok());
  EXPECT_EQ(tok.status().code(), StatusCode::kIOError);
}

// Invalid UTF-8, lone surrogates (as CESU/WTF-8 bytes), NUL, and 1 MB inputs give ids, not crashes.
TEST(HfJsonLoader, HostileText) {
  auto loaded = load_hf_tokenizer(test::shared_model("all-MiniLM-L6-v2/tokenizer.json"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
  auto* tok = dynamic_cast<WordPieceTokenizer*>(loaded->get());
  ASSERT_NE(tok, nullptr);
  tok->set_truncation(0);
  EXPECT_EQ(tok->encode("\xFF\xFE", true), (std::vector<TokenId>{101, 102}));  // U+FFFD: dropped by clean_text
  // Bad bytes read as U+FFFD, which clean_text drops (HF never sees them: Python refuses to encode them).
  const std::vector<TokenId> az = tok->encode("az", false);
  EXPECT_EQ(tok->encode("a\xED\xA0\x80z", false), az);  // lone surrogate
  EXPECT_EQ(tok->encode("a\xC0\xAFz", false), az);      // overlong '/'
  EXPECT_EQ(tok->encode(std::string("a\0z", 3), false), az);
  EXPECT_EQ(tok->encode("hello\xE4\xB8", false), (std::vector<TokenId>{7592}));  // truncated character
  std::string big;
  while (big.size() < (1u << 20)) big += "Hello, world! 你好 caf\xC3\xA9 \xF0\x9F\x98\x80 \xFF ";
  const std::vector<TokenId> ids = tok->encode(big, true);
  EXPECT_GT(ids.size(), 100000u);
  EXPECT_EQ(tok->decode(ids).rfind("hello, world! ", 0), 0u);
  const std::vector<TokenId> one_word = tok->encode(std::string(1 << 20, 'a'), false);
  EXPECT_EQ(one_word, (std::vector<TokenId>{100}));
  const std::vector<TokenId> junk = tok->encode(std::string(1 << 20, '\xFF'), true);
  EXPECT_EQ(junk, (std::vector<TokenId>{101, 102}));
  std::string cjk;
  while (cjk.size() < (1u << 20)) cjk += "\xE4\xB8\xAD";
  EXPECT_EQ(tok->encode(cjk, false).size(), cjk.size() / 3);
  tok->set_truncation(512);
  EXPECT_EQ(tok->encode(big, true).size(), 512u);
}

}  // namespace
}  // namespace autoglm
