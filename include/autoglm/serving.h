// ServingEngine: many concurrent generation requests over one model, with iteration-level
// continuous batching on a paged KV cache. The HTTP server (server/) is a thin layer over
// this header: it parses JSON, renders templates and tokenizes on its own threads, submits
// typed requests here, and forwards the events it receives.
//
// Threading: submit(), cancel(), stats() and the tokenizer helpers may be called from any
// thread. Event callbacks run on the engine thread: they must be quick and must not call
// back into the engine except cancel().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "autoglm/config.h"
#include "autoglm/status.h"

namespace autoglm {

struct ServingOptions {
  int32_t n_ctx = 2048;              // per-sequence context limit (prompt + generated)
  int32_t kv_tokens = 0;             // KV cache capacity in tokens over all sequences (0: n_ctx * max_running)
  int32_t max_running = 16;          // sequences decoded together (--parallel)
  int32_t max_batch_tokens = 512;    // token budget of one engine step (decode + chunked prefill)
  int32_t max_queue = 256;           // waiting requests beyond this are rejected (ResourceExhausted -> 429)
  int32_t max_tokens_cap = 4096;     // upper bound on a request's max_tokens
  int32_t max_n = 8;                 // upper bound on choices per request
  bool prefix_caching = true;        // reuse KV blocks of identical prompt prefixes
  int32_t session_ttl_seconds = 600; // idle sessions are dropped after this
  int32_t max_sessions = 256;        // least recently used sessions are dropped beyond this
};

struct CompletionRequest {
  std::vector<int32_t> prompt;       // token ids (already tokenized, BOS included if wanted)
  int32_t max_tokens = 128;
  float temperature = 1.0f;
  float top_p = 1.0f;
  int32_t top_k = 0;
  float min_p = 0.0f;
  float repetition_penalty = 1.0f;
  float presence_penalty = 0.0f;     // OpenAI semantics: -= presence * [count > 0]
  float frequency_penalty = 0.0f;    //                   -= frequency * count
  std::map<int32_t, float> logit_bias;
  std::vector<std::string> stop;     // stop strings (not included in the output)
  bool ignore_eos = false;
  uint64_t seed = 0;                 // same seed, same text, whatever else is in the batch
  int32_t top_logprobs = -1;         // -1: no logprobs; 0..20: chosen token's logprob + that many alternatives
  // Multi-turn: the KV of this session's previous turns is kept, so a prompt that extends the
  // previous prompt + reply only prefills the new tokens. Sessions are scoped by `owner`
  // (the API key): the same id under another owner is another session.
  std::string session_id;
  std::string owner;
};

struct TokenLogprob {
  int32_t token = 0;
  std::string text;
  float logprob = 0;
};

struct CompletionEvent {
  enum class Kind { kToken, kDone, kError } kind = Kind::kToken;
  // kToken: the text this token completes (may be empty while UTF-8 or a stop string is pending).
  // token == -1 marks a text-only event: text held back until the end (no stop string matched).
  std::string text;
  int32_t token = -1;
  float logprob = 0;                       // when requested
  std::vector<TokenLogprob> top_logprobs;  // when requested
  // kDone: why generation ended ("stop": EOS or a stop string, "length": max_tokens or context,
  // "cancelled") and token counts.
  std::string finish_reason;
  int32_t prompt_tokens = 0;
  int32_t cached_prompt_tokens = 0;  // prompt tokens whose KV was reused (prefix cache/session)
  int32_t completion_tokens = 0;
  // kError
  Status error;
};

using EventSink = std::function<void(const CompletionEvent&)>;

struct ServingStats {
  int64_t requests_waiting = 0, requests_running = 0;
  int64_t requests_finished = 0, requests_cancelled = 0, requests_rejected = 0, requests_failed = 0;
  int64_t prompt_tokens = 0, prompt_tokens_cached = 0, generated_tokens = 0, preemptions = 0;
  int64_t kv_blocks_total = 0, kv_blocks_used = 0, kv_blocks_cached = 0;
  int64_t sessions = 0, steps = 0;
  bool healthy = true;      // false once the engine loop failed
  bool draining = false;
};

class Engine;
class Scheduler;

class ServingEngine {
 public:
  static Result<std::unique_ptr<ServingEngine>> create(const std::string& model_path, const OptimizationConfig& opt,
                                                      const ServingOptions& opts);
  ~ServingEngine();  // stops the engine thread; unfinished requests get kError

  // Queues a request; returns its id. InvalidArgument for a bad request (e.g. the prompt does
  // not fit the context: the message has the token counts), ResourceExhausted when the queue
  // is full, Unavailable while draining or after the engine failed.
  Result<uint64_t> submit(CompletionRequest req, EventSink sink);
  // Stops a request; its KV blocks are freed within one engine step; its sink gets kDone
  // with finish_reason "cancelled".
  void cancel(uint64_t id);
  // Stops admitting requests and waits until running ones finish (or timeout_ms passes).
  void drain(int timeout_ms);
  ServingStats stats() const;

  // Tokenizer access for the HTTP layer.
  std::vector<int32_t> tokenize(std::string_view text, bool add_special, bool parse_special) const;
  std::string detokenize(const std::vector<int32_t>& ids) const;
  std::string token_text(int32_t id) const;  // decoded text of one token
  int32_t n_vocab() const;
  int32_t bos_token() const;
  int32_t eos_token() const;
  std::string model_name() const;
  const ServingOptions& options() const;

 private:
  ServingEngine() = default;
  std::unique_ptr<Scheduler> sched_;
};

}  // namespace autoglm
