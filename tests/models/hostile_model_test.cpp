// Model files whose GGUF container is valid but whose model is not: each is a clear error.
#include <gtest/gtest.h>

#include "runtime/engine.h"
#include "test_util.h"

namespace autoglm {
namespace {

using testing::GgufEdit;
using testing::stories_path;
using testing::write_edited;

Status load_status(const std::string& path) { return Engine::load(path).status(); }

GgufEdit set_int(const std::string& key, int64_t value) {
  GgufEdit e;
  e.edit_kv = [key, value](const std::string& k, gguf::Value& v) {
    if (k == key) v = gguf::Value::of_uint(gguf::ValueType::UINT32, static_cast<uint64_t>(value));
    return true;
  };
  return e;
}

void expect_error(const Status& st, StatusCode code, const std::string& fragment) {
  EXPECT_EQ(st.code(), code) << st.to_string();
  EXPECT_NE(st.message().find(fragment), std::string::npos) << st.to_string();
}

TEST(HostileModel, UnchangedCopyLoads) {
  EXPECT_TRUE(load_status(write_edited(stories_path(), GgufEdit{}, "copy")).ok());
}

TEST(HostileModel, HeadCountNotDividingWidth) {
  expect_error(load_status(write_edited(stories_path(), set_int("llama.attention.head_count", 7), "heads7")),
               StatusCode::kCorruptFile, "does not divide the embedding size");
}

TEST(HostileModel, KvHeadsNotDividingHeads) {
  expect_error(load_status(write_edited(stories_path(), set_int("llama.attention.head_count_kv", 3), "kv3")),
               StatusCode::kCorruptFile, "does not divide the head count");
}

TEST(HostileModel, ZeroOrHugeHyperparameters) {
  expect_error(load_status(write_edited(stories_path(), set_int("llama.embedding_length", 0), "embd0")),
               StatusCode::kCorruptFile, "llama.embedding_length");
  expect_error(load_status(write_edited(stories_path(), set_int("llama.block_count", 100000), "layers")),
               StatusCode::kCorruptFile, "llama.block_count");
  expect_error(load_status(write_edited(stories_path(), set_int("llama.attention.head_count", 0), "heads0")),
               StatusCode::kCorruptFile, "llama.attention.head_count");
}

TEST(HostileModel, MoreLayersThanTensors) {
  expect_error(load_status(write_edited(stories_path(), set_int("llama.block_count", 6), "layers6")),
               StatusCode::kCorruptFile, "missing tensor 'blk.5.");
}

TEST(HostileModel, MissingTensor) {
  GgufEdit e;
  e.drop_tensors = {"blk.3.ffn_up.weight"};
  expect_error(load_status(write_edited(stories_path(), e, "missing")), StatusCode::kCorruptFile,
               "missing tensor 'blk.3.ffn_up.weight'");
}

TEST(HostileModel, WrongTensorShape) {
  GgufEdit e;
  e.edit_shape = [](const std::string& name, std::vector<int64_t>& shape) {
    if (name == "blk.1.attn_k.weight") shape = {64, 32};  // transposed
  };
  expect_error(load_status(write_edited(stories_path(), e, "shape")), StatusCode::kCorruptFile,
               "tensor 'blk.1.attn_k.weight' has shape [64, 32], expected [32, 64]");
}

TEST(HostileModel, UnknownArchitecture) {
  GgufEdit e;
  e.edit_kv = [](const std::string& k, gguf::Value& v) {
    if (k == "general.architecture") v = gguf::Value::of_string("martian");
    return true;
  };
  expect_error(load_status(write_edited(stories_path(), e, "arch")), StatusCode::kUnsupported, "martian");
}

TEST(HostileModel, MissingArchitectureAndKeys) {
  GgufEdit e;
  e.edit_kv = [](const std::string& k, gguf::Value&) { return k != "general.architecture"; };
  expect_error(load_status(write_edited(stories_path(), e, "noarch")), StatusCode::kCorruptFile, "general.architecture");
  GgufEdit e2;
  e2.edit_kv = [](const std::string& k, gguf::Value&) { return k != "llama.embedding_length"; };
  expect_error(load_status(write_edited(stories_path(), e2, "noembd")), StatusCode::kCorruptFile, "llama.embedding_length");
}

TEST(HostileModel, WrongKeyType) {
  GgufEdit e;
  e.edit_kv = [](const std::string& k, gguf::Value& v) {
    if (k == "llama.block_count") v = gguf::Value::of_string("five");
    return true;
  };
  expect_error(load_status(write_edited(stories_path(), e, "keytype")), StatusCode::kCorruptFile, "not an integer");
}

TEST(HostileModel, VocabularyMismatch) {
  GgufEdit e;
  e.edit_kv = [](const std::string& k, gguf::Value& v) {
    if (k == "tokenizer.ggml.tokens") v.arr_str.resize(500);
    if (k == "tokenizer.ggml.scores" || k == "tokenizer.ggml.token_type") v.arr.resize(500);
    return true;
  };
  expect_error(load_status(write_edited(stories_path(), e, "vocab")), StatusCode::kCorruptFile, "500 tokens");
}

TEST(HostileModel, NotAModelFile) {
  EXPECT_EQ(load_status("/nonexistent/model.gguf").code(), StatusCode::kNotFound);
  EXPECT_EQ(load_status(std::string(AUTOGLM_SHARED_MODELS) + "/stories260K/stories260K.bin").code(),
            StatusCode::kCorruptFile);
  // A vocabulary-only GGUF (no tensors) is a valid file but not a model.
  expect_error(load_status(std::string(AUTOGLM_SHARED_MODELS) + "/ggml-vocab/ggml-vocab-llama-spm.gguf"),
               StatusCode::kCorruptFile, "missing tensor");
}

}  // namespace
}  // namespace autoglm
