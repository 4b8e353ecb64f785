// The public surface of the renderer: parse once / render many, apply_chat_template's context,
// built-in fallback templates, and error positions.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/chat_template/chat_template.h"

namespace autoglm {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

TEST(ChatTemplateApi, ParseOnceRenderMany) {
  Result<ChatTemplate> t = ChatTemplate::parse("{% for m in messages %}[{{ m.role }}:{{ m.content }}]{% endfor %}");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  for (int i = 0; i < 3; ++i) {
    json ctx = {{"messages", json::array({{{"role", "user"}, {"content", std::to_string(i)}}})}};
    Result<std::string> r = t->render(ctx);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value(), "[user:" + std::to_string(i) + "]");
  }
}

TEST(ChatTemplateApi, ApplySetsTheTransformersContext) {
  const char* src =
      "{{ bos_token }}|{{ add_generation_prompt }}|{{ tools is none }}|{{ messages | length }}|{{ eos_token }}|"
      "{{ custom }}";
  json messages = json::array({{{"role", "user"}, {"content", "hi"}}});
  Result<std::string> r = apply_chat_template(src, messages, true, json{{"bos_token", "<s>"}, {"custom", 7}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value(), "<s>|True|True|1||7");
  r = apply_chat_template("{{ tools | length }}", messages, false, json{{"tools", json::array({1, 2})}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), "2");
}

TEST(ChatTemplateApi, OrderedJsonKeepsKeyOrderInTojson) {
  ojson ctx = ojson::parse(R"({"x": {"zeta": 1, "alpha": 2}})");
  Result<ChatTemplate> t = ChatTemplate::parse("{{ x | tojson }}");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->render(ctx).value(), "{\"zeta\": 1, \"alpha\": 2}");
  EXPECT_EQ(t->render(json::parse(R"({"x": {"zeta": 1, "alpha": 2}})")).value(), "{\"alpha\": 2, \"zeta\": 1}");
}

TEST(ChatTemplateApi, BuiltinTemplatesRender) {
  json messages = json::array({{{"role", "system"}, {"content", "S"}},
                               {{"role", "user"}, {"content", "U"}},
                               {{"role", "assistant"}, {"content", "A"}},
                               {{"role", "user"}, {"content", "V"}}});
  json user_only = json::array({{{"role", "user"}, {"content", "U"}}});
  const json extra = {{"bos_token", "<BOS>"}, {"eos_token", "<EOS>"}};
  struct Want {
    const char* name;
    const char* prefix;
    const char* gen_suffix;
  };
  for (const Want& w : {Want{"chatml", "<|im_start|>system\nS<|im_end|>\n", "<|im_start|>assistant\n"},
                        Want{"llama3", "<BOS><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|>",
                             "<|start_header_id|>assistant<|end_header_id|>\n\n"},
                        Want{"gemma", "<BOS><start_of_turn>user\nS\n\nU<end_of_turn>\n", "<start_of_turn>model\n"},
                        Want{"phi3", "<|system|>\nS<|end|>\n", "<|assistant|>\n"},
                        Want{"glm4", "[gMASK]<sop><|system|>\nS", "<|assistant|>"}}) {
    SCOPED_TRACE(w.name);
    const char* src = builtin_chat_template(w.name);
    ASSERT_NE(src, nullptr);
    Result<std::string> r = apply_chat_template(src, messages, true, extra);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r.value().rfind(w.prefix, 0), 0u) << r.value();
    EXPECT_TRUE(r.value().size() >= std::string(w.gen_suffix).size() &&
                r.value().compare(r.value().size() - std::string(w.gen_suffix).size(), std::string::npos,
                                  w.gen_suffix) == 0)
        << r.value();
    Result<std::string> nogen = apply_chat_template(src, user_only, false, extra);
    ASSERT_TRUE(nogen.ok()) << nogen.status().to_string();
    EXPECT_NE(nogen.value().find('U'), std::string::npos);
  }
  EXPECT_EQ(builtin_chat_template("nope"), nullptr);
  EXPECT_NE(std::string(builtin_chat_template_names()).find("glm4"), std::string::npos);
}

TEST(ChatTemplateApi, ErrorsCarryPositions) {
  Result<ChatTemplate> t = ChatTemplate::parse("line one\n  {{ messages[0].content | frob }}");
  ASSERT_TRUE(t.ok());
  Result<std::string> r = t->render(json{{"messages", json::array({{{"content", "x"}}})}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("line 2, column 26"), std::string::npos) << r.status().to_string();
}

}  // namespace
}  // namespace autoglm
