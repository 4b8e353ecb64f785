// The OpenAI request fields of /v1/completions and /v1/chat/completions, read into typed form.
// Only the HTTP threads run this; the engine sees the resulting CompletionRequest.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api_error.h"
#include "autoglm/serving.h"

namespace autoglm::server {

struct RequestLimits {
  int32_t max_tokens_cap = 4096;
  int32_t max_n = 8;
  int32_t n_vocab = 0;
  int32_t default_max_tokens = 256;
};

struct ParsedRequest {
  bool chat = false;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  int32_t n = 1;
  bool logprobs = false;
  bool seed_given = false;
  std::string model;
  // chat: the validated "messages" array (each {"role": string, "content": string or text parts}).
  nlohmann::json messages;
  // completions: the prompt as text, or as token ids (prompt_ids_given).
  std::string prompt_text;
  std::vector<int32_t> prompt_ids;
  bool prompt_ids_given = false;
  // Sampling and stopping; `prompt` is filled in after tokenization.
  CompletionRequest base;
};

// Reads and validates every field; the first problem is returned as a 400.
std::optional<ApiError> parse_request(const nlohmann::json& body, bool chat, const RequestLimits& limits,
                                      ParsedRequest* out);

}  // namespace autoglm::server
