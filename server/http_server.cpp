#include "http_server.h"

#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <thread>

#include "autoglm/chat.h"
#include "chat_page.h"
#include "connection.h"
#include "json_body.h"
#include "server_context.h"

namespace autoglm::server {
namespace {

bool same_key(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;  // constant time: no early exit on the first differing byte
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// Content-Length as sent (0 when absent; saturates on absurd values).
uint64_t announced_length(const httplib::Request& req) {
  const std::string v = req.get_header_value("Content-Length");
  uint64_t n = 0;
  for (char ch : v) {
    if (ch < '0' || ch > '9') return 0;  // malformed: httplib itself rejects it
    n = n > (UINT64_MAX - 9) / 10 ? UINT64_MAX : n * 10 + static_cast<uint64_t>(ch - '0');
  }
  return n;
}

std::string bearer_token(const httplib::Request& req) {
  const std::string h = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  return h.compare(0, kBearer.size(), kBearer) == 0 ? h.substr(kBearer.size()) : std::string();
}

ApiError unavailable(const std::string& code, const std::string& message) {
  ApiError e;
  e.http_status = 503;
  e.type = "server_error";
  e.code = code;
  e.message = message;
  return e;
}

// Endpoints that need the model answer 503 until it is loaded; generation also while draining.
bool ready(ServerContext& ctx, httplib::Response& res, bool generation) {
  const ServerState s = ctx.state.load();
  if (s == ServerState::kLoading || !ctx.engine) {  // no engine: still loading, or loading failed
    send_error(res, unavailable("loading", "the model is still loading"));
    return false;
  }
  if (s != ServerState::kReady && (generation || s == ServerState::kStopped)) {
    send_error(res, unavailable("draining", "the server is shutting down"));
    return false;
  }
  return true;
}

void handle_tokenize(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  nlohmann::json body;
  if (auto err = parse_json_object(req.body, &body)) return send_error(res, *err);
  if (!body.contains("content")) return send_error(res, bad_request("'content' is required", "content"));
  std::string content;
  bool add_special = false, parse_special = false;
  if (auto err = read_string(body, "content", ctx.opts.max_body_bytes, &content)) return send_error(res, *err);
  if (auto err = read_bool(body, "add_special", &add_special)) return send_error(res, *err);
  if (auto err = read_bool(body, "parse_special", &parse_special)) return send_error(res, *err);
  send_json(res, 200, {{"tokens", ctx.engine->tokenize(content, add_special, parse_special)}});
}

void handle_detokenize(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  nlohmann::json body;
  if (auto err = parse_json_object(req.body, &body)) return send_error(res, *err);
  auto it = body.find("tokens");
  if (it == body.end() || !it->is_array()) {
    return send_error(res, bad_request("'tokens' must be a list of token ids", "tokens"));
  }
  std::vector<int32_t> ids;
  ids.reserve(it->size());
  for (const auto& v : *it) {
    int32_t id = 0;
    if (auto err = read_token_id(v, "tokens", ctx.engine->n_vocab(), &id)) return send_error(res, *err);
    ids.push_back(id);
  }
  send_json(res, 200, {{"content", ctx.engine->detokenize(ids)}});
}

}  // namespace

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(dump_json(body), "application/json");
}

void send_error(httplib::Response& res, const ApiError& err) { send_json(res, err.http_status, err.to_json()); }

std::string request_owner(const httplib::Request& req) { return bearer_token(req); }

std::string ServerContext::health() const {
  switch (state.load()) {
    case ServerState::kLoading:
      return "loading";
    case ServerState::kReady:
      return engine && engine->stats().healthy ? "ok" : "error";
    default:
      return "draining";
  }
}

struct HttpServer::Impl {
  ServerContext ctx;
  ConnectionServer svr;
  std::thread thread;
  std::atomic<bool> running{false};
  int port = 0;

