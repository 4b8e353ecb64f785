#include "runtime/scheduler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/log.h"

namespace autoglm {
namespace {

using clock = std::chrono::steady_clock;

// Longest suffix of `text` that is a proper prefix of some stop string: held back because the
// next token may complete the stop string.
size_t stop_prefix_len(const std::string& text, const std::vector<std::string>& stops) {
  size_t best = 0;
  for (const std::string& s : stops) {
    for (size_t len = std::min(s.size() - 1, text.size()); len > best; --len) {
      if (text.compare(text.size() - len, len, s, 0, len) == 0) {
        best = len;
        break;
      }
    }
  }
  return best;
}

// The prefix cache is scoped by owner (API key): the chain of block hashes starts from a hash
// of the owner, so one tenant's cached prompt can never be found (or timed) by another.
uint64_t owner_salt(const std::string& owner) {
  std::vector<int32_t> bytes(owner.begin(), owner.end());
  return kv::chain_hash(0x6f776e6572ull, bytes.data(), static_cast<int32_t>(bytes.size()));
}

// Keeps whole UTF-8 characters: never cut the held-back boundary inside one.
size_t utf8_floor(const std::string& s, size_t n) {
  while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace

Result<std::unique_ptr<Scheduler>> Scheduler::create(const std::string& model_path, const OptimizationConfig& opt,
                                                    const ServingOptions& opts) {
  if (opts.n_ctx < 2 || opts.max_running < 1 || opts.max_batch_tokens < 1 || opts.max_queue < 0 ||
      opts.max_tokens_cap < 1 || opts.max_n < 1 || opts.kv_tokens < 0) {
    return InvalidArgument("serving options out of range");
  }
  std::unique_ptr<Scheduler> s(new Scheduler());
  s->opts_ = opts;
  AG_ASSIGN_OR_RETURN(EngineOptions eo, engine_options_from(opt));
  eo.n_ctx = opts.n_ctx;
  const int64_t kv = opts.kv_tokens > 0 ? opts.kv_tokens : int64_t{opts.n_ctx} * opts.max_running;
  eo.kv_tokens = static_cast<int32_t>(std::clamp<int64_t>(kv, opts.n_ctx, int64_t{1} << 24));
  AG_ASSIGN_OR_RETURN(s->engine_, Engine::load(model_path, eo));
  s->local_.kv_blocks_total = s->engine_->kv_cache().pool().n_total();
  s->stats_ = s->local_;
  s->thread_ = std::thread([p = s.get()] { p->loop(); });
  return s;
}

Scheduler::~Scheduler() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  const Status gone = Unavailable("the server is shutting down");
  for (auto& s : inbox_) fail(*s, gone);
  for (auto& s : waiting_) fail(*s, gone);
  for (auto& s : running_) fail(*s, gone);
}

Result<uint64_t> Scheduler::submit(CompletionRequest req, EventSink sink) {
  const int32_t n_vocab = engine_->model().hparams().n_vocab;
  if (req.prompt.empty()) return InvalidArgument("the prompt is empty");
  if (static_cast<int64_t>(req.prompt.size()) >= opts_.n_ctx) {
    return InvalidArgument("the prompt has " + std::to_string(req.prompt.size()) +
                           " tokens, but the context holds " + std::to_string(opts_.n_ctx) +
                           " (prompt + at least one generated token)");
  }
  for (int32_t t : req.prompt) {
    if (t < 0 || t >= n_vocab) {
      return InvalidArgument("token id " + std::to_string(t) + " is outside the vocabulary (0.." +
                             std::to_string(n_vocab - 1) + ")");
    }
  }
  if (req.max_tokens < 1 || req.max_tokens > opts_.max_tokens_cap) {
    return InvalidArgument("max_tokens must be in [1, " + std::to_string(opts_.max_tokens_cap) + "], got " +
                           std::to_string(req.max_tokens));
  }
  for (const auto& [tok, bias] : req.logit_bias) {
    if (tok < 0 || tok >= n_vocab) return InvalidArgument("logit_bias token " + std::to_string(tok) + " is outside the vocabulary");
    if (!std::isfinite(bias)) return InvalidArgument("logit_bias values must be finite");
  }
  for (float x : {req.presence_penalty, req.frequency_penalty}) {
    if (!std::isfinite(x) || x < -2.0f || x > 2.0f) return InvalidArgument("presence/frequency penalties must be in [-2, 2]");
  }
  if (req.top_logprobs > 20) return InvalidArgument("top_logprobs must be at most 20");
  for (const std::string& s : req.stop) {
    if (s.empty()) return InvalidArgument("stop strings must not be empty");
  }
  SamplingParams sp;
  sp.temperature = req.temperature;
  sp.top_k = req.top_k;
  sp.top_p = req.top_p;
  sp.min_p = req.min_p;
  sp.repeat_penalty = req.repetition_penalty;
  sp.repeat_last_n = 64;
  sp.seed = req.seed;
  AG_RETURN_IF_ERROR(sp.validate());

  auto s = std::make_unique<Sequence>();
  s->req = std::move(req);
  s->sink = std::move(sink);
  s->tokens = s->req.prompt;
  s->n_prompt = static_cast<int32_t>(s->tokens.size());
  s->sampler = std::make_unique<Sampler>(sp);
  for (TokenId t : s->tokens) s->sampler->accept(t);
  s->decoder = std::make_unique<StreamDecoder>(engine_->tokenizer());
  for (TokenId t : s->tokens) s->decoder->push(t);
  (void)s->decoder->flush();

  std::lock_guard<std::mutex> lock(mu_);
  if (draining_ || stop_) return Unavailable("the server is draining");
  if (!stats_.healthy) return Unavailable("the engine has failed");
  if (queued_ >= opts_.max_queue) {
    ++stats_.requests_rejected;
    return ResourceExhausted("the request queue is full (" + std::to_string(opts_.max_queue) + " waiting)");
  }
  s->id = next_id_++;
  const uint64_t id = s->id;
  inbox_.push_back(std::move(s));
  ++queued_;
  ++stats_.requests_waiting;
  wake_.notify_one();
  return id;
}

void Scheduler::cancel(uint64_t id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancels_.push_back(id);
  }
  wake_.notify_one();
}

void Scheduler::drain(int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  draining_ = true;
  stats_.draining = true;
  idle_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                 [&] { return stats_.requests_running == 0 && stats_.requests_waiting == 0 && inbox_.empty(); });
}

