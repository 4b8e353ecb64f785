// JSON bodies of completion responses: whole (non-streaming) and SSE chunks, in OpenAI's shapes
// for /v1/chat/completions ("chat.completion", "chat.completion.chunk") and /v1/completions
// ("text_completion").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "autoglm/serving.h"

namespace autoglm::server {

struct ResponseMeta {
  std::string id;
  int64_t created = 0;
  std::string model;
  bool chat = false;
};

struct TokenInfo {
  std::string text;  // the token's own text
  float logprob = 0;
  std::vector<TokenLogprob> top;
};

// What one choice has produced so far.
struct ChoiceState {
  std::string text;
  std::string finish_reason;  // empty while running
  std::vector<TokenInfo> tokens;  // only when logprobs were requested
  int32_t prompt_tokens = 0, cached_tokens = 0, completion_tokens = 0;
};

std::string new_response_id(bool chat);
nlohmann::json usage_json(int32_t prompt, int32_t cached, int32_t completion);
// Sum over choices (the prompt is counted once).
nlohmann::json usage_json(const std::vector<ChoiceState>& choices);
// Logprobs of `tokens` in the endpoint's shape; text_offset starts at `offset` (completions only).
nlohmann::json logprobs_json(bool chat, const std::vector<TokenInfo>& tokens, size_t offset);

nlohmann::json full_response(const ResponseMeta& meta, const std::vector<ChoiceState>& choices, bool logprobs);
// One streamed chunk for choice `index`: new text (chat: as a delta, with the role on the first),
// its logprobs (null if none) and the finish reason (empty: null).
nlohmann::json stream_chunk(const ResponseMeta& meta, int32_t index, const std::string& text, bool first,
                            const nlohmann::json& logprobs, const std::string& finish_reason, bool with_usage_field);
// The closing chunk of stream_options.include_usage: no choices, the usage.
nlohmann::json usage_chunk(const ResponseMeta& meta, const std::vector<ChoiceState>& choices);

}  // namespace autoglm::server
