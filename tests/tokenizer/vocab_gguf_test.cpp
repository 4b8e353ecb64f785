// Vocab::from_gguf on GGUF images written in-test: defaults, and CorruptFile naming the key for
// every inconsistent value.
#include <gtest/gtest.h>

#include "formats/gguf.h"
#include "tokenizer/tokenizer.h"

namespace autoglm {
namespace {

gguf::Writer base_writer() {
  gguf::Writer w;
  w.add_string("general.architecture", "llama");
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "\xE2\x96\x81" "a", "a"});
  w.add_float32_array("tokenizer.ggml.scores", {0, 0, 0, -1, -2});
  w.add_int32_array("tokenizer.ggml.token_type", {2, 3, 3, 1, 1});
  return w;
}

Result<Vocab> load(const gguf::Writer& w) {
  const std::vector<uint8_t> bytes = w.to_bytes();
  auto file = gguf::File::from_bytes(bytes.data(), bytes.size());
  if (!file.ok()) return file.status();
  return Vocab::from_gguf(**file);
}

void expect_corrupt(const gguf::Writer& w, const std::string& key) {
  Result<Vocab> v = load(w);
  ASSERT_FALSE(v.ok()) << key;
  EXPECT_EQ(v.status().code(), StatusCode::kCorruptFile) << v.status().to_string();
  EXPECT_NE(v.status().message().find(key), std::string::npos) << v.status().to_string();
}

TEST(VocabGguf, DefaultsForLlama) {
  Result<Vocab> v = load(base_writer());
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_EQ(v->model, "llama");
  EXPECT_EQ(v->pre, "");
  EXPECT_EQ(v->size(), 5u);
  EXPECT_EQ(v->scores, (std::vector<float>{0, 0, 0, -1, -2}));
  EXPECT_EQ(v->types[0], TokenType::kUnknown);
  EXPECT_EQ(v->types[3], TokenType::kNormal);
  EXPECT_EQ(v->unk, 0);
  EXPECT_EQ(v->bos, 1);
  EXPECT_EQ(v->eos, 2);
  EXPECT_EQ(v->pad, -1);
  EXPECT_TRUE(v->add_bos);
  EXPECT_FALSE(v->add_eos);
  EXPECT_TRUE(v->add_space_prefix);
  auto tok = make_tokenizer(std::move(v).value());
  ASSERT_TRUE(tok.ok());
  EXPECT_EQ((*tok)->encode("a", true), (std::vector<TokenId>{1, 3}));
}

TEST(VocabGguf, ExplicitValues) {
  gguf::Writer w = base_writer();
  w.add_string("tokenizer.ggml.pre", "default");
  w.add_uint32("tokenizer.ggml.bos_token_id", 2);
  w.add_uint32("tokenizer.ggml.eos_token_id", 1);
  w.add_int32("tokenizer.ggml.padding_token_id", -1);
  w.add_uint32("tokenizer.ggml.unknown_token_id", 0xFFFFFFFFu);
  w.add_bool("tokenizer.ggml.add_bos_token", false);
  w.add_bool("tokenizer.ggml.add_eos_token", true);
  w.add_bool("tokenizer.ggml.add_space_prefix", false);
  Result<Vocab> v = load(w);
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_EQ(v->pre, "default");
  EXPECT_EQ(v->bos, 2);
  EXPECT_EQ(v->eos, 1);
  EXPECT_EQ(v->pad, -1);
  EXPECT_EQ(v->unk, -1);
  EXPECT_FALSE(v->add_bos);
  EXPECT_TRUE(v->add_eos);
  EXPECT_FALSE(v->add_space_prefix);
}

TEST(VocabGguf, ScoresAndTypesOptional) {
  gguf::Writer w;
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
  Result<Vocab> v = load(w);
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_TRUE(v->scores.empty());
  EXPECT_EQ(v->types, std::vector<TokenType>(4, TokenType::kNormal));
}

