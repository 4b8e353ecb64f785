#include "autoglm/chat.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "formats/gguf.h"
#include "tokenizer/chat_template/chat_template.h"

namespace autoglm {
namespace {

using ojson = nlohmann::ordered_json;

constexpr uintmax_t kMaxTextFile = 16u << 20;  // tokenizer_config.json / template / messages files

Result<std::string> read_text_file(const std::string& path) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return NotFound("cannot read '" + path + "': " + ec.message());
  if (size > kMaxTextFile) return OutOfRange("'" + path + "' is larger than 16 MiB");
  std::ifstream f(path, std::ios::binary);
  if (!f) return IOError("cannot open '" + path + "'");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct ModelTemplate {
  std::string source;  // empty: the model has none
  ojson special = ojson::object();
};

// Text of a token id from the GGUF vocabulary, if the id is in range.
void add_token_text(const gguf::File& f, const char* id_key, const char* name, ojson* special) {
  const auto id = f.get_int(id_key);
  const std::vector<std::string>* tokens = f.get_string_array("tokenizer.ggml.tokens");
  if (!id || !tokens || *id < 0 || static_cast<uint64_t>(*id) >= tokens->size()) return;
  (*special)[name] = (*tokens)[static_cast<size_t>(*id)];
}

Result<ModelTemplate> from_gguf(const std::string& path) {
  AG_ASSIGN_OR_RETURN(std::unique_ptr<gguf::File> f, gguf::File::open(path));
  ModelTemplate m;
  if (auto t = f->get_string("tokenizer.chat_template")) m.source = *t;
  add_token_text(*f, "tokenizer.ggml.bos_token_id", "bos_token", &m.special);
  add_token_text(*f, "tokenizer.ggml.eos_token_id", "eos_token", &m.special);
  add_token_text(*f, "tokenizer.ggml.unknown_token_id", "unk_token", &m.special);
  add_token_text(*f, "tokenizer.ggml.padding_token_id", "pad_token", &m.special);
  return m;
}

Result<ModelTemplate> from_tokenizer_config(const std::string& path) {
  AG_ASSIGN_OR_RETURN(std::string text, read_text_file(path));
  const ojson cfg = ojson::parse(text, nullptr, /*allow_exceptions=*/false);
  if (cfg.is_discarded() || !cfg.is_object()) return CorruptFile("'" + path + "' is not a JSON object");
  ModelTemplate m;
  const auto it = cfg.find("chat_template");
  if (it != cfg.end()) {
    if (it->is_string()) {
      m.source = it->get<std::string>();
    } else if (it->is_array()) {  // [{"name": "default", "template": ...}, ...]
      for (const auto& e : *it) {
        if (e.is_object() && e.value("name", "") == "default" && e.contains("template") && e["template"].is_string()) {
          m.source = e["template"].get<std::string>();
        }
      }
    }
  }
  for (const char* name : {"bos_token", "eos_token", "unk_token", "pad_token"}) {
    const auto t = cfg.find(name);
    if (t == cfg.end()) continue;
    if (t->is_string()) m.special[name] = *t;
    else if (t->is_object() && t->contains("content") && (*t)["content"].is_string()) m.special[name] = (*t)["content"];
  }
  return m;
}

Result<ModelTemplate> model_template(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return from_tokenizer_config(path + "/tokenizer_config.json");
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) return from_tokenizer_config(path);
  return from_gguf(path);
}

Result<std::string> resolve_template(const std::string& name_or_source) {
  if (const char* builtin = builtin_chat_template(name_or_source)) return std::string(builtin);
  std::error_code ec;
  if (std::filesystem::is_regular_file(name_or_source, ec)) return read_text_file(name_or_source);
  if (name_or_source.find("{{") != std::string::npos || name_or_source.find("{%") != std::string::npos) {
    return name_or_source;
  }
  return NotFound("unknown chat template '" + name_or_source + "': not a built-in (" +
                  builtin_chat_template_names() + "), a file, or template text");
}

}  // namespace

struct CompiledChatTemplate::Impl {
  ChatTemplate tmpl;
  ojson special;  // bos_token, eos_token, ... as the model names them
};

Result<CompiledChatTemplate> CompiledChatTemplate::load(const std::string& model_path_or_empty,
                                                        const std::string& template_name_or_source) {
  ModelTemplate m;
  if (!model_path_or_empty.empty()) {
    AG_ASSIGN_OR_RETURN(m, model_template(model_path_or_empty));
  }
  std::string source = m.source;
  if (source.empty()) {
    if (template_name_or_source.empty()) {
      return NotFound(model_path_or_empty.empty()
                          ? std::string("no chat template: give a model or a template")
                          : "'" + model_path_or_empty + "' has no chat template; pass a template name or file (" +
                                builtin_chat_template_names() + ")");
    }
    AG_ASSIGN_OR_RETURN(source, resolve_template(template_name_or_source));
  }
  AG_ASSIGN_OR_RETURN(ChatTemplate t, ChatTemplate::parse(source));
  return CompiledChatTemplate(std::make_shared<const Impl>(Impl{std::move(t), std::move(m.special)}));
}

Result<std::string> CompiledChatTemplate::render(const std::string& messages_json, bool add_generation_prompt) const {
  ojson messages = ojson::parse(messages_json, nullptr, /*allow_exceptions=*/false);
  if (messages.is_discarded()) return InvalidArgument("messages are not valid JSON");
  if (!messages.is_array()) return InvalidArgument("messages must be a JSON array of {\"role\", \"content\"} objects");
  // The context transformers' apply_chat_template builds (as tokenizer/chat_template's apply_chat_template).
  ojson context = ojson::object();
  context["messages"] = std::move(messages);
  context["tools"] = nullptr;
  context["add_generation_prompt"] = add_generation_prompt;
  for (auto it = impl_->special.begin(); it != impl_->special.end(); ++it) context[it.key()] = it.value();
  return impl_->tmpl.render(context);
}

Result<std::string> render_chat_template(const std::string& model_path_or_empty,
                                         const std::string& template_name_or_source,
                                         const std::string& messages_json, bool add_generation_prompt) {
  // Messages are checked first so that bad JSON is reported even when the template is fine.
  const ojson messages = ojson::parse(messages_json, nullptr, /*allow_exceptions=*/false);
  if (messages.is_discarded()) return InvalidArgument("messages are not valid JSON");
  if (!messages.is_array()) return InvalidArgument("messages must be a JSON array of {\"role\", \"content\"} objects");
  AG_ASSIGN_OR_RETURN(CompiledChatTemplate t, CompiledChatTemplate::load(model_path_or_empty, template_name_or_source));
  return t.render(messages_json, add_generation_prompt);
}

}  // namespace autoglm
