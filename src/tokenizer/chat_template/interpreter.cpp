#include "tokenizer/chat_template/interpreter.h"

#include "tokenizer/chat_template/builtins.h"
#include "tokenizer/chat_template/lexer.h"
#include "tokenizer/chat_template/text.h"

namespace autoglm::tmpl {

const Value* CallArgs::get(size_t i, std::string_view name) const {
  if (i < pos.size()) return &pos[i];
  for (const auto& [k, v] : kw) {
    if (k == name) return &v;
  }
  return nullptr;
}

Status at_position(const Status& s, int line, int col) {
  if (s.ok() || s.message().rfind("chat template:", 0) == 0) return s;
  return Status(s.code(),
                "chat template: line " + std::to_string(line) + ", column " + std::to_string(col) + ": " + s.message());
}

Status Interpreter::charge(uint64_t n) {
  steps_ += n;
  if (steps_ > limits_.max_steps) {
    return OutOfRange("chat template: evaluation exceeded the limit of " + std::to_string(limits_.max_steps) +
                      " steps");
  }
  return Status::OK();
}

Status Interpreter::check_string_size(uint64_t bytes) const {
  if (bytes > limits_.max_output_bytes) {
    return OutOfRange("chat template: a string or the output would exceed " + std::to_string(limits_.max_output_bytes) +
                      " bytes");
  }
  return Status::OK();
}

Status Interpreter::run(const Body& body, std::unordered_map<std::string, Value> globals) {
  scopes_.clear();
  scopes_.push_back(std::move(globals));
  steps_ = 0;
  call_depth_ = 0;
  flow_ = Flow::kNormal;
  return exec(body);
}

Status Interpreter::emit(const std::string& text) {
  AG_RETURN_IF_ERROR(check_string_size(static_cast<uint64_t>(out_->size()) + text.size()));
  AG_RETURN_IF_ERROR(charge_bytes(text.size()));
  *out_ += text;
  return Status::OK();
}

Status Interpreter::exec(const Body& body) {
  for (const auto& s : body) {
    AG_RETURN_IF_ERROR(exec_stmt(*s));
    if (flow_ != Flow::kNormal) return Status::OK();
  }
  return Status::OK();
}

Status Interpreter::exec_stmt(const Stmt& s) {
  AG_RETURN_IF_ERROR(charge(1));
  switch (s.kind) {
    case Stmt::Kind::kText: return emit(s.text);
    case Stmt::Kind::kOutput: {
      AG_ASSIGN_OR_RETURN(Value v, eval(*s.expr));
      return at_position(emit(v.to_str()), s.line, s.col);
    }
    case Stmt::Kind::kIf: {
      for (size_t i = 0; i < s.conditions.size(); ++i) {
        bool take = true;
        if (s.conditions[i]) {
          AG_ASSIGN_OR_RETURN(Value c, eval(*s.conditions[i]));
          take = c.truthy();
        }
        if (take) return exec(s.bodies[i]);
      }
      return Status::OK();
    }
    case Stmt::Kind::kFor: return exec_for(s);
    case Stmt::Kind::kSet: return exec_set(s);
    case Stmt::Kind::kSetBlock: {
      std::string captured;
      std::string* saved = out_;
      out_ = &captured;
      Status st = exec(s.body);
      out_ = saved;
      AG_RETURN_IF_ERROR(st);
      assign(s.targets[0], Value::string(std::move(captured)));
      return Status::OK();
    }
    case Stmt::Kind::kMacro:
      assign(s.macro_name, make_macro(s));
      return Status::OK();
    case Stmt::Kind::kBreak:
    case Stmt::Kind::kContinue:
      flow_ = s.kind == Stmt::Kind::kBreak ? Flow::kBreak : Flow::kContinue;
      return Status::OK();
  }
  return Status::OK();
}

Status Interpreter::exec_set(const Stmt& s) {
  AG_ASSIGN_OR_RETURN(Value v, eval(*s.expr));
  if (!s.target_attr.empty()) {
    Value ns = lookup(s.targets[0]);
    if (!ns.is_object() || !ns.obj().is_namespace) {
      return template_error(s.line, s.col, "cannot assign attribute '" + s.target_attr + "' on '" + s.targets[0] +
                                               "': only namespace() objects are assignable");
    }
    ns.obj_mut().set(s.target_attr, std::move(v));
    return Status::OK();
  }
  if (s.targets.size() == 1) {
    assign(s.targets[0], std::move(v));
    return Status::OK();
  }
  AG_ASSIGN_OR_RETURN(Array items, iterate(v));
  if (items.size() != s.targets.size()) {
    return template_error(s.line, s.col, "cannot unpack " + std::to_string(items.size()) + " values into " +
                                             std::to_string(s.targets.size()) + " names");
  }
  for (size_t i = 0; i < items.size(); ++i) assign(s.targets[i], std::move(items[i]));
  return Status::OK();
}

Status Interpreter::exec_for(const Stmt& s) {
  AG_ASSIGN_OR_RETURN(Value seq, eval(*s.expr));
  if (seq.is_none() || seq.is_number() || seq.is_function()) {
    return template_error(s.line, s.col, std::string("cannot iterate over a value of type ") + seq.type_name());
  }
  AG_ASSIGN_OR_RETURN(Array items, iterate(seq));
  AG_RETURN_IF_ERROR(charge(items.size()));
  scopes_.emplace_back();
  auto bind = [&](const Value& item) -> Status {
    if (s.targets.size() == 1) {
      assign(s.targets[0], item);
      return Status::OK();
    }
    AG_ASSIGN_OR_RETURN(Array parts, iterate(item));
    if (parts.size() != s.targets.size()) {
      return template_error(s.line, s.col, "cannot unpack " + std::to_string(parts.size()) + " values into " +
                                               std::to_string(s.targets.size()) + " loop variables");
    }
    for (size_t k = 0; k < parts.size(); ++k) assign(s.targets[k], parts[k]);
    return Status::OK();
  };
  auto body = [&]() -> Status {
    if (s.filter) {  // the `if` clause filters before loop.* is computed
      Array kept;
      for (const Value& item : items) {
        AG_RETURN_IF_ERROR(bind(item));
        AG_ASSIGN_OR_RETURN(Value keep, eval(*s.filter));
        if (keep.truthy()) kept.push_back(item);
      }
      items = std::move(kept);
    }
    const size_t n = items.size();
    for (size_t i = 0; i < n; ++i) {
      AG_RETURN_IF_ERROR(charge(1));
      AG_RETURN_IF_ERROR(bind(items[i]));
      Object loop;
      loop.items.reserve(9);
      loop.set("index", Value::integer(static_cast<int64_t>(i + 1)));
      loop.set("index0", Value::integer(static_cast<int64_t>(i)));
      loop.set("revindex", Value::integer(static_cast<int64_t>(n - i)));
      loop.set("revindex0", Value::integer(static_cast<int64_t>(n - i - 1)));
      loop.set("first", Value::boolean(i == 0));
      loop.set("last", Value::boolean(i + 1 == n));
      loop.set("length", Value::integer(static_cast<int64_t>(n)));
      loop.set("previtem", i > 0 ? items[i - 1] : Value::undefined("previtem"));
      loop.set("nextitem", i + 1 < n ? items[i + 1] : Value::undefined("nextitem"));
      assign("loop", Value::object(std::move(loop)));
      AG_RETURN_IF_ERROR(exec(s.body));
      if (flow_ == Flow::kBreak) {
        flow_ = Flow::kNormal;
        break;
      }
      flow_ = Flow::kNormal;
    }
    if (n == 0) return exec(s.else_body);
    return Status::OK();
  };
  Status st = body();
  scopes_.pop_back();
  return st;
}

Value Interpreter::lookup(const std::string& name) const {
  for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
    auto f = it->find(name);
    if (f != it->end()) return f->second;
  }
  return Value::undefined(name);
}