ServingStats Scheduler::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void Scheduler::take_inbox() {
  std::vector<uint64_t> cancels;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& s : inbox_) waiting_.push_back(std::move(s));
    inbox_.clear();
    cancels.swap(cancels_);
  }
  for (uint64_t id : cancels) {
    for (auto& s : waiting_) if (s->id == id) s->cancelled = true;
    for (auto& s : running_) if (s->id == id) s->cancelled = true;
  }
  // Cancelled requests leave now, so their blocks are free for this very step.
  for (auto* list : {&running_}) {
    for (auto& s : *list) if (s->cancelled) finish(*s, "cancelled");
    list->erase(std::remove_if(list->begin(), list->end(), [](auto& s) { return s->cancelled; }), list->end());
  }
  for (auto& s : waiting_) if (s->cancelled) finish(*s, "cancelled");
  waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(), [](auto& s) { return s->cancelled; }), waiting_.end());
}

void Scheduler::release_kv(Sequence& s) {
  register_blocks(s);  // what it computed stays findable for recompute and for other prompts
  s.kv.release(engine_->kv_cache());
  s.block_hashes.clear();
}

void Scheduler::register_blocks(Sequence& s) {
  if (!opts_.prefix_caching) return;
  kv::KVCache& cache = engine_->kv_cache();
  const int32_t bs = cache.config().block_size;
  const size_t full = static_cast<size_t>(s.n_computed() / bs);
  while (s.block_hashes.size() < full && s.block_hashes.size() < s.kv.blocks().size()) {
    const size_t i = s.block_hashes.size();
    const uint64_t prev = i == 0 ? owner_salt(s.req.owner) : s.block_hashes[i - 1];
    const uint64_t h = kv::chain_hash(prev, s.tokens.data() + i * static_cast<size_t>(bs), bs);
    cache.pool().register_hash(s.kv.blocks()[i], h);
    s.block_hashes.push_back(h);
  }
}

