#include "request_params.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "json_body.h"

namespace autoglm::server {
namespace {

constexpr size_t kMaxStops = 16;
constexpr size_t kMaxStopBytes = 256;
constexpr size_t kMaxMessages = 4096;
constexpr size_t kMaxLogitBias = 1024;

#define AG_API_TRY(expr)              \
  do {                                \
    if (auto err_ = (expr)) return err_; \
  } while (0)

// "content": a string, null, or a list of {"type": "text", "text": ...} parts (joined).
std::optional<ApiError> message_content(const nlohmann::json& c, std::string* out) {
  if (c.is_null()) return std::nullopt;
  if (c.is_string()) {
    *out = c.get<std::string>();
    return std::nullopt;
  }
  if (!c.is_array()) return bad_request("message content must be a string or a list of text parts", "messages");
  for (const auto& part : c) {
    if (!part.is_object()) return bad_request("message content parts must be objects", "messages");
    auto type = part.find("type");
    auto text = part.find("text");
    if (type == part.end() || !type->is_string() || *type != "text" || text == part.end() || !text->is_string()) {
      return bad_request("only {\"type\": \"text\", \"text\": ...} content parts are supported", "messages");
    }
    *out += text->get<std::string>();
  }
  return std::nullopt;
}

std::optional<ApiError> parse_messages(const nlohmann::json& body, ParsedRequest* out) {
  auto it = body.find("messages");
  if (it == body.end()) return bad_request("'messages' is required", "messages", "missing_field");
  if (!it->is_array() || it->empty()) return bad_request("'messages' must be a non-empty list", "messages");
  if (it->size() > kMaxMessages) return bad_request("too many messages", "messages");
  out->messages = nlohmann::json::array();
  for (const auto& m : *it) {
    if (!m.is_object()) return bad_request("each message must be an object", "messages");
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) return bad_request("each message needs a string 'role'", "messages");
    const auto& r = role->get_ref<const std::string&>();
    if (r != "system" && r != "user" && r != "assistant" && r != "tool" && r != "developer") {
      return bad_request("unknown message role '" + r + "'", "messages");
    }
    std::string content;
    if (auto c = m.find("content"); c != m.end()) AG_API_TRY(message_content(*c, &content));
    out->messages.push_back({{"role", r == "developer" ? "system" : r}, {"content", std::move(content)}});
  }
  return std::nullopt;
}

std::optional<ApiError> parse_prompt(const nlohmann::json& body, const RequestLimits& limits, ParsedRequest* out) {
  auto it = body.find("prompt");
  if (it == body.end() || it->is_null()) return bad_request("'prompt' is required", "prompt", "missing_field");
  const nlohmann::json* p = &*it;
  // A list holding one string or one list of ids is the batch form with a single prompt.
  if (p->is_array() && p->size() == 1 && ((*p)[0].is_string() || (*p)[0].is_array())) p = &(*p)[0];
  if (p->is_string()) {
    out->prompt_text = p->get<std::string>();
    return std::nullopt;
  }
  if (!p->is_array()) return bad_request("'prompt' must be a string or a list of token ids", "prompt");
  if (p->empty()) return bad_request("'prompt' must not be an empty list", "prompt");
  out->prompt_ids_given = true;
  out->prompt_ids.reserve(p->size());
  for (const auto& v : *p) {
    int32_t id = 0;
    AG_API_TRY(read_token_id(v, "prompt", limits.n_vocab, &id));
    out->prompt_ids.push_back(id);
  }
  return std::nullopt;
}

std::optional<ApiError> parse_stop(const nlohmann::json& body, CompletionRequest* req) {
  auto it = body.find("stop");
  if (it == body.end() || it->is_null()) return std::nullopt;
  auto add = [&](const nlohmann::json& s) -> std::optional<ApiError> {
    if (!s.is_string()) return bad_request("'stop' must be a string or a list of strings", "stop");
    const auto& str = s.get_ref<const std::string&>();
    if (str.empty()) return std::nullopt;
    if (str.size() > kMaxStopBytes) return bad_request("a stop string is longer than 256 bytes", "stop");
    req->stop.push_back(str);
    return std::nullopt;
  };
  if (it->is_array()) {
    if (it->size() > kMaxStops) return bad_request("at most 16 stop strings", "stop");
    for (const auto& s : *it) AG_API_TRY(add(s));
    return std::nullopt;
  }
  return add(*it);
}

std::optional<ApiError> parse_logit_bias(const nlohmann::json& body, int32_t n_vocab, CompletionRequest* req) {
  auto it = body.find("logit_bias");
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) return bad_request("'logit_bias' must be an object of token id -> bias", "logit_bias");
  if (it->size() > kMaxLogitBias) return bad_request("too many 'logit_bias' entries", "logit_bias");
  for (const auto& [key, val] : it->items()) {
    size_t pos = 0;
    long long id = -1;
    bool ok = !key.empty() && key.size() <= 10 && key.find_first_not_of("0123456789") == std::string::npos;
    if (ok) id = std::stoll(key, &pos);
    if (!ok || id >= n_vocab) return bad_request("'logit_bias' key '" + key + "' is not a token id", "logit_bias");
    if (!val.is_number() || !std::isfinite(val.get<double>()) || val.get<double>() < -100 || val.get<double>() > 100) {
      return bad_request("'logit_bias' values must be numbers between -100 and 100", "logit_bias");
    }
    req->logit_bias[static_cast<int32_t>(id)] = val.get<float>();
  }
  return std::nullopt;
}