Value Interpreter::make_macro(const Stmt& s) {
  const Stmt* def = &s;
  return Value::function(
      [def](Interpreter& in, CallArgs& args) -> Result<Value> {
        if (in.call_depth_ >= in.limits_.max_call_depth) {
          return OutOfRange("chat template: macro '" + def->macro_name + "' exceeded the recursion limit of " +
                            std::to_string(in.limits_.max_call_depth));
        }
        if (args.pos.size() > def->params.size()) {
          return InvalidArgument("macro '" + def->macro_name + "' takes " + std::to_string(def->params.size()) +
                                 " arguments, got " + std::to_string(args.pos.size()));
        }
        std::unordered_map<std::string, Value> frame;
        for (size_t i = 0; i < def->params.size(); ++i) {
          const MacroParam& p = def->params[i];
          if (const Value* v = args.get(i, p.name)) {
            frame[p.name] = *v;
          } else if (p.default_value) {
            AG_ASSIGN_OR_RETURN(frame[p.name], in.eval(*p.default_value));
          } else {
            frame[p.name] = Value::undefined(p.name);
          }
        }
        for (const auto& [k, v] : args.kw) {
          bool known = false;
          for (const auto& p : def->params) known = known || p.name == k;
          if (!known) return InvalidArgument("macro '" + def->macro_name + "' has no parameter '" + k + "'");
        }
        // A macro sees the template's globals and its own arguments, not its caller's locals.
        std::vector<std::unordered_map<std::string, Value>> saved_scopes;
        saved_scopes.swap(in.scopes_);
        in.scopes_.push_back(saved_scopes.front());
        in.scopes_.push_back(std::move(frame));
        std::string captured;
        std::string* saved_out = in.out_;
        in.out_ = &captured;
        ++in.call_depth_;
        Status st = in.exec(def->body);
        --in.call_depth_;
        in.out_ = saved_out;
        in.flow_ = Flow::kNormal;
        // Top-level sets inside the macro stay local to it; restore the caller's scopes.
        in.scopes_.swap(saved_scopes);
        AG_RETURN_IF_ERROR(st);
        return Value::string(std::move(captured));
      },
      s.macro_name);
}