void Scheduler::match_prefix(Sequence& s) {
  if (!opts_.prefix_caching) return;
  kv::KVCache& cache = engine_->kv_cache();
  const int32_t bs = cache.config().block_size;
  // Leave at least the last token to compute: its logits start generation.
  const int32_t max_blocks = (static_cast<int32_t>(s.tokens.size()) - 1) / bs;
  uint64_t h = owner_salt(s.req.owner);
  for (int32_t i = 0; i < max_blocks; ++i) {
    h = kv::chain_hash(h, s.tokens.data() + static_cast<size_t>(i) * bs, bs);
    auto b = cache.pool().acquire_cached(h);
    if (!b) break;
    s.kv.adopt(*b);
    s.block_hashes.push_back(h);
  }
  s.kv.set_n_cached(static_cast<int32_t>(s.kv.blocks().size()) * bs);
}

void Scheduler::resume_session(Sequence& s) {
  auto it = sessions_.find(session_key(s.req));
  if (it == sessions_.end()) return;
  std::unique_ptr<Sequence> old = std::move(it->second.seq);
  sessions_.erase(it);
  kv::KVCache& cache = engine_->kv_cache();
  const int32_t bs = cache.config().block_size;
  int32_t common = 0;
  const int32_t limit = std::min<int32_t>(old->n_computed(), static_cast<int32_t>(s.tokens.size()) - 1);
  while (common < limit && old->tokens[static_cast<size_t>(common)] == s.tokens[static_cast<size_t>(common)]) ++common;
  if (common % bs != 0) {
    // The block where the two diverge will be overwritten from `common` on: only allowed when
    // no one else can see it (not shared, not in the prefix cache).
    const int32_t b = old->kv.blocks()[static_cast<size_t>(common / bs)];
    if (cache.pool().ref_count(b) > 1 || cache.pool().has_hash(b)) common = common / bs * bs;
  }
  old->kv.truncate(cache, common);
  old->kv.set_n_cached(common);
  s.kv.release(cache);  // nothing yet, but keep the invariant obvious
  // Take over the block table.
  for (int32_t b : old->kv.blocks()) {
    cache.pool().retain(b);
    s.kv.adopt(b);
  }
  s.kv.set_n_cached(common);
  const size_t full = static_cast<size_t>(common / bs);
  s.block_hashes.assign(old->block_hashes.begin(), old->block_hashes.begin() + std::min(full, old->block_hashes.size()));
  old->kv.release(cache);
}

bool Scheduler::evict_one_session() {
  if (sessions_.empty()) return false;
  auto oldest = sessions_.begin();
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (it->second.last_used < oldest->second.last_used) oldest = it;
  }
  release_kv(*oldest->second.seq);
  sessions_.erase(oldest);
  return true;
}

