// POST /v1/completions and /v1/chat/completions: JSON -> tokens -> ServingEngine -> JSON or SSE.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <optional>
#include <random>

#include "connection.h"
#include "generation.h"
#include "json_body.h"
#include "request_params.h"
#include "responses.h"
#include "server_context.h"

namespace autoglm::server {
namespace {

using std::chrono::milliseconds;

// Accumulates one request's events into per-choice state (HTTP thread only).
struct Collector {
  std::vector<ChoiceState> choices;
  bool logprobs = false;
  const ServingEngine* engine = nullptr;
  std::optional<Status> error;

  // Applies `e`; returns the token's TokenInfo when logprobs are on (for streaming).
  void apply(const ChoiceEvent& e, TokenInfo* info) {
    ChoiceState& c = choices[static_cast<size_t>(e.choice)];
    const CompletionEvent& ev = e.event;
    switch (ev.kind) {
      case CompletionEvent::Kind::kToken:
        c.text += ev.text;
        if (logprobs && ev.token >= 0) {
          TokenInfo t{engine->token_text(ev.token), ev.logprob, ev.top_logprobs};
          if (info) *info = t;
          c.tokens.push_back(std::move(t));
        }
        break;
      case CompletionEvent::Kind::kDone:
        c.finish_reason = ev.finish_reason;
        c.prompt_tokens = ev.prompt_tokens;
        c.cached_tokens = ev.cached_prompt_tokens;
        c.completion_tokens = ev.completion_tokens;
        break;
      case CompletionEvent::Kind::kError:
        c.finish_reason = "error";
        if (!error) error = ev.error;
        break;
    }
  }
};

std::string sse(const nlohmann::json& j) { return "data: " + dump_json(j) + "\n\n"; }

// Everything a streaming response needs after the handler has returned.
struct StreamState {
  std::unique_ptr<Generation> gen;
  Collector col;
  ResponseMeta meta;
  bool include_usage = false;
  std::vector<bool> started;
  std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
  std::unique_ptr<ActiveGuard> active;
};

bool stream_step(StreamState& st, httplib::DataSink& sink) {
  std::string out;
  for (const auto& e : st.gen->next(milliseconds(200))) {
    const auto i = static_cast<size_t>(e.choice);
    TokenInfo info;
    st.col.apply(e, &info);
    const bool first = !st.started[i];
    const auto& ev = e.event;
    if (ev.kind == CompletionEvent::Kind::kToken) {
      if (ev.text.empty() && !st.col.logprobs && !first) continue;
      nlohmann::json lp = st.col.logprobs ? logprobs_json(st.meta.chat, {info}, st.col.choices[i].text.size() -
                                                                                   ev.text.size())
                                          : nlohmann::json(nullptr);
      out += sse(stream_chunk(st.meta, e.choice, ev.text, first, lp, "", st.include_usage));
    } else if (ev.kind == CompletionEvent::Kind::kDone) {
      out += sse(stream_chunk(st.meta, e.choice, "", first, nullptr, ev.finish_reason, st.include_usage));
    } else {
      out += sse(error_from_status(ev.error).to_json());
    }
    st.started[i] = true;
  }
  const auto now = std::chrono::steady_clock::now();
  if (out.empty() && now - st.last_write > std::chrono::seconds(2)) out = ": keep-alive\n\n";  // notices a gone client
  if (!out.empty()) {
    if (!sink.write(out.data(), out.size())) return false;  // client gone: the releaser cancels
    st.last_write = now;
  }
  if (st.gen->finished()) {
    std::string tail;
    if (st.include_usage) tail += sse(usage_chunk(st.meta, st.col.choices));
    tail += "data: [DONE]\n\n";
    if (!sink.write(tail.data(), tail.size())) return false;
    sink.done();
  }
  return true;
}

std::optional<ApiError> prompt_tokens(ServerContext& ctx, const ParsedRequest& p, std::vector<int32_t>* ids) {
  const ServingEngine& eng = *ctx.engine;
  if (p.chat) {
    auto r = tokenize_chat(eng, ctx.render_chat, p.messages);
    if (!r.ok()) return bad_request(r.status().message(), "messages", "invalid_template");
    *ids = std::move(r).value();
  } else if (p.prompt_ids_given) {
    *ids = p.prompt_ids;
  } else {
    *ids = eng.tokenize(p.prompt_text, true, false);  // user text: control-token texts stay text
  }
  if (ids->empty()) return bad_request("the prompt is empty", p.chat ? "messages" : "prompt");
  const int32_t n_ctx = eng.options().n_ctx;
  if (ids->size() >= static_cast<size_t>(n_ctx)) {
    return bad_request("This model's maximum context length is " + std::to_string(n_ctx) + " tokens. However, your " +
                           "prompt has " + std::to_string(ids->size()) + " tokens (at least one must be left to " +
                           "generate).",
                       p.chat ? "messages" : "prompt", "context_length_exceeded");
  }
  return std::nullopt;
}

// For the log and /metrics only: the client is gone (nginx's 499 "client closed request").
ApiError client_closed() {
  ApiError e;
  e.http_status = 499;
  e.code = "client_closed_request";
  e.message = "the client closed the connection before the response was ready";
  return e;
}

ApiError submit_error(ServerContext& ctx, const Status& s) {
  if (ctx.state.load() == ServerState::kDraining || ctx.engine->stats().draining) {
    ApiError e;
    e.http_status = 503;
    e.type = "server_error";
    e.code = "draining";
    e.message = "the server is shutting down";
    return e;
  }
  return error_from_status(s);
}

}  // namespace

void handle_completion(ServerContext& ctx, const httplib::Request& req, httplib::Response& res, bool chat) {
  nlohmann::json body;
  if (auto err = parse_json_object(req.body, &body)) return send_error(res, *err);
  RequestLimits limits;
  limits.max_tokens_cap = ctx.engine->options().max_tokens_cap;
  limits.max_n = ctx.engine->options().max_n;
  limits.n_vocab = ctx.engine->n_vocab();
  limits.default_max_tokens = std::min(ctx.opts.default_max_tokens, limits.max_tokens_cap);
  ParsedRequest p;
  if (auto err = parse_request(body, chat, limits, &p)) return send_error(res, *err);
  std::vector<int32_t> ids;
  if (auto err = prompt_tokens(ctx, p, &ids)) return send_error(res, *err);
  bool return_ids = false;
  if (auto err = read_bool(body, "return_prompt_tokens", &return_ids)) return send_error(res, *err);

  CompletionRequest creq = p.base;
  creq.prompt = ids;
  creq.owner = request_owner(req);
  if (!p.seed_given) creq.seed = std::random_device{}() | (static_cast<uint64_t>(std::random_device{}()) << 32);

  auto active = std::make_unique<ActiveGuard>(&ctx.active_generations);
  auto gen = Generation::start(ctx.engine.get(), &ctx.metrics, creq, p.n);
  if (!gen.ok()) return send_error(res, submit_error(ctx, gen.status()));

  ResponseMeta meta{new_response_id(chat), static_cast<int64_t>(std::time(nullptr)), ctx.model_id, chat};
  Collector col;
  col.choices.resize(static_cast<size_t>(p.n));
  col.logprobs = p.logprobs;
  col.engine = ctx.engine.get();

  if (!p.stream) {
    // Nothing is written until the end, so a client that leaves is noticed by polling its socket:
    // after every batch of events (each engine step yields one) and at least every 50 ms.
    const int sock = current_connection();
    while (!(*gen)->finished()) {
      for (const auto& e : (*gen)->next(milliseconds(50))) col.apply(e, nullptr);
      if (!(*gen)->finished() && peer_hung_up(sock)) {
        (*gen)->cancel();  // its KV blocks go back before the next engine step
        return send_error(res, client_closed());
      }
    }
    if (col.error) return send_error(res, error_from_status(*col.error));
    nlohmann::json out = full_response(meta, col.choices, p.logprobs);
    if (return_ids) out["prompt_token_ids"] = ids;
    return send_json(res, 200, out);
  }

  auto st = std::make_shared<StreamState>();
  st->gen = std::move(gen).value();
  st->col = std::move(col);
  st->meta = meta;
  st->include_usage = p.include_usage;
  st->started.assign(static_cast<size_t>(p.n), false);
  st->active = std::move(active);
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream", [st](size_t, httplib::DataSink& sink) { return stream_step(*st, sink); },
      // Runs when the response is destroyed, finished or not: a client that left is cancelled
      // here, so its KV blocks are freed within one engine step.
      [st](bool) {
        st->gen->cancel();
        st->active.reset();
      });
}

}  // namespace autoglm::server