Result<Value> Interpreter::call_function(const Value& fn, CallArgs& args) {
  if (!fn.is_function()) {
    if (fn.is_undefined()) return InvalidArgument("'" + fn.name() + "' is undefined");
    return InvalidArgument(std::string("a value of type ") + fn.type_name() + " is not callable");
  }
  return fn.fn()(*this, args);
}

Status Interpreter::eval_args(const Expr& e, size_t first, CallArgs* args) {
  for (size_t i = first; i < e.args.size(); ++i) {
    AG_ASSIGN_OR_RETURN(Value v, eval(*e.args[i]));
    args->pos.push_back(std::move(v));
  }
  for (const auto& [k, x] : e.kwargs) {
    AG_ASSIGN_OR_RETURN(Value v, eval(*x));
    args->kw.emplace_back(k, std::move(v));
  }
  return Status::OK();
}

Result<Value> Interpreter::eval(const Expr& e) {
  AG_RETURN_IF_ERROR(charge(1));
  switch (e.kind) {
    case Expr::Kind::kLiteral: return e.value;
    case Expr::Kind::kName: return lookup(e.name);
    case Expr::Kind::kList:
    case Expr::Kind::kTuple: {
      Array a;
      a.reserve(e.args.size());
      for (const auto& x : e.args) {
        AG_ASSIGN_OR_RETURN(Value v, eval(*x));
        a.push_back(std::move(v));
      }
      return e.kind == Expr::Kind::kTuple ? Value::tuple(std::move(a)) : Value::array(std::move(a));
    }
    case Expr::Kind::kDict: {
      Object o;
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
        AG_ASSIGN_OR_RETURN(Value k, eval(*e.args[i]));
        AG_ASSIGN_OR_RETURN(Value v, eval(*e.args[i + 1]));
        if (!k.is_string()) return template_error(e.line, e.col, "dict keys must be strings");
        o.set(k.str(), std::move(v));
      }
      return Value::object(std::move(o));
    }
    case Expr::Kind::kAttr: return eval_attr(e);
    case Expr::Kind::kIndex: return eval_index(e);
    case Expr::Kind::kSlice: return eval_slice(e);
    case Expr::Kind::kCall: return eval_call(e);
    case Expr::Kind::kFilter: {
      AG_ASSIGN_OR_RETURN(Value input, eval(*e.args[0]));
      CallArgs args;
      AG_RETURN_IF_ERROR(eval_args(e, 1, &args));
      Result<Value> r = apply_filter(*this, e.name, input, args);
      if (!r.ok()) return at_position(r.status(), e.line, e.col);
      if (r->is_string()) AG_RETURN_IF_ERROR(at_position(check_string_size(r->str().size()), e.line, e.col));
      return r;
    }
    case Expr::Kind::kTest: {
      AG_ASSIGN_OR_RETURN(Value v, eval(*e.args[0]));
      CallArgs args;
      AG_RETURN_IF_ERROR(eval_args(e, 1, &args));
      Result<bool> r = apply_test(*this, e.name, v, args);
      if (!r.ok()) return at_position(r.status(), e.line, e.col);
      return Value::boolean(*r != e.negated);
    }
    case Expr::Kind::kNeg: {
      AG_ASSIGN_OR_RETURN(Value v, eval(*e.args[0]));
      if (v.is_double()) return Value::number(-v.as_double());
      if (v.is_int() || v.is_bool()) {
        if (v.as_int() == INT64_MIN) return template_error(e.line, e.col, "integer overflow");
        return Value::integer(-v.as_int());
      }
      return template_error(e.line, e.col, std::string("bad operand type for unary -: ") + v.type_name());
    }
    case Expr::Kind::kNot: {
      AG_ASSIGN_OR_RETURN(Value v, eval(*e.args[0]));
      return Value::boolean(!v.truthy());
    }
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr: {
      // Python returns the deciding operand, not a bool.
      AG_ASSIGN_OR_RETURN(Value l, eval(*e.args[0]));
      if ((e.kind == Expr::Kind::kAnd) != l.truthy()) return l;
      return eval(*e.args[1]);
    }
    case Expr::Kind::kCond: {
      AG_ASSIGN_OR_RETURN(Value c, eval(*e.args[0]));
      if (c.truthy()) return eval(*e.args[1]);
      if (e.args[2]) return eval(*e.args[2]);
      return Value::undefined();
    }
    case Expr::Kind::kBinary: {
      AG_ASSIGN_OR_RETURN(Value l, eval(*e.args[0]));
      AG_ASSIGN_OR_RETURN(Value r, eval(*e.args[1]));
      Result<Value> v = binary_op(*this, e.name, l, r);
      if (!v.ok()) return at_position(v.status(), e.line, e.col);
      return v;
    }
  }
  return template_error(e.line, e.col, "unknown expression");
}