void Scheduler::expire_sessions() {
  const auto now = clock::now();
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (now - it->second.last_used > std::chrono::seconds(opts_.session_ttl_seconds)) {
      release_kv(*it->second.seq);
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  while (static_cast<int32_t>(sessions_.size()) > opts_.max_sessions) evict_one_session();
}

void Scheduler::admit() {
  kv::KVCache& cache = engine_->kv_cache();
  const int32_t bs = cache.config().block_size;
  while (!waiting_.empty() && static_cast<int32_t>(running_.size()) < opts_.max_running) {
    Sequence& s = *waiting_.front();
    if (!s.admitted_once && !s.req.session_id.empty()) resume_session(s);
    if (s.kv.blocks().empty()) match_prefix(s);
    const int32_t need_blocks =
        (static_cast<int32_t>(s.tokens.size()) + 1 + bs - 1) / bs - static_cast<int32_t>(s.kv.blocks().size());
    // Keep one spare block per running sequence so admission does not immediately preempt.
    while (cache.pool().n_free() - need_blocks < static_cast<int32_t>(running_.size()) && evict_one_session()) {
    }
    if (cache.pool().n_free() - need_blocks < static_cast<int32_t>(running_.size()) && !running_.empty()) break;
    if (!s.admitted_once) {
      s.cached_prompt = std::min(s.n_computed(), s.n_prompt);
      s.admitted_once = true;
      local_.prompt_tokens += s.n_prompt;
      local_.prompt_tokens_cached += s.cached_prompt;
    }
    running_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }
}

void Scheduler::preempt(Sequence& victim) {
  release_kv(victim);
  ++local_.preemptions;
  AG_LOG(kInfo, "preempted request %llu (%d tokens) for lack of KV blocks", static_cast<unsigned long long>(victim.id),
         static_cast<int>(victim.tokens.size()));
  for (size_t i = 0; i < running_.size(); ++i) {
    if (running_[i].get() == &victim) {
      waiting_.push_front(std::move(running_[i]));
      running_.erase(running_.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
  }
}

// Grows s's block table to hold `positions`; when the pool is empty, evicts idle sessions,
// then preempts the youngest other running sequence. False if s itself had to go.
bool Scheduler::reserve_or_preempt(Sequence& s, int32_t positions) {
  kv::KVCache& cache = engine_->kv_cache();
  for (;;) {
    if (s.kv.reserve(cache, positions).ok()) return true;
    if (evict_one_session()) continue;
    Sequence* youngest = nullptr;
    for (auto& r : running_) {
      if (r.get() != &s && (youngest == nullptr || r->id > youngest->id)) youngest = r.get();
    }
    if (youngest == nullptr || youngest->id < s.id) {
      preempt(s);
      return false;
    }
    preempt(*youngest);
  }
}

void Scheduler::run_step() {
  int32_t budget = opts_.max_batch_tokens;
  std::vector<Engine::SeqChunk> chunks;
  std::vector<Sequence*> owners;
  // Decode first (one token each), then prefill chunks with what the budget leaves.
  for (int pass = 0; pass < 2 && budget > 0; ++pass) {
    std::vector<Sequence*> order;
    for (auto& r : running_) {
      if ((pass == 0) == (r->pending() == 1)) order.push_back(r.get());
    }
    std::sort(order.begin(), order.end(), [](Sequence* a, Sequence* b) { return a->id < b->id; });
    for (Sequence* s : order) {
      if (budget <= 0) break;
      if (std::find(owners.begin(), owners.end(), s) != owners.end()) continue;
      // An earlier reservation in this step may have preempted s.
      if (std::none_of(running_.begin(), running_.end(), [&](auto& r) { return r.get() == s; })) continue;
      const int32_t take = std::min(s->pending(), budget);
      if (!reserve_or_preempt(*s, s->n_computed() + take)) continue;
      // A preemption may have taken a sequence already in this batch: drop its chunk.
      for (size_t i = 0; i < owners.size();) {
        const bool alive = std::any_of(running_.begin(), running_.end(), [&](auto& r) { return r.get() == owners[i]; });
        if (alive) {
          ++i;
          continue;
        }
        budget += chunks[i].n;
        chunks.erase(chunks.begin() + static_cast<std::ptrdiff_t>(i));
        owners.erase(owners.begin() + static_cast<std::ptrdiff_t>(i));
      }
      chunks.push_back({&s->kv, s->tokens.data() + s->n_computed(), take, s->n_computed(), take == s->pending()});
      owners.push_back(s);
      budget -= take;
    }
  }
  if (chunks.empty()) return;
  auto result = engine_->step(chunks);
  ++local_.steps;
  if (!result.ok()) {
    AG_LOG(kError, "engine step failed: %s", result.status().to_string().c_str());
    if (result.status().code() == StatusCode::kInternal) local_.healthy = false;
    for (Sequence* s : owners) {
      fail(*s, result.status());
      s->cancelled = true;
    }
    running_.erase(std::remove_if(running_.begin(), running_.end(), [](auto& r) { return r->cancelled; }), running_.end());
    return;
  }
  // Picking a token touches only its own sequence (sampler, counts, logits row) and costs a pass
  // over the vocabulary, so the step's picks run across the engine's pool; the events then go out
  // in sequence order on this thread.
  std::vector<Sequence*> pickers;
  for (size_t i = 0; i < owners.size(); ++i) {
    if (chunks[i].want_logits) pickers.push_back(owners[i]);
  }
  std::vector<CompletionEvent> picks(pickers.size());
  engine_->pool().parallel_for(static_cast<int64_t>(pickers.size()), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) picks[size_t(i)] = choose_token(*pickers[size_t(i)], result->row(i), result->n_vocab());
  });
  for (Sequence* s : owners) register_blocks(*s);
  // Published before the events go out as well as after the step: a client holding a token must
  // not read stats that do not yet count its request as running or its KV blocks as used.
  publish_stats();
  for (size_t i = 0; i < pickers.size(); ++i) after_logits(*pickers[i], std::move(picks[i]));
  running_.erase(std::remove_if(running_.begin(), running_.end(), [](auto& r) { return r->cancelled; }), running_.end());
}

CompletionEvent Scheduler::choose_token(Sequence& s, float* logits, int32_t n_vocab) const {
  const CompletionRequest& r = s.req;
  for (const auto& [tok, bias] : r.logit_bias) logits[static_cast<size_t>(tok)] += bias;
  if (r.presence_penalty != 0.0f || r.frequency_penalty != 0.0f) {
    for (const auto& [tok, count] : s.counts) {
      logits[static_cast<size_t>(tok)] -= r.presence_penalty + r.frequency_penalty * static_cast<float>(count);
    }
  }
  const TokenId eos = engine_->tokenizer().vocab().eos;
  if (r.ignore_eos && eos >= 0) logits[static_cast<size_t>(eos)] = -std::numeric_limits<float>::infinity();

  const TokenId next = s.sampler->sample(logits, n_vocab);
  CompletionEvent ev;
  ev.kind = CompletionEvent::Kind::kToken;
  ev.token = next;
  if (r.top_logprobs >= 0) {
    float mx = -std::numeric_limits<float>::infinity();
    for (int32_t i = 0; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
    double sum = 0;
    for (int32_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i] - mx));
    const float lse = mx + static_cast<float>(std::log(sum));
    ev.logprob = logits[next] - lse;
    std::vector<int32_t> idx(static_cast<size_t>(n_vocab));
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int32_t>(i);
    const size_t k = std::min<size_t>(static_cast<size_t>(r.top_logprobs), idx.size());
    std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(),
                      [&](int32_t a, int32_t b) { return logits[size_t(a)] > logits[size_t(b)] || (logits[size_t(a)] == logits[size_t(b)] && a < b); });
    for (size_t i = 0; i < k; ++i) {
      ev.top_logprobs.push_back({idx[i], engine_->tokenizer().token_to_piece(idx[i]), logits[size_t(idx[i])] - lse});
    }
  }
  return ev;
}

