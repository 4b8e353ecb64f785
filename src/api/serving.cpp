#include "autoglm/serving.h"

#include "runtime/scheduler.h"

namespace autoglm {

Result<std::unique_ptr<ServingEngine>> ServingEngine::create(const std::string& model_path,
                                                            const OptimizationConfig& opt,
                                                            const ServingOptions& opts) {
  std::unique_ptr<ServingEngine> e(new ServingEngine());
  AG_ASSIGN_OR_RETURN(e->sched_, Scheduler::create(model_path, opt, opts));
  return e;
}

ServingEngine::~ServingEngine() = default;

Result<uint64_t> ServingEngine::submit(CompletionRequest req, EventSink sink) {
  return sched_->submit(std::move(req), std::move(sink));
}
void ServingEngine::cancel(uint64_t id) { sched_->cancel(id); }
void ServingEngine::drain(int timeout_ms) { sched_->drain(timeout_ms); }
ServingStats ServingEngine::stats() const { return sched_->stats(); }

std::vector<int32_t> ServingEngine::tokenize(std::string_view text, bool add_special, bool parse_special) const {
  return sched_->engine().tokenizer().encode(text, add_special, parse_special);
}
std::string ServingEngine::detokenize(const std::vector<int32_t>& ids) const {
  return sched_->engine().tokenizer().decode(ids);
}
std::string ServingEngine::token_text(int32_t id) const {
  if (id < 0 || id >= n_vocab()) return {};
  return sched_->engine().tokenizer().token_to_piece(id);
}
int32_t ServingEngine::n_vocab() const { return sched_->engine().model().hparams().n_vocab; }
int32_t ServingEngine::bos_token() const { return sched_->engine().tokenizer().vocab().bos; }
int32_t ServingEngine::eos_token() const { return sched_->engine().tokenizer().vocab().eos; }
std::string ServingEngine::model_name() const { return sched_->engine().model().hparams().arch; }
const ServingOptions& ServingEngine::options() const { return sched_->options(); }

}  // namespace autoglm
