#include "json_body.h"

#include <cmath>
#include <limits>

#include "autoglm/json_limits.h"

namespace autoglm::server {
namespace {

ApiError type_error(const char* name, const char* what) {
  return bad_request(std::string("'") + name + "' must be " + what, name, "invalid_type");
}

}  // namespace

std::optional<ApiError> parse_json_object(std::string_view body, nlohmann::json* out) {
  if (body.empty()) return bad_request("request body is empty; expected a JSON object", {}, "invalid_json");
  if (!json_nesting_within(body, kMaxJsonDepth)) {
    return bad_request("JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels", {}, "invalid_json");
  }
  // allow_exceptions=false: a syntax error (truncation, invalid UTF-8 in a string) is a discarded value.
  nlohmann::json j = nlohmann::json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return bad_request("request body is not valid JSON (or not valid UTF-8)", {}, "invalid_json");
  if (!j.is_object()) return bad_request("request body must be a JSON object", {}, "invalid_json");
  *out = std::move(j);
  return std::nullopt;
}

std::optional<ApiError> read_bool(const nlohmann::json& obj, const char* name, bool* out) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) return type_error(name, "a boolean");
  *out = it->get<bool>();
  return std::nullopt;
}

std::optional<ApiError> read_int(const nlohmann::json& obj, const char* name, int64_t lo, int64_t hi, int64_t* out) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) return type_error(name, "an integer");
  const std::string range = " must be between " + std::to_string(lo) + " and " + std::to_string(hi);
  if (it->is_number_unsigned()) {
    const uint64_t u = it->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) || static_cast<int64_t>(u) > hi) {
      return bad_request(std::string("'") + name + "'" + range, name, "out_of_range");
    }
    *out = static_cast<int64_t>(u);
  } else {
    const int64_t v = it->get<int64_t>();
    if (v < lo || v > hi) return bad_request(std::string("'") + name + "'" + range, name, "out_of_range");
    *out = v;
  }
  if (*out < lo) return bad_request(std::string("'") + name + "'" + range, name, "out_of_range");
  return std::nullopt;
}

std::optional<ApiError> read_float(const nlohmann::json& obj, const char* name, double lo, double hi, double* out) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) return type_error(name, "a number");
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi) {
    return bad_request(std::string("'") + name + "' must be a finite number between " + std::to_string(lo) + " and " +
                           std::to_string(hi),
                       name, "out_of_range");
  }
  *out = v;
  return std::nullopt;
}

std::optional<ApiError> read_string(const nlohmann::json& obj, const char* name, size_t max_len, std::string* out) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return type_error(name, "a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_len) {
    return bad_request(std::string("'") + name + "' is longer than " + std::to_string(max_len) + " bytes", name);
  }
  *out = s;
  return std::nullopt;
}

std::optional<ApiError> read_token_id(const nlohmann::json& v, const char* name, int32_t n_vocab, int32_t* out) {
  if (!v.is_number_integer()) return type_error(name, "a list of integer token ids");
  const bool neg = !v.is_number_unsigned() && v.get<int64_t>() < 0;
  if (neg || v.get<uint64_t>() >= static_cast<uint64_t>(n_vocab)) {
    return bad_request(std::string("'") + name + "' holds a token id outside the vocabulary [0, " +
                           std::to_string(n_vocab) + ")",
                       name, "invalid_token");
  }
  *out = static_cast<int32_t>(v.get<uint64_t>());
  return std::nullopt;
}

}  // namespace autoglm::server
