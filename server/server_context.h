// State shared by the HTTP handlers (internal to server/).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <httplib.h>

#include "autoglm/serving.h"
#include "api_error.h"
#include "chat_prompt.h"
#include "http_server.h"
#include "metrics.h"

namespace autoglm::server {

enum class ServerState { kLoading, kReady, kDraining, kStopped };

struct ServerContext {
  ServerOptions opts;
  std::unique_ptr<ServingEngine> engine;  // set before state becomes kReady
  std::atomic<ServerState> state{ServerState::kLoading};
  std::atomic<int64_t> active_generations{0};
  Metrics metrics;
  ChatRenderer render_chat;
  std::string model_id;  // what /v1/models and responses call the model: the file's stem

  // "ok", "loading", "draining" or "error" (engine loop failed).
  std::string health() const;
};

// Counts a generation in flight while alive, so shutdown can wait for streams to end.
class ActiveGuard {
 public:
  explicit ActiveGuard(std::atomic<int64_t>* n) : n_(n) { n_->fetch_add(1); }
  ~ActiveGuard() { n_->fetch_sub(1); }
  ActiveGuard(const ActiveGuard&) = delete;
  ActiveGuard& operator=(const ActiveGuard&) = delete;

 private:
  std::atomic<int64_t>* n_;
};

void send_json(httplib::Response& res, int status, const nlohmann::json& body);
void send_error(httplib::Response& res, const ApiError& err);
// The API key the request authenticated with (or its bearer token when none is configured).
std::string request_owner(const httplib::Request& req);

// POST /v1/completions and /v1/chat/completions.
void handle_completion(ServerContext& ctx, const httplib::Request& req, httplib::Response& res, bool chat);

}  // namespace autoglm::server
