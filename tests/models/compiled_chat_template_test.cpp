// CompiledChatTemplate: resolved and parsed once at load (files are not read again), renders like
// render_chat_template, reports template errors as Status values, and renders from many threads.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "autoglm/chat.h"
#include "test_util.h"

namespace autoglm {
namespace {

const char* kConversation =
    R"([{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},)"
    R"({"role":"assistant","content":"Hello."},{"role":"user","content":"Bye"}])";

std::string write_text(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(CompiledChatTemplate, RendersLikeTheOneShotFunction) {
  for (const char* name : {"chatml", "llama3", "gemma", "phi3", "glm4"}) {
    auto t = CompiledChatTemplate::load("", name);
    ASSERT_TRUE(t.ok()) << name << ": " << t.status().to_string();
    for (bool gen : {true, false}) {
      auto once = render_chat_template("", name, kConversation, gen);
      auto cached = t->render(kConversation, gen);
      ASSERT_EQ(cached.ok(), once.ok()) << name;
      if (!once.ok()) {  // llama3 needs a model's bos_token: the same error either way
        EXPECT_EQ(cached.status().to_string(), once.status().to_string()) << name;
        continue;
      }
      EXPECT_EQ(*cached, *once) << name;
      EXPECT_NE(cached->find("Be brief."), std::string::npos) << name;
    }
  }
  // ChatML exactly, so that both paths cannot be wrong the same way.
  auto t = CompiledChatTemplate::load("", "chatml");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t->render(R"([{"role":"user","content":"Hi"}])", true),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(CompiledChatTemplate, TemplateFileIsReadOnlyAtLoad) {
  const std::string path = write_text("tmpl_once.jinja", "{% for m in messages %}[{{ m.content }}]{% endfor %}");
  auto t = CompiledChatTemplate::load("", path);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  write_text("tmpl_once.jinja", "changed {{ messages | length }}");
  EXPECT_EQ(*t->render(kConversation, true), "[Be brief.][Hi][Hello.][Bye]");
  std::remove(path.c_str());
  EXPECT_EQ(*t->render(R"([{"role":"user","content":"x"}])", false), "[x]");
  // The one-shot function reads the file each time, so it now fails: the cache is what kept it.
  EXPECT_FALSE(render_chat_template("", path, kConversation, true).ok());
}

TEST(CompiledChatTemplate, ModelTemplateAndSpecialTokensFromGguf) {
  testing::GgufEdit e;
  e.extra.emplace_back("tokenizer.chat_template",
                       gguf::Value::of_string("{{ bos_token }}{% for m in messages %}{{ m.role }}:{{ m.content }}|"
                                              "{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}"));
  const std::string model = testing::write_edited(testing::stories_path(), e, "with_template");
  auto t = CompiledChatTemplate::load(model, "chatml");  // the model's own template wins
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  auto expected = render_chat_template(model, "chatml", R"([{"role":"user","content":"Hi"}])", true);
  ASSERT_TRUE(expected.ok()) << expected.status().to_string();
  EXPECT_EQ(*expected, "<s>user:Hi|assistant:");
  std::remove(model.c_str());  // a server's model file may be replaced under it: rendering does not reopen it
  EXPECT_EQ(*t->render(R"([{"role":"user","content":"Hi"}])", true), *expected);
}

TEST(CompiledChatTemplate, ErrorsAreStatuses) {
  auto syntax = CompiledChatTemplate::load("", "{% for m in messages %}{{ m.content }");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.status().code(), StatusCode::kInvalidArgument);

  EXPECT_EQ(CompiledChatTemplate::load("", "no-such-template").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(CompiledChatTemplate::load("", "").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(CompiledChatTemplate::load("/nonexistent/model.gguf", "chatml").ok());

  auto t = CompiledChatTemplate::load(
      "", "{% for m in messages %}{% if m.role == 'tool' %}{{ raise_exception('tools are not supported') }}"
          "{% endif %}{{ m.content }}{% endfor %}");
  ASSERT_TRUE(t.ok());
  auto raised = t->render(R"([{"role":"tool","content":"x"}])", true);
  ASSERT_FALSE(raised.ok());
  EXPECT_EQ(raised.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(raised.status().message().find("tools are not supported"), std::string::npos);
  EXPECT_EQ(t->render("[{\"role\":", true).status().code(), StatusCode::kInvalidArgument);  // truncated JSON
  EXPECT_EQ(t->render(R"({"role":"user"})", true).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*t->render(R"([{"role":"user","content":"still fine"}])", true), "still fine");

  auto endless = CompiledChatTemplate::load("", "{% for i in range(100000000) %}x{% endfor %}");
  ASSERT_TRUE(endless.ok());
  EXPECT_EQ(endless->render("[]", true).status().code(), StatusCode::kOutOfRange);
}

TEST(CompiledChatTemplate, RendersFromManyThreadsAtOnce) {
  auto t = CompiledChatTemplate::load(
      "", "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% set parts = [] %}"
          "{{ ns.n }}{{ ([m.role] + parts) | join(',') }}={{ m.content | upper }};{% endfor %}");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  const std::string expected = *t->render(kConversation, true);
  ASSERT_EQ(expected, "1system=BE BRIEF.;2user=HI;3assistant=HELLO.;4user=BYE;");
  std::vector<std::thread> threads;
  std::vector<int> mismatches(8, 0);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 200; ++k) {
        auto r = t->render(kConversation, true);
        if (!r.ok() || *r != expected) ++mismatches[static_cast<size_t>(i)];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace autoglm