void Scheduler::after_logits(Sequence& s, CompletionEvent ev) {
  const CompletionRequest& r = s.req;
  const TokenId next = ev.token;
  const TokenId eos = engine_->tokenizer().vocab().eos;
  if (next == eos && !r.ignore_eos) {
    finish(s, "stop");
    return;
  }
  s.sampler->accept(next);
  s.tokens.push_back(next);
  ++s.n_generated;
  ++s.counts[next];
  ++local_.generated_tokens;
  s.held += s.decoder->push(next);

  bool stopped = false;
  if (!r.stop.empty()) {
    size_t cut = std::string::npos;
    for (const std::string& st : r.stop) cut = std::min(cut, s.held.find(st));
    if (cut != std::string::npos) {
      s.held.resize(cut);
      stopped = true;
    }
  }
  const size_t keep = stopped ? 0 : utf8_floor(s.held, s.held.size() - stop_prefix_len(s.held, r.stop));
  ev.text = stopped ? s.held : s.held.substr(0, keep);
  s.held.erase(0, stopped ? s.held.size() : keep);
  if (s.sink) s.sink(ev);
  if (stopped) {
    finish(s, "stop", /*emit_tail=*/false);
  } else if (s.n_generated >= r.max_tokens || static_cast<int32_t>(s.tokens.size()) >= opts_.n_ctx) {
    finish(s, "length");
  }
}

