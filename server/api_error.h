// OpenAI-style error objects: {"error": {"message", "type", "param", "code"}} with an HTTP status.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "autoglm/status.h"

namespace autoglm::server {

struct ApiError {
  int http_status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;  // empty: null
  std::string code;   // empty: null

  nlohmann::json to_json() const;
};

ApiError bad_request(std::string message, std::string param = {}, std::string code = {});
// Maps an engine Status to the status code a client should see (429 for a full queue, ...).
ApiError error_from_status(const Status& status);

// Every JSON we send goes through this: invalid UTF-8 (a byte token's text) is replaced, never thrown.
std::string dump_json(const nlohmann::json& j);

}  // namespace autoglm::server
