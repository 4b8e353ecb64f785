// Sandboxed renderer for the Jinja2 subset that model chat templates use, with the settings
// Hugging Face transformers renders them under (trim_blocks, lstrip_blocks, its tojson,
// raise_exception). Parse and render errors are Status values with the template line and column
// (InvalidArgument; OutOfRange for a sandbox limit); hostile templates never crash the process.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "autoglm/status.h"
#include "tokenizer/chat_template/limits.h"

namespace autoglm {

namespace tmpl {
struct Program;
}

class ChatTemplate {
 public:
  using Limits = tmpl::Limits;

  static Result<ChatTemplate> parse(std::string_view source, Limits limits = {});

  // Renders with the context's top-level keys as variables. Prefer the ordered_json overload when
  // dict key order matters (tojson of tools): nlohmann::json sorts keys.
  Result<std::string> render(const nlohmann::json& context) const;
  Result<std::string> render(const nlohmann::ordered_json& context) const;

  const Limits& limits() const;

 private:
  explicit ChatTemplate(std::shared_ptr<const tmpl::Program> p) : program_(std::move(p)) {}
  std::shared_ptr<const tmpl::Program> program_;
};

// The context transformers' apply_chat_template builds: messages, add_generation_prompt, tools
// (null when not given), every key of `extra` (bos_token, eos_token, date_string, ...).
Result<std::string> apply_chat_template(std::string_view source, const nlohmann::json& messages,
                                        bool add_generation_prompt, const nlohmann::json& extra = {});
Result<std::string> apply_chat_template(std::string_view source, const nlohmann::ordered_json& messages,
                                        bool add_generation_prompt, const nlohmann::ordered_json& extra);

// Built-in fallback templates for models without one: "chatml", "llama3", "gemma", "phi3", "glm4".
// Returns nullptr for an unknown name.
const char* builtin_chat_template(std::string_view name);
// Names of the built-in templates, comma separated (for messages).
const char* builtin_chat_template_names();

}  // namespace autoglm