  void routes();
  void stop_listening();
};

void HttpServer::Impl::routes() {
  ServerContext& c = ctx;
  const int threads = std::max(8, c.opts.http_threads);
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  svr.set_payload_max_length(c.opts.max_body_bytes);
  svr.set_keep_alive_max_count(1000);
  svr.set_keep_alive_timeout(5);
  svr.set_read_timeout(30);
  svr.set_write_timeout(10);

  svr.set_pre_routing_handler([&c](const httplib::Request& req, httplib::Response& res) {
    // Refuse an announced oversized body before reading it (httplib would read and discard it all).
    if (announced_length(req) > c.opts.max_body_bytes) {
      ApiError e;
      e.http_status = 413;
      e.message = "request body too large (limit " + std::to_string(c.opts.max_body_bytes) + " bytes)";
      e.code = "payload_too_large";
      send_error(res, e);
      res.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (c.opts.api_keys.empty() || req.method == "OPTIONS" || req.path == "/" || req.path == "/health") {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    const std::string token = bearer_token(req);
    for (const auto& k : c.opts.api_keys) {
      if (same_key(token, k)) return httplib::Server::HandlerResponse::Unhandled;
    }
    ApiError e;
    e.http_status = 401;
    e.code = "invalid_api_key";
    e.message = "missing or invalid API key: send 'Authorization: Bearer KEY'";
    send_error(res, e);
    res.set_header("WWW-Authenticate", "Bearer");
    return httplib::Server::HandlerResponse::Handled;
  });
  if (!c.opts.cors_origin.empty()) {
    svr.set_post_routing_handler([&c](const httplib::Request&, httplib::Response& res) {
      res.set_header("Access-Control-Allow-Origin", c.opts.cors_origin);
      res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
      res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      res.set_header("Access-Control-Max-Age", "600");
    });
    svr.Options(".*", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  }
  // Errors httplib produces itself (404, 413, ...) get an OpenAI error body too.
  svr.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty() || res.is_chunked_content_provider_) return httplib::Server::HandlerResponse::Unhandled;
    ApiError e;
    e.http_status = res.status;
    e.message = res.status == 413   ? "request body too large"
                : res.status == 404 ? "no such endpoint"
                                    : "HTTP error " + std::to_string(res.status);
    if (res.status == 404) e.code = "not_found";
    send_error(res, e);
    return httplib::Server::HandlerResponse::Handled;
  }));
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    ApiError e;
    e.http_status = 500;
    e.type = "server_error";
    e.message = "internal error";
    send_error(res, e);
  });
  svr.set_logger([&c](const httplib::Request& req, const httplib::Response& res) {
    c.metrics.count_request(req.path, res.status);
  });

  svr.Get("/health", [&c](const httplib::Request&, httplib::Response& res) {
    const std::string h = c.health();
    send_json(res, h == "ok" ? 200 : 503, {{"status", h}});
  });
  svr.Get("/metrics", [&c](const httplib::Request&, httplib::Response& res) {
    const ServerState s = c.state.load();
    ServingStats st;
    if (s != ServerState::kLoading && c.engine) st = c.engine->stats();
    res.set_content(c.metrics.render(st, c.health()), "text/plain; version=0.0.4");
  });
  svr.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(chat_page_html(), "text/html; charset=utf-8");
  });
  svr.Get("/v1/models", [&c](const httplib::Request&, httplib::Response& res) {
    if (!ready(c, res, false)) return;
    nlohmann::json m = {{"id", c.model_id},
                        {"object", "model"},
                        {"created", static_cast<int64_t>(std::time(nullptr))},
                        {"owned_by", "autoglm"},
                        {"meta",
                         {{"architecture", c.engine->model_name()},
                          {"n_ctx", c.engine->options().n_ctx},
                          {"n_vocab", c.engine->n_vocab()}}}};
    send_json(res, 200, {{"object", "list"}, {"data", nlohmann::json::array({m})}});
  });
  svr.Post("/tokenize", [&c](const httplib::Request& req, httplib::Response& res) {
    if (ready(c, res, false)) handle_tokenize(c, req, res);
  });
  svr.Post("/detokenize", [&c](const httplib::Request& req, httplib::Response& res) {
    if (ready(c, res, false)) handle_detokenize(c, req, res);
  });
  svr.Post("/v1/completions", [&c](const httplib::Request& req, httplib::Response& res) {
    if (ready(c, res, true)) handle_completion(c, req, res, false);
  });
  svr.Post("/v1/chat/completions", [&c](const httplib::Request& req, httplib::Response& res) {
    if (ready(c, res, true)) handle_completion(c, req, res, true);
  });
}

