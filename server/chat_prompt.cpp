#include "chat_prompt.h"

#include <string_view>

namespace autoglm::server {
namespace {

// Marks where message i's text goes; no tokenizer or template treats these bytes specially.
std::string placeholder(size_t i) { return "\x1f@autoglm-msg-" + std::to_string(i) + "@\x1f"; }

bool spells_control_token(const ServingEngine& engine, const std::string& text) {
  return engine.tokenize(text, false, true) != engine.tokenize(text, false, false);
}

// BOS as the vocabulary asks for it, unless the template already wrote it.
void prepend_bos(const ServingEngine& engine, std::vector<int32_t>* ids) {
  const auto probe = engine.tokenize("", true, false);
  const int32_t bos = engine.bos_token();
  const bool wants_bos = !probe.empty() && probe.front() == bos;
  if (wants_bos && (ids->empty() || ids->front() != bos)) ids->insert(ids->begin(), bos);
}

}  // namespace

Result<std::vector<int32_t>> tokenize_chat(const ServingEngine& engine, const ChatRenderer& render,
                                           const nlohmann::json& messages) {
  bool injected = false;
  for (const auto& m : messages) injected = injected || spells_control_token(engine, m["content"].get<std::string>());
  if (!injected) {
    AG_ASSIGN_OR_RETURN(std::string text, render(messages));
    std::vector<int32_t> ids = engine.tokenize(text, false, true);
    prepend_bos(engine, &ids);
    return ids;
  }
  nlohmann::json masked = messages;
  for (size_t i = 0; i < masked.size(); ++i) masked[i]["content"] = placeholder(i);
  AG_ASSIGN_OR_RETURN(std::string text, render(masked));
  std::vector<int32_t> ids;
  std::string_view rest = text;
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string ph = placeholder(i);
    const size_t at = rest.find(ph);
    if (at == std::string_view::npos) {
      return InvalidArgument("the chat template does not place message " + std::to_string(i) +
                             " verbatim, so its control-token text cannot be kept as plain text");
    }
    auto tmpl = engine.tokenize(rest.substr(0, at), false, true);
    auto user = engine.tokenize(messages[i]["content"].get<std::string>(), false, false);
    ids.insert(ids.end(), tmpl.begin(), tmpl.end());
    ids.insert(ids.end(), user.begin(), user.end());
    rest.remove_prefix(at + ph.size());
  }
  auto tail = engine.tokenize(rest, false, true);
  ids.insert(ids.end(), tail.begin(), tail.end());
  prepend_bos(engine, &ids);
  return ids;
}

}  // namespace autoglm::server