void Scheduler::finish(Sequence& s, const std::string& reason, bool emit_tail) {
  // Text held back for a stop string that never completed, plus an unfinished character.
  if (emit_tail && reason != "cancelled") s.held += s.decoder->flush();
  if (emit_tail && reason != "cancelled" && !s.held.empty()) {
    CompletionEvent tail;
    tail.kind = CompletionEvent::Kind::kToken;
    tail.token = -1;
    tail.text = s.held;
    if (s.sink) s.sink(tail);
  }
  s.held.clear();
  CompletionEvent done;
  done.kind = CompletionEvent::Kind::kDone;
  done.finish_reason = reason;
  done.prompt_tokens = s.n_prompt;
  done.cached_prompt_tokens = s.cached_prompt;
  done.completion_tokens = s.n_generated;
  if (s.sink) s.sink(done);
  if (reason == "cancelled") {
    ++local_.requests_cancelled;
  } else {
    ++local_.requests_finished;
  }
  s.cancelled = true;  // marks it for removal from running_
  if (!s.req.session_id.empty() && reason != "cancelled" && s.admitted_once) {
    // Keep the KV for the next turn. The last sampled token has no KV yet: drop it from the
    // session's tokens so they describe exactly what the cache holds.
    register_blocks(s);
    auto keep = std::make_unique<Sequence>();
    keep->tokens.assign(s.tokens.begin(), s.tokens.begin() + s.n_computed());
    for (int32_t b : s.kv.blocks()) {
      engine_->kv_cache().pool().retain(b);
      keep->kv.adopt(b);
    }
    keep->kv.set_n_cached(s.n_computed());
    keep->block_hashes = s.block_hashes;
    const std::string key = session_key(s.req);
    if (auto it = sessions_.find(key); it != sessions_.end()) release_kv(*it->second.seq);
    sessions_[key] = Session{std::move(keep), clock::now()};
  }
  release_kv(s);
}

void Scheduler::fail(Sequence& s, const Status& st) {
  CompletionEvent ev;
  ev.kind = CompletionEvent::Kind::kError;
  ev.error = st;
  ev.prompt_tokens = s.n_prompt;
  ev.completion_tokens = s.n_generated;
  if (s.sink) s.sink(ev);
  ++local_.requests_failed;
  if (engine_) s.kv.release(engine_->kv_cache());
}

void Scheduler::publish_stats() {
  const kv::BlockPool& pool = engine_->kv_cache().pool();
  std::lock_guard<std::mutex> lock(mu_);
  // The engine thread's counters, plus what other threads count under the lock.
  const int64_t rejected = stats_.requests_rejected;
  const bool healthy = stats_.healthy && local_.healthy, draining = stats_.draining;
  stats_ = local_;
  stats_.requests_rejected = rejected;
  stats_.healthy = healthy;
  stats_.draining = draining;
  queued_ = static_cast<int64_t>(inbox_.size() + waiting_.size());
  stats_.requests_waiting = queued_;
  stats_.requests_running = static_cast<int64_t>(running_.size());
  stats_.kv_blocks_total = pool.n_total();
  stats_.kv_blocks_used = pool.n_used();
  stats_.kv_blocks_cached = pool.n_cached();
  stats_.sessions = static_cast<int64_t>(sessions_.size());
  if (stats_.requests_running == 0 && stats_.requests_waiting == 0) idle_.notify_all();
}

void Scheduler::loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, std::chrono::seconds(1), [&] {
        return stop_ || !inbox_.empty() || !cancels_.empty() || !waiting_.empty() || !running_.empty();
      });
      if (stop_) return;
    }
    take_inbox();
    expire_sessions();
    admit();
    run_step();
    publish_stats();
  }
}

}  // namespace autoglm
