// autoglm serve: the OpenAI-compatible HTTP server. SIGTERM/SIGINT drain in-flight requests, then exit 0
// (while the model is still loading, they stop the server at once).
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <sstream>
#include <thread>

#include "args.h"
#include "commands.h"
#include "http_server.h"

namespace autoglm::cli {
namespace {

// Takes SIGTERM/SIGINT (blocked in every thread) while keep_waiting() holds, polling it every
// 50 ms; returns the signal, or 0 once keep_waiting() turned false.
template <class Pred>
int wait_for_signal(const sigset_t& sigs, Pred keep_waiting) {
  while (keep_waiting()) {
    timespec ts{0, 50 * 1000 * 1000};
    const int sig = sigtimedwait(&sigs, nullptr, &ts);
    if (sig > 0) return sig;
  }
  return 0;
}

constexpr const char* kHelp =
    "usage: autoglm serve --model PATH [options]\n"
    "\n"
    "  --model PATH          GGUF model file\n"
    "  --host HOST           address to listen on (default 127.0.0.1)\n"
    "  --port N              port (default 8080; 0 = any free port, printed on stderr)\n"
    "  --parallel N          sequences decoded together (default 16)\n"
    "  --ctx-size N          context per sequence in tokens (default 2048)\n"
    "  --kv-tokens N         KV cache capacity in tokens over all sequences (default ctx-size * parallel)\n"
    "  --batch-tokens N      token budget of one engine step (default 512)\n"
    "  --max-queue N         waiting requests beyond this get 429 (default 256)\n"
    "  --max-tokens-cap N    largest max_tokens a request may ask for (default 4096)\n"
    "  --max-n N             largest n (choices) a request may ask for (default 8)\n"
    "  --max-body-bytes N    larger request bodies get 413 (default 4194304)\n"
    "  --http-threads N      HTTP worker threads, one per open connection (default 512)\n"
    "  --api-key KEY         require 'Authorization: Bearer KEY' (comma-separate several keys)\n"
    "  --cors ORIGIN         send CORS headers allowing ORIGIN ('*' for any); off by default\n"
    "  --chat-template T     template for models without one: chatml (default), llama3, gemma, phi3, glm4,\n"
    "                        a file, or template text\n"
    "  --threads N           compute threads (default: all cores)\n"
    "  --kv-type T           KV cache type: f16 (default), f32 or int8\n"
    "  --no-prefix-cache     do not reuse KV blocks of identical prompt prefixes\n"
    "  --drain-timeout-ms N  how long SIGTERM waits for running requests (default 60000)\n";

bool in_range(const std::optional<int64_t>& v, int64_t lo, int64_t hi) { return !v || (*v >= lo && *v <= hi); }

}  // namespace

int cmd_serve(int argc, char** argv) {
  Args args;
  if (!args.parse(argc, argv,
                  {"--model", "--host", "--port", "--parallel", "--ctx-size", "--kv-tokens", "--batch-tokens",
                   "--max-queue", "--max-tokens-cap", "--max-n", "--max-body-bytes", "--http-threads", "--api-key",
                   "--cors", "--threads", "--kv-type", "--drain-timeout-ms", "--chat-template"},
                  {"--no-prefix-cache", "--help", "-h"})) {
    std::fprintf(stderr, "autoglm serve: %s\n", args.error().c_str());
    return 2;
  }
  if (args.has("--help") || args.has("-h")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (!args.get("--model") || !args.positional().empty()) {
    std::fprintf(stderr, "autoglm serve: %s\n%s", args.get("--model") ? "unexpected argument" : "--model is required",
                 kHelp);
    return 2;
  }
  server::ServerOptions o;
  o.model_path = *args.get("--model");
  if (auto v = args.get("--host")) o.host = *v;
  if (auto v = args.get("--cors")) o.cors_origin = *v;
  if (auto v = args.get("--chat-template")) o.chat_template = *v;
  if (auto v = args.get("--api-key")) {
    std::stringstream ss(*v);
    for (std::string k; std::getline(ss, k, ',');) {
      if (!k.empty()) o.api_keys.push_back(k);
    }
  }
  if (auto v = args.get("--kv-type")) o.optimization.set_kv_cache_type(*v);
  o.serving.prefix_caching = !args.has("--no-prefix-cache");
  struct IntOpt {
    const char* name;
    int64_t lo, hi;
    int64_t* out;
  };
  int64_t port = o.port, parallel = o.serving.max_running, ctx = o.serving.n_ctx, kv = o.serving.kv_tokens,
          batch = o.serving.max_batch_tokens, queue = o.serving.max_queue, cap = o.serving.max_tokens_cap,
          max_n = o.serving.max_n, body = static_cast<int64_t>(o.max_body_bytes), http = o.http_threads, threads = 0,
          drain = o.drain_timeout_ms;
  const IntOpt int_opts[] = {
      {"--port", 0, 65535, &port},          {"--parallel", 1, 1024, &parallel},
      {"--ctx-size", 8, 1 << 20, &ctx},     {"--kv-tokens", 0, 1 << 26, &kv},
      {"--batch-tokens", 1, 1 << 16, &batch}, {"--max-queue", 0, 1 << 20, &queue},
      {"--max-tokens-cap", 1, 1 << 20, &cap}, {"--max-n", 1, 128, &max_n},
      {"--max-body-bytes", 1024, int64_t{1} << 32, &body}, {"--http-threads", 8, 4096, &http},
      {"--threads", 0, 1024, &threads},     {"--drain-timeout-ms", 0, 3600000, &drain},
  };
  for (const auto& io : int_opts) {
    auto v = args.get_int(io.name);
    if (!in_range(v, io.lo, io.hi)) {
      std::fprintf(stderr, "autoglm serve: %s must be between %lld and %lld\n", io.name, static_cast<long long>(io.lo),
                   static_cast<long long>(io.hi));
      return 2;
    }
    if (v) *io.out = *v;
  }
  if (!args.ok()) {
    std::fprintf(stderr, "autoglm serve: %s\n", args.error().c_str());
    return 2;
  }
  o.port = static_cast<int>(port);
  o.serving.max_running = static_cast<int32_t>(parallel);
  o.serving.n_ctx = static_cast<int32_t>(ctx);
  o.serving.kv_tokens = static_cast<int32_t>(kv);
  o.serving.max_batch_tokens = static_cast<int32_t>(batch);
  o.serving.max_queue = static_cast<int32_t>(queue);
  o.serving.max_tokens_cap = static_cast<int32_t>(cap);
  o.serving.max_n = static_cast<int32_t>(max_n);
  o.max_body_bytes = static_cast<size_t>(body);
  o.http_threads = static_cast<int>(http);
  o.drain_timeout_ms = static_cast<int>(drain);
  o.optimization.set_threads(static_cast<int>(threads));
  o.optimization.set_context_size(static_cast<int>(ctx));

  // Every thread started from here on inherits the blocked signals; this thread takes them with
  // sigtimedwait, so shutdown runs in ordinary code, not in a signal handler.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that went away is a failed write, not the end of the server

  server::HttpServer srv(o);
  if (Status s = srv.start(); !s.ok()) {
    std::fprintf(stderr, "autoglm serve: %s\n", s.to_string().c_str());
    return 1;
  }
  std::fprintf(stderr, "autoglm serve: listening on http://%s:%d (loading %s)\n", o.host.c_str(), srv.port(),
               o.model_path.c_str());
  // The model loads on its own thread so that this one keeps answering signals: a SIGTERM while
  // loading stops the server at once. Loading cannot be interrupted part-way and nothing has
  // been accepted yet (every model endpoint answered 503 "loading"), so the process ends
  // without waiting for it.
  std::atomic<bool> loaded{false};
  Status load_status;
  std::thread loader([&] {
    load_status = srv.load_engine();
    loaded = true;
  });
  int sig = wait_for_signal(sigs, [&] { return !loaded.load(); });
  if (sig > 0 && !loaded.load()) {
    std::fprintf(stderr, "autoglm serve: signal %d while loading the model, stopping\n", sig);
    srv.shutdown();
    std::fprintf(stderr, "autoglm serve: stopped\n");
    std::fflush(nullptr);
    std::_Exit(0);
  }
  loader.join();
  if (!load_status.ok()) {
    std::fprintf(stderr, "autoglm serve: %s\n", load_status.to_string().c_str());
    srv.shutdown();
    return 1;
  }
  // A signal taken just as loading finished still drains and stops: it is not waited for again.
  if (sig == 0) {
    std::fprintf(stderr, "autoglm serve: ready on http://%s:%d\n", o.host.c_str(), srv.port());
    sig = wait_for_signal(sigs, [&] { return srv.running(); });
  }
  if (sig > 0) std::fprintf(stderr, "autoglm serve: signal %d, draining\n", sig);
  srv.shutdown();
  std::fprintf(stderr, "autoglm serve: stopped\n");
  return 0;
}

}  // namespace autoglm::cli
