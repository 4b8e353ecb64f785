// Our renderer against Hugging Face transformers' apply_chat_template, byte for byte
// (tests/data/chat_templates/expected.json, made by scripts/gen_chat_template_fixtures.py).
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/chat_template/chat_template.h"

namespace autoglm {
namespace {

using ojson = nlohmann::ordered_json;

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const ojson& expected() {
  static const ojson j = [] {
    const std::string text = read_file(std::string(AUTOGLM_TEST_DATA) + "/chat_templates/expected.json");
    return ojson::parse(text, nullptr, /*allow_exceptions=*/false);
  }();
  return j;
}

void check_case(const ojson& c, const std::string& source) {
  SCOPED_TRACE(c["name"].get<std::string>());
  Result<std::string> r =
      apply_chat_template(source, c["messages"], c["add_generation_prompt"].get<bool>(), c["extra"]);
  if (c.contains("error")) {
    EXPECT_FALSE(r.ok()) << "reference failed with " << c["reference_error"] << " but we rendered:\n" << r.value();
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().to_string();
    }
    return;
  }
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value(), c["output"].get<std::string>());
}

TEST(ChatTemplateGolden, FixtureLoads) {
  ASSERT_FALSE(expected().is_discarded()) << "bad or missing expected.json";
  EXPECT_GE(expected()["templates"].size(), 80u);
  EXPECT_GE(expected()["features"].size(), 25u);
}

TEST(ChatTemplateGolden, RealTemplatesMatchTransformers) {
  ASSERT_FALSE(expected().is_discarded());
  size_t n = 0;
  for (const auto& c : expected()["templates"]) {
    const std::string source =
        read_file(std::string(AUTOGLM_TEST_DATA) + "/chat_templates/" + c["template"].get<std::string>());
    ASSERT_FALSE(source.empty()) << c["template"];
    check_case(c, source);
    ++n;
  }
  EXPECT_GE(n, 80u);
}

TEST(ChatTemplateGolden, FeatureTemplatesMatchTransformers) {
  ASSERT_FALSE(expected().is_discarded());
  for (const auto& c : expected()["features"]) check_case(c, c["source"].get<std::string>());
}

// Each family's template is covered, including tools for Llama 3.1 and Qwen 2.5.
TEST(ChatTemplateGolden, CoversEveryFamily) {
  ASSERT_FALSE(expected().is_discarded());
  for (const char* name : {"smollm2_chatml/", "llama3.1/tools_call_and_result", "qwen2.5/tools_call_and_result",
                           "gemma2/", "gemma3/", "phi3/", "glm4/"}) {
    bool found = false;
    for (const auto& c : expected()["templates"]) {
      found = found || (c["name"].get<std::string>().find(name) == 0 && c.contains("output"));
    }
    EXPECT_TRUE(found) << name;
  }
}

}  // namespace
}  // namespace autoglm
