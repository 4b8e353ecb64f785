// Tree-walking evaluator of a parsed chat template, with the sandbox limits of limits.h. Every
// failure is a Status carrying the template line and column; nothing throws.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "autoglm/status.h"
#include "tokenizer/chat_template/ast.h"
#include "tokenizer/chat_template/limits.h"
#include "tokenizer/chat_template/value.h"

namespace autoglm::tmpl {

// Evaluated arguments of a call, filter, test or method.
struct CallArgs {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;

  // Positional argument i, or keyword `name`, or nullptr.
  const Value* get(size_t i, std::string_view name) const;
};

class Interpreter {
 public:
  Interpreter(const Limits& limits, std::string* out) : limits_(limits), out_(out) {}

  // Renders body with `globals` as the outermost scope.
  Status run(const Body& body, std::unordered_map<std::string, Value> globals);

  // Charges `n` steps (and string work as bytes / 64); fails past max_steps.
  Status charge(uint64_t n);
  Status charge_bytes(uint64_t bytes) { return charge(1 + bytes / 64); }
  // Fails if a string of `bytes` would exceed the output limit.
  Status check_string_size(uint64_t bytes) const;
  const Limits& limits() const { return limits_; }

  Result<Value> call_function(const Value& fn, CallArgs& args);

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  Status exec(const Body& body);
  Status exec_stmt(const Stmt& s);
  Status exec_for(const Stmt& s);
  Status exec_set(const Stmt& s);
  Status emit(const std::string& text);
  Result<Value> eval(const Expr& e);
  Result<Value> eval_call(const Expr& e);
  Result<Value> eval_attr(const Expr& e);
  Result<Value> eval_index(const Expr& e);
  Result<Value> eval_slice(const Expr& e);
  Status eval_args(const Expr& e, size_t first, CallArgs* args);
  Value lookup(const std::string& name) const;
  void assign(const std::string& name, Value v) { scopes_.back()[name] = std::move(v); }
  Value make_macro(const Stmt& s);

  const Limits& limits_;
  std::string* out_;
  std::vector<std::unordered_map<std::string, Value>> scopes_;
  uint64_t steps_ = 0;
  uint32_t call_depth_ = 0;
  Flow flow_ = Flow::kNormal;
};

// Adds file position to an error that has none yet.
Status at_position(const Status& s, int line, int col);

}  // namespace autoglm::tmpl