std::optional<ApiError> parse_logprobs(const nlohmann::json& body, bool chat, ParsedRequest* out) {
  int64_t top = -1;
  if (chat) {
    AG_API_TRY(read_bool(body, "logprobs", &out->logprobs));
    int64_t t = 0;
    AG_API_TRY(read_int(body, "top_logprobs", 0, 20, &t));
    if (body.contains("top_logprobs") && !body["top_logprobs"].is_null() && !out->logprobs) {
      return bad_request("'top_logprobs' requires 'logprobs': true", "top_logprobs");
    }
    if (out->logprobs) top = t;
  } else {
    // Legacy completions: "logprobs": N asks for the chosen token's logprob plus N alternatives.
    AG_API_TRY(read_int(body, "logprobs", 0, 5, &top));
    out->logprobs = top >= 0;
  }
  out->base.top_logprobs = static_cast<int32_t>(top);
  return std::nullopt;
}

std::optional<ApiError> parse_sampling(const nlohmann::json& body, const RequestLimits& limits, ParsedRequest* out) {
  CompletionRequest& req = out->base;
  int64_t max_tokens = limits.default_max_tokens;
  AG_API_TRY(read_int(body, "max_tokens", 1, limits.max_tokens_cap, &max_tokens));
  AG_API_TRY(read_int(body, "max_completion_tokens", 1, limits.max_tokens_cap, &max_tokens));
  req.max_tokens = static_cast<int32_t>(std::min<int64_t>(max_tokens, limits.max_tokens_cap));
  double v = 1.0;
  AG_API_TRY(read_float(body, "temperature", 0.0, 100.0, &v));
  req.temperature = static_cast<float>(v);
  v = 1.0;
  AG_API_TRY(read_float(body, "top_p", 0.0, 1.0, &v));
  req.top_p = static_cast<float>(v);
  v = 0.0;
  AG_API_TRY(read_float(body, "min_p", 0.0, 1.0, &v));
  req.min_p = static_cast<float>(v);
  int64_t top_k = 0;
  AG_API_TRY(read_int(body, "top_k", 0, std::numeric_limits<int32_t>::max(), &top_k));
  req.top_k = static_cast<int32_t>(top_k);
  v = 0.0;
  AG_API_TRY(read_float(body, "presence_penalty", -2.0, 2.0, &v));
  req.presence_penalty = static_cast<float>(v);
  v = 0.0;
  AG_API_TRY(read_float(body, "frequency_penalty", -2.0, 2.0, &v));
  req.frequency_penalty = static_cast<float>(v);
  v = 1.0;
  AG_API_TRY(read_float(body, "repetition_penalty", 0.01, 10.0, &v));
  AG_API_TRY(read_float(body, "repeat_penalty", 0.01, 10.0, &v));  // llama.cpp's name
  req.repetition_penalty = static_cast<float>(v);
  AG_API_TRY(read_bool(body, "ignore_eos", &req.ignore_eos));
  int64_t seed = 0;
  AG_API_TRY(read_int(body, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), &seed));
  out->seed_given = body.contains("seed") && !body["seed"].is_null();
  req.seed = static_cast<uint64_t>(seed);
  AG_API_TRY(parse_stop(body, &req));
  AG_API_TRY(parse_logit_bias(body, limits.n_vocab, &req));
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> parse_request(const nlohmann::json& body, bool chat, const RequestLimits& limits,
                                      ParsedRequest* out) {
  out->chat = chat;
  AG_API_TRY(chat ? parse_messages(body, out) : parse_prompt(body, limits, out));
  AG_API_TRY(read_string(body, "model", 256, &out->model));
  std::string user;
  AG_API_TRY(read_string(body, "user", 256, &user));
  AG_API_TRY(read_string(body, "session_id", 256, &out->base.session_id));
  AG_API_TRY(read_bool(body, "stream", &out->stream));
  if (auto so = body.find("stream_options"); so != body.end() && !so->is_null()) {
    if (!so->is_object()) return bad_request("'stream_options' must be an object", "stream_options");
    AG_API_TRY(read_bool(*so, "include_usage", &out->include_usage));
  }
  int64_t n = 1;
  AG_API_TRY(read_int(body, "n", 1, limits.max_n, &n));
  out->n = static_cast<int32_t>(n);
  if (out->n > 1 && !out->base.session_id.empty()) {
    return bad_request("'n' > 1 cannot be combined with 'session_id'", "n");
  }
  AG_API_TRY(parse_logprobs(body, chat, out));
  return parse_sampling(body, limits, out);
}

}  // namespace autoglm::server
