// Request bodies are untrusted: parse without exceptions escaping, bound the nesting depth, and
// read each field with its type checked. Every failure is an ApiError (4xx), never a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api_error.h"

namespace autoglm::server {

inline constexpr size_t kMaxJsonDepth = 32;

// Parses `body` as a JSON object. Rejects empty bodies, nesting deeper than kMaxJsonDepth,
// invalid UTF-8 and non-objects.
std::optional<ApiError> parse_json_object(std::string_view body, nlohmann::json* out);

// Typed field readers: absent (or null) leaves *out untouched and returns nullopt; a present field
// of the wrong type or outside [lo, hi] is a 400 naming the field.
std::optional<ApiError> read_bool(const nlohmann::json& obj, const char* name, bool* out);
std::optional<ApiError> read_int(const nlohmann::json& obj, const char* name, int64_t lo, int64_t hi, int64_t* out);
std::optional<ApiError> read_float(const nlohmann::json& obj, const char* name, double lo, double hi, double* out);
std::optional<ApiError> read_string(const nlohmann::json& obj, const char* name, size_t max_len, std::string* out);
// An integer token id in [0, n_vocab).
std::optional<ApiError> read_token_id(const nlohmann::json& v, const char* name, int32_t n_vocab, int32_t* out);

}  // namespace autoglm::server
