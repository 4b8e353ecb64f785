#include "tokenizer/chat_template/chat_template.h"

#include <unordered_map>

#include "tokenizer/chat_template/ast.h"
#include "tokenizer/chat_template/builtins.h"
#include "tokenizer/chat_template/interpreter.h"
#include "tokenizer/chat_template/lexer.h"
#include "tokenizer/chat_template/parser.h"

namespace autoglm {

namespace tmpl {
struct Program {
  Body body;
  Limits limits;
};
}  // namespace tmpl

Result<ChatTemplate> ChatTemplate::parse(std::string_view source, Limits limits) {
  if (source.size() > limits.max_source_bytes) {
    return OutOfRange("chat template: source of " + std::to_string(source.size()) + " bytes exceeds the limit of " +
                      std::to_string(limits.max_source_bytes));
  }
  AG_ASSIGN_OR_RETURN(std::vector<tmpl::Token> tokens, tmpl::lex_template(source));
  auto program = std::make_shared<tmpl::Program>();
  program->limits = limits;
  AG_ASSIGN_OR_RETURN(program->body, tmpl::parse_template(tokens, limits.max_nesting));
  return ChatTemplate(std::move(program));
}

const ChatTemplate::Limits& ChatTemplate::limits() const { return program_->limits; }

namespace {

template <typename Json>
Result<std::string> render_impl(const tmpl::Program& program, const Json& context) {
  if (!context.is_object() && !context.is_null()) return InvalidArgument("chat template context must be a JSON object");
  std::unordered_map<std::string, tmpl::Value> globals;
  tmpl::add_globals(&globals);
  if (context.is_object()) {
    for (auto it = context.begin(); it != context.end(); ++it) globals[it.key()] = tmpl::Value::from_json(it.value());
  }
  std::string out;
  tmpl::Interpreter interp(program.limits, &out);
  AG_RETURN_IF_ERROR(interp.run(program.body, std::move(globals)));
  return out;
}

template <typename Json>
Result<std::string> apply_impl(std::string_view source, const Json& messages, bool add_generation_prompt,
                               const Json& extra) {
  if (!messages.is_array()) return InvalidArgument("chat messages must be a JSON array");
  if (!extra.is_null() && !extra.is_object()) return InvalidArgument("extra template variables must be a JSON object");
  AG_ASSIGN_OR_RETURN(ChatTemplate t, ChatTemplate::parse(source));
  Json context = Json::object();
  context["messages"] = messages;
  context["tools"] = nullptr;  // transformers passes tools=None when there are none
  context["add_generation_prompt"] = add_generation_prompt;
  if (extra.is_object()) {
    for (auto it = extra.begin(); it != extra.end(); ++it) context[it.key()] = it.value();
  }
  return t.render(context);
}

}  // namespace

Result<std::string> ChatTemplate::render(const nlohmann::json& context) const {
  return render_impl(*program_, context);
}

Result<std::string> ChatTemplate::render(const nlohmann::ordered_json& context) const {
  return render_impl(*program_, context);
}

Result<std::string> apply_chat_template(std::string_view source, const nlohmann::json& messages,
                                        bool add_generation_prompt, const nlohmann::json& extra) {
  return apply_impl(source, messages, add_generation_prompt, extra);
}

Result<std::string> apply_chat_template(std::string_view source, const nlohmann::ordered_json& messages,
                                        bool add_generation_prompt, const nlohmann::ordered_json& extra) {
  return apply_impl(source, messages, add_generation_prompt, extra);
}

}  // namespace autoglm
