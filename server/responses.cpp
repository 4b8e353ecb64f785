#include "responses.h"

#include <algorithm>
#include <random>

namespace autoglm::server {
namespace {

nlohmann::json bytes_of(const std::string& s) {
  nlohmann::json b = nlohmann::json::array();
  for (unsigned char c : s) b.push_back(static_cast<int>(c));
  return b;
}

nlohmann::json finish_json(const std::string& reason) {
  return reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(reason);
}

nlohmann::json base_object(const ResponseMeta& meta, const char* object) {
  return {{"id", meta.id}, {"object", object}, {"created", meta.created}, {"model", meta.model},
          {"system_fingerprint", "autoglm"}};
}

}  // namespace

std::string new_response_id(bool chat) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char kHex[] = "0123456789abcdef";
  std::string id = chat ? "chatcmpl-" : "cmpl-";
  for (int i = 0; i < 24; ++i) id += kHex[rng() & 15];
  return id;
}

nlohmann::json usage_json(int32_t prompt, int32_t cached, int32_t completion) {
  return {{"prompt_tokens", prompt},
          {"completion_tokens", completion},
          {"total_tokens", static_cast<int64_t>(prompt) + completion},
          {"prompt_tokens_details", {{"cached_tokens", cached}}}};
}

nlohmann::json usage_json(const std::vector<ChoiceState>& choices) {
  int32_t prompt = 0, cached = 0, completion = 0;
  for (const auto& c : choices) {
    prompt = std::max(prompt, c.prompt_tokens);
    completion += c.completion_tokens;
  }
  if (!choices.empty()) cached = choices.front().cached_tokens;
  return usage_json(prompt, cached, completion);
}

nlohmann::json logprobs_json(bool chat, const std::vector<TokenInfo>& tokens, size_t offset) {
  if (chat) {
    nlohmann::json content = nlohmann::json::array();
    for (const auto& t : tokens) {
      nlohmann::json top = nlohmann::json::array();
      for (const auto& a : t.top) top.push_back({{"token", a.text}, {"logprob", a.logprob}, {"bytes", bytes_of(a.text)}});
      content.push_back({{"token", t.text}, {"logprob", t.logprob}, {"bytes", bytes_of(t.text)}, {"top_logprobs", top}});
    }
    return {{"content", std::move(content)}};
  }
  nlohmann::json toks = nlohmann::json::array(), lps = nlohmann::json::array(), tops = nlohmann::json::array(),
                 offs = nlohmann::json::array();
  for (const auto& t : tokens) {
    toks.push_back(t.text);
    lps.push_back(t.logprob);
    nlohmann::json top = nlohmann::json::object();
    for (const auto& a : t.top) top[a.text] = a.logprob;
    tops.push_back(std::move(top));
    offs.push_back(offset);
    offset += t.text.size();
  }
  return {{"tokens", toks}, {"token_logprobs", lps}, {"top_logprobs", tops}, {"text_offset", offs}};
}

nlohmann::json full_response(const ResponseMeta& meta, const std::vector<ChoiceState>& choices, bool logprobs) {
  nlohmann::json r = base_object(meta, meta.chat ? "chat.completion" : "text_completion");
  nlohmann::json arr = nlohmann::json::array();
  for (size_t i = 0; i < choices.size(); ++i) {
    const auto& c = choices[i];
    nlohmann::json lp = logprobs ? logprobs_json(meta.chat, c.tokens, 0) : nlohmann::json(nullptr);
    if (meta.chat) {
      arr.push_back({{"index", i},
                     {"message", {{"role", "assistant"}, {"content", c.text}}},
                     {"logprobs", lp},
                     {"finish_reason", finish_json(c.finish_reason)}});
    } else {
      arr.push_back({{"index", i}, {"text", c.text}, {"logprobs", lp}, {"finish_reason", finish_json(c.finish_reason)}});
    }
  }
  r["choices"] = std::move(arr);
  r["usage"] = usage_json(choices);
  return r;
}

nlohmann::json stream_chunk(const ResponseMeta& meta, int32_t index, const std::string& text, bool first,
                            const nlohmann::json& logprobs, const std::string& finish_reason, bool with_usage_field) {
  nlohmann::json r = base_object(meta, meta.chat ? "chat.completion.chunk" : "text_completion");
  nlohmann::json choice = {{"index", index}, {"logprobs", logprobs}, {"finish_reason", finish_json(finish_reason)}};
  if (meta.chat) {
    nlohmann::json delta = nlohmann::json::object();
    if (first) delta["role"] = "assistant";
    if (first || !text.empty()) delta["content"] = text;
    choice["delta"] = std::move(delta);
  } else {
    choice["text"] = text;
  }
  r["choices"] = nlohmann::json::array({std::move(choice)});
  if (with_usage_field) r["usage"] = nullptr;
  return r;
}

nlohmann::json usage_chunk(const ResponseMeta& meta, const std::vector<ChoiceState>& choices) {
  nlohmann::json r = base_object(meta, meta.chat ? "chat.completion.chunk" : "text_completion");
  r["choices"] = nlohmann::json::array();
  r["usage"] = usage_json(choices);
  return r;
}

}  // namespace autoglm::server
