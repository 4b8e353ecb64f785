// `autoglm serve`: an OpenAI-compatible HTTP server over ServingEngine.
//
//   HttpServer s(opts);
//   s.start();          // binds and answers (/health: 503 "loading")
//   s.load_engine();    // /health: 200
//   ...                 // on SIGTERM: s.shutdown() drains in-flight requests, then stops
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "autoglm/config.h"
#include "autoglm/serving.h"
#include "autoglm/status.h"

namespace autoglm::server {

struct ServerOptions {
  std::string model_path;
  std::string host = "127.0.0.1";
  int port = 8080;                     // 0: any free port (see HttpServer::port())
  std::vector<std::string> api_keys;   // empty: no authentication
  std::string cors_origin;             // empty: no CORS headers
  size_t max_body_bytes = 4u << 20;    // larger bodies get 413
  int http_threads = 512;              // each open connection (a stream) holds one
  int drain_timeout_ms = 60000;
  int default_max_tokens = 256;        // when a request names none
  std::string chat_template = "chatml";  // when the model has none: a built-in name, a file or template text
  OptimizationConfig optimization;
  ServingOptions serving;
};

class HttpServer {
 public:
  explicit HttpServer(ServerOptions opts);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port and serves on a background thread; until load_engine() succeeds every
  // endpoint but / and /health answers 503.
  Status start();
  int port() const;
  Status load_engine();
  // Stops taking generation requests (503), lets in-flight ones finish, then stops serving.
  void shutdown();
  // True until the serving thread has ended.
  bool running() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace autoglm::server
