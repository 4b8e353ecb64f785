// Every GGUF fixture in ../shared/models opens, with the facts other layers rely on.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "formats/gguf.h"

namespace autoglm::gguf {
namespace {

namespace fs = std::filesystem;
const std::string kModels = AUTOGLM_SHARED_MODELS;

Result<std::unique_ptr<File>> open_fixture(const std::string& rel) { return File::open(kModels + "/" + rel); }

TEST(GgufModels, Stories260K) {
  auto r = open_fixture("stories260K/stories260K.gguf");
  if (!r.ok() && r.status().code() == StatusCode::kNotFound) GTEST_SKIP() << "fixture missing";
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const File& f = **r;
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.metadata().size(), 19u);
  EXPECT_EQ(f.tensors().size(), 48u);
  EXPECT_EQ(f.data_offset(), 14176u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_int("llama.embedding_length"), 64);
  EXPECT_EQ(f.get_int("llama.block_count"), 5);
  EXPECT_EQ(f.get_int("llama.attention.head_count"), 8);
  EXPECT_EQ(f.get_int("llama.attention.head_count_kv"), 4);
  EXPECT_NEAR(*f.get_float("llama.attention.layer_norm_rms_epsilon"), 1e-5, 1e-9);
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "llama");
  ASSERT_NE(f.get_string_array("tokenizer.ggml.tokens"), nullptr);
  EXPECT_EQ(f.get_string_array("tokenizer.ggml.tokens")->size(), 512u);
  EXPECT_EQ(f.get_float_array("tokenizer.ggml.scores")->size(), 512u);
  EXPECT_EQ(f.get_int_array("tokenizer.ggml.token_type")->size(), 512u);
  EXPECT_EQ(f.get_int("tokenizer.ggml.bos_token_id"), 1);

  const TensorInfo* emb = f.find_tensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->type, DType::F32);
  EXPECT_EQ(emb->ne, (std::vector<int64_t>{64, 512}));
  EXPECT_EQ(emb->shape(), (std::vector<int64_t>{512, 64}));
  EXPECT_EQ(emb->nbytes, 512u * 64u * 4u);
  Tensor v = f.tensor_view(*emb);
  EXPECT_EQ(v.shape(), (std::vector<int64_t>{512, 64}));
  EXPECT_EQ(v.data(), static_cast<const void*>(emb->data));

  // The last tensor ends exactly at the end of the file.
  uint64_t end = 0;
  for (const TensorInfo& t : f.tensors()) end = std::max(end, t.offset + t.nbytes);
  EXPECT_EQ(f.data_offset() + end, f.file_size());
  ASSERT_NE(f.find_tensor("blk.0.attn_k.weight"), nullptr);
  EXPECT_EQ(f.find_tensor("blk.0.attn_k.weight")->shape(), (std::vector<int64_t>{32, 64}));
}

struct VocabFact {
  const char* file;
  const char* model;
  size_t n_tokens;
};

TEST(GgufModels, EveryVocabularyOpens) {
  const VocabFact facts[] = {
      {"ggml-vocab-baichuan.gguf", "llama", 64000},     {"ggml-vocab-bert-bge.gguf", "bert", 30522},
      {"ggml-vocab-deepseek-coder.gguf", "gpt2", 32256}, {"ggml-vocab-deepseek-llm.gguf", "gpt2", 102400},
      {"ggml-vocab-falcon.gguf", "gpt2", 65024},        {"ggml-vocab-gpt-2.gguf", "gpt2", 50257},
      {"ggml-vocab-gpt-neox.gguf", "gpt2", 50432},      {"ggml-vocab-llama-spm.gguf", "llama", 32000},
      {"ggml-vocab-mpt.gguf", "gpt2", 50432},           {"ggml-vocab-phi-3.gguf", "llama", 32064},
      {"ggml-vocab-refact.gguf", "gpt2", 49216},        {"ggml-vocab-starcoder.gguf", "gpt2", 49152},
  };
  const fs::path dir = fs::path(kModels) / "ggml-vocab";
  if (!fs::exists(dir)) GTEST_SKIP() << "fixtures missing";
  size_t seen = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".gguf") continue;
    ++seen;
    auto r = File::open(entry.path().string());
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    const File& f = **r;
    EXPECT_EQ(f.version(), 3u) << entry.path();
    EXPECT_TRUE(f.tensors().empty()) << entry.path();
    EXPECT_TRUE(f.get_string("general.architecture").has_value()) << entry.path();
    for (const auto& kv : f.metadata()) EXPECT_FALSE(kv.second.to_display_string().empty());
    for (const VocabFact& fact : facts) {
      if (entry.path().filename() != fact.file) continue;
      EXPECT_EQ(f.get_string("tokenizer.ggml.model"), fact.model) << fact.file;
      ASSERT_NE(f.get_string_array("tokenizer.ggml.tokens"), nullptr) << fact.file;
      EXPECT_EQ(f.get_string_array("tokenizer.ggml.tokens")->size(), fact.n_tokens) << fact.file;
    }
  }
  EXPECT_EQ(seen, std::size(facts));
}

TEST(GgufModels, LlamaSpmVocabulary) {
  auto r = open_fixture("ggml-vocab/ggml-vocab-llama-spm.gguf");
  if (!r.ok() && r.status().code() == StatusCode::kNotFound) GTEST_SKIP() << "fixture missing";
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const File& f = **r;
  const auto* toks = f.get_string_array("tokenizer.ggml.tokens");
  ASSERT_NE(toks, nullptr);
  ASSERT_EQ(toks->size(), 32000u);
  EXPECT_EQ((*toks)[0], "<unk>");
  EXPECT_EQ((*toks)[1], "<s>");
  EXPECT_EQ((*toks)[2], "</s>");
  EXPECT_EQ(f.get_float_array("tokenizer.ggml.scores")->size(), 32000u);
  EXPECT_EQ(f.find("tokenizer.ggml.tokens")->to_display_string(3), "[\"<unk>\", \"<s>\", \"</s>\", ... (32000 items)]");
}

TEST(GgufModels, OpenErrors) {
  auto r = File::open("/nonexistent/model.gguf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("/nonexistent/model.gguf"), std::string::npos);
  r = File::open("/tmp");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIOError);
  const std::string empty = (fs::temp_directory_path() / ("autoglm_empty_test_" + std::to_string(::getpid()) + ".gguf")).string();
  std::ofstream(empty).close();
  r = File::open(empty);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruptFile);
  fs::remove(empty);
}

}  // namespace
}  // namespace autoglm::gguf