TEST(VocabGguf, OtherModelsDefaultToNoBosNoPrefix) {
  gguf::Writer w;
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string_array("tokenizer.ggml.tokens", {"a", "b", "c"});
  Result<Vocab> v = load(w);
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_FALSE(v->add_bos);
  EXPECT_FALSE(v->add_space_prefix);
  EXPECT_EQ(v->bos, -1);
  EXPECT_TRUE(make_tokenizer(std::move(v).value()).ok());  // byte-level BPE
}

TEST(VocabGguf, MissingTokenizer) {
  gguf::Writer w;
  w.add_string("general.architecture", "llama");
  Result<Vocab> v = load(w);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kNotFound);
}

TEST(VocabGguf, BadValuesNameTheKey) {
  {
    gguf::Writer w;
    w.add_string("tokenizer.ggml.model", "llama");
    expect_corrupt(w, "tokenizer.ggml.tokens");  // missing
  }
  {
    gguf::Writer w;
    w.add_string("tokenizer.ggml.model", "llama");
    w.add_string_array("tokenizer.ggml.tokens", {});
    expect_corrupt(w, "tokenizer.ggml.tokens");  // empty
  }
  {
    gguf::Writer w;
    w.add_string("tokenizer.ggml.model", "llama");
    w.add_int32_array("tokenizer.ggml.tokens", {1, 2});
    expect_corrupt(w, "tokenizer.ggml.tokens");  // not strings
  }
  {
    gguf::Writer w;
    w.add_uint32("tokenizer.ggml.model", 1);
    expect_corrupt(w, "tokenizer.ggml.model");
  }
  {
    gguf::Writer w = base_writer();
    w.add_uint32("tokenizer.ggml.pre", 3);
    expect_corrupt(w, "tokenizer.ggml.pre");
  }
  {
    gguf::Writer w;
    w.add_string("tokenizer.ggml.model", "llama");
    w.add_string_array("tokenizer.ggml.tokens", {"a", "b", "c"});
    w.add_float32_array("tokenizer.ggml.scores", {0, 0});
    expect_corrupt(w, "tokenizer.ggml.scores");
  }
  {
    gguf::Writer w;
    w.add_string("tokenizer.ggml.model", "llama");
    w.add_string_array("tokenizer.ggml.tokens", {"a", "b", "c"});
    w.add_string_array("tokenizer.ggml.scores", {"x", "y", "z"});
    expect_corrupt(w, "tokenizer.ggml.scores");
  }
  {
    gguf::Writer w;
    w.add_string("tokenizer.ggml.model", "llama");
    w.add_string_array("tokenizer.ggml.tokens", {"a", "b", "c"});
    w.add_int32_array("tokenizer.ggml.token_type", {1, 1});
    expect_corrupt(w, "tokenizer.ggml.token_type");
  }
  {
    gguf::Writer w;
    w.add_string("tokenizer.ggml.model", "llama");
    w.add_string_array("tokenizer.ggml.tokens", {"a", "b", "c"});
    w.add_int32_array("tokenizer.ggml.token_type", {1, 7, 1});
    expect_corrupt(w, "tokenizer.ggml.token_type");
  }
  {
    gguf::Writer w;
    w.add_string("tokenizer.ggml.model", "llama");
    w.add_string_array("tokenizer.ggml.tokens", {"a", "b", "c"});
    w.add_int32_array("tokenizer.ggml.token_type", {1, -1, 1});
    expect_corrupt(w, "tokenizer.ggml.token_type");
  }
  for (const char* key : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                          "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id"}) {
    gguf::Writer w = base_writer();
    w.add_uint32(key, 5);  // == n_vocab
    expect_corrupt(w, key);
    gguf::Writer w2 = base_writer();
    w2.add_int32(key, -2);
    expect_corrupt(w2, key);
    gguf::Writer w3 = base_writer();
    w3.add_string(key, "1");
    expect_corrupt(w3, key);
  }
  for (const char* key : {"tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token",
                          "tokenizer.ggml.add_space_prefix"}) {
    gguf::Writer w = base_writer();
    w.add_string(key, "true");
    expect_corrupt(w, key);
  }
}

}  // namespace
}  // namespace autoglm
