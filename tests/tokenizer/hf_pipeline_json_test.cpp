// tokenizer.json files for the HF pipeline (Unigram, WordLevel, Llama-2-style BPE): small
// hand-written files whose ids are worked out by hand from HF's rules, and hostile files
// (every error a Status naming the field, never a throw or a crash; also under ASan/UBSan).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tok_test_util.h"
#include "tokenizer/hf_tokenizer_json.h"

namespace autoglm {
namespace {

using nlohmann::json;

Result<std::unique_ptr<Tokenizer>> load(const json& j) { return load_hf_tokenizer_json(j.dump()); }

// A Llama-2-style BPE: "▁" 3, "a" 4, "b" 5, "ab" 6, "▁ab" 7, bytes <0x61> 8 <0xC3> 9 <0xA9> 10.
json small_bpe() {
  return json::parse(R"({
    "added_tokens": [{"id": 0, "content": "<unk>", "special": true}, {"id": 1, "content": "<s>", "special": true},
                     {"id": 11, "content": "<m>", "special": true, "lstrip": true, "rstrip": true}],
    "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
                   {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
    "pre_tokenizer": null,
    "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {"<s>": {"id": "<s>", "ids": [1]}}},
    "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
                {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
    "model": {"type": "BPE", "dropout": null, "unk_token": "<unk>", "fuse_unk": true, "byte_fallback": true,
              "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "\u2581": 3, "a": 4, "b": 5, "ab": 6, "\u2581ab": 7,
                        "<0x61>": 8, "<0xC3>": 9, "<0xA9>": 10},
              "merges": ["a b", "\u2581 ab"]}
  })");
}

json small_unigram() {
  return json::parse(R"({
    "added_tokens": [{"id": 0, "content": "<unk>", "special": true}],
    "normalizer": {"type": "Sequence", "normalizers": [{"type": "Nmt"}, {"type": "NFKC"}]},
    "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": true},
    "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": true},
    "model": {"type": "Unigram", "unk_id": 0, "byte_fallback": false,
              "vocab": [["<unk>", 0.0], ["\u2581", -2.0], ["a", -3.0], ["b", -3.0], ["ab", -4.0], ["\u2581a", -2.5],
                        ["\u2581ab", -7.0]]}
  })");
}

TEST(HfPipelineJson, SmallBpeByHand) {
  auto tok = load(small_bpe());
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  const Tokenizer& t = **tok;
  // "ab" -> "▁ab": a+b (rank 0) then ▁+ab (rank 1).
  EXPECT_EQ(t.encode("ab", false), (std::vector<TokenId>{7}));
  EXPECT_EQ(t.encode("ab", true), (std::vector<TokenId>{1, 7}));
  // "é" is not a token: its bytes C3 A9; "z" has no byte token: unk, two fused into one.
  EXPECT_EQ(t.encode("a\xC3\xA9zz", false), (std::vector<TokenId>{3, 4, 9, 10, 0}));
  // <m> swallows the spaces around it; the fragment after it gets its own "▁".
  EXPECT_EQ(t.encode("ab  <m>  b", false, true), (std::vector<TokenId>{7, 11, 3, 5}));
  EXPECT_EQ(t.decode({7, 4, 9, 10}), "aba\xC3\xA9");
  EXPECT_EQ(t.decode({1, 7}, true), "<s> ab");
  EXPECT_EQ(t.decode({8}), "a");
}

TEST(HfPipelineJson, SmallUnigramByHand) {
  auto tok = load(small_unigram());
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  const Tokenizer& t = **tok;
  // "▁ab": ▁a + b = -5.5 beats ▁ + ab = -6 and ▁ab = -7.
  EXPECT_EQ(t.encode("ab", false), (std::vector<TokenId>{5, 3}));
  // " b" -> "▁b" (already starts with "▁": nothing prepended): ▁ + b. "zz": two unks fused
  // (unk score: min - 10 = -17).
  EXPECT_EQ(t.encode(" b", false), (std::vector<TokenId>{1, 3}));
  EXPECT_EQ(t.encode("zz", false), (std::vector<TokenId>{1, 0}));
  EXPECT_EQ(t.decode({5, 3, 1, 2}), "ab a");
}

TEST(HfPipelineJson, WordLevelByHand) {
  json j = json::parse(R"({
    "pre_tokenizer": {"type": "WhitespaceSplit"}, "decoder": null,
    "model": {"type": "WordLevel", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "hello": 1, "world": 2}}
  })");
  auto tok = load(j);
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  EXPECT_EQ((*tok)->encode(" hello\tthere  world ", false), (std::vector<TokenId>{1, 0, 2}));
  EXPECT_EQ((*tok)->decode({1, 0, 2}), "hello [UNK] world");
}

struct Bad {
  const char* patch;
  const char* field;  // named in the message ("" for Unsupported without one)
  StatusCode code;
};