Result<Value> Interpreter::eval_attr(const Expr& e) {
  AG_ASSIGN_OR_RETURN(Value obj, eval(*e.args[0]));
  if (obj.is_undefined()) {
    return template_error(e.line, e.col, "'" + (obj.name().empty() ? std::string("value") : obj.name()) +
                                             "' is undefined (reading attribute '" + e.name + "')");
  }
  if (obj.is_object()) {
    if (const Value* v = obj.obj().find(e.name)) return *v;
  }
  return Value::undefined(e.name);
}

Result<Value> Interpreter::eval_index(const Expr& e) {
  AG_ASSIGN_OR_RETURN(Value obj, eval(*e.args[0]));
  AG_ASSIGN_OR_RETURN(Value key, eval(*e.args[1]));
  if (obj.is_undefined()) {
    return template_error(e.line, e.col, "'" + (obj.name().empty() ? std::string("value") : obj.name()) +
                                             "' is undefined (subscript)");
  }
  const std::string key_name = key.is_string() ? key.str() : key.to_str();
  if (obj.is_object() && key.is_string()) {
    if (const Value* v = obj.obj().find(key.str())) return *v;
    return Value::undefined(key_name);
  }
  if ((obj.is_array() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t i = key.as_int();
    if (obj.is_array()) {
      const int64_t n = static_cast<int64_t>(obj.arr().size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) return Value::undefined(key_name);
      return obj.arr()[static_cast<size_t>(i)];
    }
    const std::vector<size_t> offs = text::char_offsets(obj.str());
    const int64_t n = static_cast<int64_t>(offs.size()) - 1;
    if (i < 0) i += n;
    if (i < 0 || i >= n) return Value::undefined(key_name);
    const size_t a = offs[static_cast<size_t>(i)];
    return Value::string(obj.str().substr(a, offs[static_cast<size_t>(i) + 1] - a));
  }
  return Value::undefined(key_name);
}

Result<Value> Interpreter::eval_slice(const Expr& e) {
  AG_ASSIGN_OR_RETURN(Value obj, eval(*e.args[0]));
  int64_t bounds[3] = {0, 0, 1};
  bool given[3] = {false, false, false};
  for (int k = 0; k < 3; ++k) {
    if (!e.args[static_cast<size_t>(k) + 1]) continue;
    AG_ASSIGN_OR_RETURN(Value v, eval(*e.args[static_cast<size_t>(k) + 1]));
    if (v.is_none()) continue;
    if (!v.is_int() && !v.is_bool()) return template_error(e.line, e.col, "slice indices must be integers");
    bounds[k] = v.as_int();
    given[k] = true;
  }
  const int64_t step = bounds[2];
  if (step == 0) return template_error(e.line, e.col, "slice step cannot be zero");
  std::vector<size_t> offs;
  int64_t n;
  if (obj.is_array()) {
    n = static_cast<int64_t>(obj.arr().size());
  } else if (obj.is_string()) {
    offs = text::char_offsets(obj.str());
    n = static_cast<int64_t>(offs.size()) - 1;
  } else {
    return template_error(e.line, e.col, std::string("cannot slice a value of type ") + obj.type_name());
  }
  // Python's slice.indices().
  auto clamp = [&](int64_t v, bool has, int64_t dflt) {
    if (!has) return dflt;
    if (v < 0) v = v < -n ? (step < 0 ? -1 : 0) : v + n;
    else if (v >= n) v = step < 0 ? n - 1 : n;
    return v;
  };
  const int64_t start = clamp(bounds[0], given[0], step < 0 ? n - 1 : 0);
  const int64_t stop = clamp(bounds[1], given[1], step < 0 ? -1 : n);
  std::vector<int64_t> idx;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) idx.push_back(i);
  AG_RETURN_IF_ERROR(charge(idx.size()));
  if (obj.is_array()) {
    Array out;
    out.reserve(idx.size());
    for (int64_t i : idx) out.push_back(obj.arr()[static_cast<size_t>(i)]);
    return Value::array(std::move(out));
  }
  std::string out;
  for (int64_t i : idx) {
    const size_t a = offs[static_cast<size_t>(i)];
    out.append(obj.str(), a, offs[static_cast<size_t>(i) + 1] - a);
  }
  return Value::string(std::move(out));
}

