// Chat prompts: render a conversation with a model's chat template (the Jinja subset model files
// carry, rendered as Hugging Face transformers does) or with a built-in template by name.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "autoglm/status.h"

namespace autoglm {

// A chat template resolved and parsed once, for rendering many conversations (a server keeps one
// per loaded model). Rendering is const and safe from several threads at once.
class CompiledChatTemplate {
 public:
  // Arguments and errors as render_chat_template's below: the model's template (and its special
  // token texts) when it has one, else template_name_or_source. The files are read only here.
  static Result<CompiledChatTemplate> load(const std::string& model_path_or_empty,
                                           const std::string& template_name_or_source);

  // messages_json: a JSON array of {"role", "content", ...} objects (key order is kept).
  // InvalidArgument for bad JSON or a template's raise_exception, OutOfRange for a sandbox limit.
  Result<std::string> render(const std::string& messages_json, bool add_generation_prompt) const;

 private:
  struct Impl;
  explicit CompiledChatTemplate(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// One-shot form of CompiledChatTemplate::load + render.
// model_path_or_empty: a GGUF file (tokenizer.chat_template, bos/eos token texts), a Hugging Face
// folder or its tokenizer_config.json (chat_template, bos_token, eos_token), or "" for none.
// template_name_or_source: used when the model has no template (or there is no model): a built-in
// name (chatml, llama3, gemma, phi3, glm4), a path to a template file, or template text itself.
// messages_json: a JSON array of {"role", "content", ...} objects (key order is kept).
// Errors: NotFound (no template anywhere), InvalidArgument (bad JSON, template syntax or a
// template's raise_exception, with line and column), OutOfRange (a sandbox limit), file errors.
Result<std::string> render_chat_template(const std::string& model_path_or_empty,
                                         const std::string& template_name_or_source,
                                         const std::string& messages_json, bool add_generation_prompt);

}  // namespace autoglm