TEST(HfPipelineJson, HostileFilesAreClearErrors) {
  const Bad bpe_bad[] = {
      {R"([{"op": "replace", "path": "/model/vocab", "value": {}}])", "model.vocab", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/model/vocab", "value": []}])", "model.vocab", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/model/vocab/a", "value": 4000000000}])", "model.vocab.a", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/model/vocab/a", "value": 99999999}])", "model.vocab", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/model/vocab/a", "value": -4}])", "model.vocab.a", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/model/vocab/a", "value": 5}])", "model.vocab.b", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/model/vocab/a", "value": "4"}])", "model.vocab.a", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/model/byte_fallback", "value": "yes"}])", "model.byte_fallback", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/model/dropout", "value": 0.1}])", "", StatusCode::kUnsupported},
      {R"([{"op": "replace", "path": "/model/unk_token", "value": 3}])", "model.unk_token", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/model/merges", "value": ["a"]}])", "model.merges[0]", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/model/merges", "value": {}}])", "model.merges", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/added_tokens/2/id", "value": 1000000000}])", "model.vocab", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/added_tokens/2/lstrip", "value": 1}])", "added_tokens[2].lstrip", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/normalizer/normalizers/1/pattern", "value": {"Regex": " +"}}])", "",
       StatusCode::kUnsupported},
      {R"([{"op": "replace", "path": "/normalizer/normalizers/0", "value": {"type": "Precompiled"}}])",
       "normalizer.normalizers[0].precompiled_charsmap", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/normalizer/normalizers/0", "value": {"type": "Precompiled", "precompiled_charsmap": "AAAAAA=="}}])",
       "normalizer.normalizers[0].precompiled_charsmap", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/normalizer/normalizers/0/prepend", "value": null}])",
       "normalizer.normalizers[0].prepend", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/pre_tokenizer", "value": {"type": "Metaspace", "prepend_scheme": "often"}}])",
       "pre_tokenizer.prepend_scheme", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/pre_tokenizer", "value": {"type": "Metaspace", "replacement": 7}}])",
       "pre_tokenizer.replacement", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/pre_tokenizer", "value": {"type": "Whitespace"}}])", "", StatusCode::kUnsupported},
      {R"([{"op": "replace", "path": "/pre_tokenizer", "value": 5}])", "pre_tokenizer", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/decoder/decoders/3/start", "value": 2}])", "", StatusCode::kUnsupported},
      {R"([{"op": "replace", "path": "/decoder/decoders/3/start", "value": -1}])", "decoder.decoders[3].start",
       StatusCode::kCorruptFile},
      {R"([{"op": "remove", "path": "/decoder/decoders/2"}])", "", StatusCode::kUnsupported},
      {R"([{"op": "replace", "path": "/decoder/decoders", "value": [7]}])", "decoder.decoders[0]", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/decoder", "value": {"type": "CTC"}}])", "", StatusCode::kUnsupported},
      {R"([{"op": "replace", "path": "/post_processor/special_tokens/<s>/ids/0", "value": 77}])", "post_processor",
       StatusCode::kCorruptFile},
      {R"([{"op": "add", "path": "/truncation", "value": {"max_length": 4}}])", "", StatusCode::kUnsupported},
  };
  for (const Bad& b : bpe_bad) {
    auto tok = load(small_bpe().patch(json::parse(b.patch)));
    ASSERT_FALSE(tok.ok()) << b.patch;
    EXPECT_EQ(tok.status().code(), b.code) << b.patch << ": " << tok.status().to_string();
    if (*b.field != '\0') {
      EXPECT_NE(tok.status().message().find(std::string("'") + b.field + "'"), std::string::npos)
          << b.patch << ": " << tok.status().message();
    }
  }
  const Bad unigram_bad[] = {
      {R"([{"op": "replace", "path": "/model/vocab", "value": []}])", "model.vocab", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/model/vocab", "value": {"a": 1}}])", "model.vocab", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/model/vocab/2", "value": ["a"]}])", "model.vocab[2]", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/model/vocab/2", "value": [3, 1.0]}])", "model.vocab[2]", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/model/vocab/2/1", "value": "high"}])", "model.vocab[2][1]", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/model/unk_id", "value": 7}])", "model.unk_id", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/model/unk_id", "value": -1}])", "model.unk_id", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/model/unk_id", "value": 1e300}])", "model.unk_id", StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/decoder/prepend_scheme", "value": "never"}])", "", StatusCode::kUnsupported},
      {R"([{"op": "replace", "path": "/added_tokens/0/id", "value": 4294967295}])", "added_tokens[0].id",
       StatusCode::kCorruptFile},
      {R"([{"op": "replace", "path": "/model/type", "value": "Unigramm"}])", "", StatusCode::kUnsupported},
  };
  for (const Bad& b : unigram_bad) {
    auto tok = load(small_unigram().patch(json::parse(b.patch)));
    ASSERT_FALSE(tok.ok()) << b.patch;
    EXPECT_EQ(tok.status().code(), b.code) << b.patch << ": " << tok.status().to_string();
    if (*b.field != '\0') {
      EXPECT_NE(tok.status().message().find(std::string("'") + b.field + "'"), std::string::npos)
          << b.patch << ": " << tok.status().message();
    }
  }
}

// A Unigram without unk: text no piece covers is dropped (HF refuses to encode it).
TEST(HfPipelineJson, UnigramWithoutUnk) {
  json j = small_unigram();
  j["model"]["unk_id"] = nullptr;
  auto tok = load(j);
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  EXPECT_EQ((*tok)->encode("azb", false), (std::vector<TokenId>{5, 3}));
  EXPECT_EQ((*tok)->encode("zz", false), (std::vector<TokenId>{1}));
  EXPECT_TRUE((*tok)->encode(std::string(100000, 'z'), false).size() <= 1);
}

}  // namespace
}  // namespace autoglm