Result<Value> Interpreter::eval_call(const Expr& e) {
  const Expr& callee = *e.args[0];
  CallArgs args;
  if (callee.kind == Expr::Kind::kAttr) {
    AG_ASSIGN_OR_RETURN(Value obj, eval(*callee.args[0]));
    if (obj.is_undefined()) {
      return template_error(callee.line, callee.col, "'" + (obj.name().empty() ? std::string("value") : obj.name()) +
                                                         "' is undefined (calling '" + callee.name + "')");
    }
    AG_RETURN_IF_ERROR(eval_args(e, 1, &args));
    bool found = false;
    Result<Value> r = call_method(*this, obj, callee.name, args, &found);
    if (found) {
      if (!r.ok()) return at_position(r.status(), e.line, e.col);
      if (r->is_string()) AG_RETURN_IF_ERROR(at_position(check_string_size(r->str().size()), e.line, e.col));
      return r;
    }
    const Value* member = obj.is_object() ? obj.obj().find(callee.name) : nullptr;
    if (!member || !member->is_function()) {
      return template_error(e.line, e.col, std::string("'") + obj.type_name() + "' object has no method '" +
                                               callee.name + "'");
    }
    Result<Value> m = call_function(*member, args);
    if (!m.ok()) return at_position(m.status(), e.line, e.col);
    return m;
  }
  AG_ASSIGN_OR_RETURN(Value fn, eval(callee));
  AG_RETURN_IF_ERROR(eval_args(e, 1, &args));
  Result<Value> r = call_function(fn, args);
  if (!r.ok()) return at_position(r.status(), e.line, e.col);
  return r;
}

}  // namespace autoglm::tmpl