HttpServer::HttpServer(ServerOptions opts) : impl_(std::make_unique<Impl>()) { impl_->ctx.opts = std::move(opts); }

// httplib's stop() does nothing until its listen loop has started, and a shutdown right after
// start() (a model that fails at once) can come first: repeat it until the loop has ended.
void HttpServer::Impl::stop_listening() {
  if (!thread.joinable()) return;
  while (running.load()) {
    svr.stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  thread.join();
}

HttpServer::~HttpServer() { impl_->stop_listening(); }

Status HttpServer::start() {
  Impl& im = *impl_;
  im.routes();
  const auto& o = im.ctx.opts;
  if (o.port < 0 || o.port > 65535) return InvalidArgument("port out of range: " + std::to_string(o.port));
  if (o.port == 0) {
    im.port = im.svr.bind_to_any_port(o.host);
    if (im.port <= 0) return IOError("cannot bind " + o.host + " to a free port");
  } else {
    if (!im.svr.bind_to_port(o.host, o.port)) {
      return IOError("cannot bind " + o.host + ":" + std::to_string(o.port) + " (in use, or not a local address)");
    }
    im.port = o.port;
  }
  im.svr.widen_backlog(1024);
  im.running = true;
  im.thread = std::thread([&im] {
    im.svr.listen_after_bind();
    im.running = false;
  });
  return Status::OK();
}

int HttpServer::port() const { return impl_->port; }

bool HttpServer::running() const { return impl_->running.load(); }

Status HttpServer::load_engine() {
  ServerContext& c = impl_->ctx;
  // The model's own chat template when it has one, else opts.chat_template (built-in ChatML by
  // default): resolved and parsed once, before the (slow) weights, so a request only renders.
  auto tmpl = CompiledChatTemplate::load(c.opts.model_path, c.opts.chat_template);
  if (!tmpl.ok()) return tmpl.status();
  ChatRenderer render = [t = std::move(tmpl).value()](const nlohmann::json& messages) {
    return t.render(dump_json(messages), /*add_generation_prompt=*/true);
  };
  // A template that cannot render a plain exchange is a configuration error: refuse to start.
  const nlohmann::json probe = nlohmann::json::array({{{"role", "user"}, {"content", "hi"}}});
  if (auto r = render(probe); !r.ok()) return r.status();
  auto eng = ServingEngine::create(c.opts.model_path, c.opts.optimization, c.opts.serving);
  if (!eng.ok()) return eng.status();
  // Handlers read these only once state is kReady (set last).
  c.render_chat = std::move(render);
  c.engine = std::move(eng).value();
  c.model_id = std::filesystem::path(c.opts.model_path).stem().string();
  // A shutdown that began while loading keeps its state: the server does not come up.
  ServerState loading = ServerState::kLoading;
  if (!c.state.compare_exchange_strong(loading, ServerState::kReady)) return Unavailable("server: shut down while loading");
  return Status::OK();
}

void HttpServer::shutdown() {
  Impl& im = *impl_;
  ServerContext& c = im.ctx;
  const ServerState prev = c.state.exchange(ServerState::kDraining);
  if (prev == ServerState::kReady && c.engine) c.engine->drain(c.opts.drain_timeout_ms);
  // Streams still have their last events and [DONE] to write.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (c.active_generations.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  c.state = ServerState::kStopped;
  im.stop_listening();
}

}  // namespace autoglm::server
