// Operators, iteration, tests and global functions of the chat-template language.
#include <cmath>
#include <ctime>

#include "core/checked_math.h"
#include "tokenizer/chat_template/builtins.h"
#include "tokenizer/chat_template/text.h"

namespace autoglm::tmpl {
namespace {

Status type_error(std::string_view op, const Value& a, const Value& b) {
  return InvalidArgument("unsupported operand types for " + std::string(op) + ": " + a.type_name() + " and " +
                         b.type_name());
}

Status undefined_error(const Value& v) {
  return InvalidArgument("'" + (v.name().empty() ? std::string("value") : v.name()) + "' is undefined");
}

bool both_ints(const Value& a, const Value& b) {
  return (a.is_int() || a.is_bool()) && (b.is_int() || b.is_bool());
}

Result<Value> repeat(Interpreter& in, const Value& seq, int64_t n) {
  if (n < 0) n = 0;
  const uint64_t unit = seq.is_string() ? seq.str().size() : seq.arr().size();
  const auto total = checked_mul(unit, static_cast<uint64_t>(n));
  if (!total) return OutOfRange("repetition is too large");
  if (seq.is_string()) {
    AG_RETURN_IF_ERROR(in.check_string_size(*total));
    AG_RETURN_IF_ERROR(in.charge_bytes(*total));
    std::string out;
    out.reserve(*total);
    for (int64_t i = 0; i < n; ++i) out += seq.str();
    return Value::string(std::move(out));
  }
  AG_RETURN_IF_ERROR(in.charge(*total));
  Array out;
  out.reserve(*total);
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq.arr().begin(), seq.arr().end());
  return Value::array(std::move(out));
}

Result<Value> contains(const Value& item, const Value& container) {
  if (container.is_string()) {
    if (!item.is_string()) return InvalidArgument("'in <string>' requires a string as left operand");
    return Value::boolean(container.str().find(item.str()) != std::string::npos);
  }
  if (container.is_array()) {
    for (const Value& v : container.arr()) {
      if (values_equal(v, item)) return Value::boolean(true);
    }
    return Value::boolean(false);
  }
  if (container.is_object()) {
    return Value::boolean(item.is_string() && container.obj().find(item.str()) != nullptr);
  }
  if (container.is_undefined()) return undefined_error(container);
  return InvalidArgument(std::string("argument of type ") + container.type_name() + " is not iterable");
}

Result<Value> arithmetic(Interpreter& in, std::string_view op, const Value& a, const Value& b) {
  if (!a.is_number() || !b.is_number()) return type_error(op, a, b);
  if (op == "/") {
    if (b.as_double() == 0) return InvalidArgument("division by zero");
    return Value::number(a.as_double() / b.as_double());
  }
  if (both_ints(a, b)) {
    const int64_t x = a.as_int();
    const int64_t y = b.as_int();
    int64_t r = 0;
    if (op == "+" || op == "-" || op == "*") {
      const bool overflow = op == "+" ? __builtin_add_overflow(x, y, &r)
                            : op == "-" ? __builtin_sub_overflow(x, y, &r)
                                        : __builtin_mul_overflow(x, y, &r);
      if (overflow) return OutOfRange("integer overflow in " + std::string(op));
      return Value::integer(r);
    }
    if (op == "//" || op == "%") {
      if (y == 0) return InvalidArgument("integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) return OutOfRange("integer overflow in " + std::string(op));
      int64_t q = x / y;
      int64_t m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {  // Python floors
        --q;
        m += y;
      }
      return Value::integer(op == "//" ? q : m);
    }
    if (op == "**") {
      if (y < 0) return Value::number(std::pow(static_cast<double>(x), static_cast<double>(y)));
      int64_t acc = 1;
      for (int64_t i = 0; i < y; ++i) {
        if (__builtin_mul_overflow(acc, x, &acc)) return OutOfRange("integer overflow in **");
        if (acc == 0 || acc == 1) break;
        AG_RETURN_IF_ERROR(in.charge(1));
      }
      return Value::integer(acc);
    }
  }
  const double x = a.as_double();
  const double y = b.as_double();
  if (op == "+") return Value::number(x + y);
  if (op == "-") return Value::number(x - y);
  if (op == "*") return Value::number(x * y);
  if (op == "**") return Value::number(std::pow(x, y));
  if (y == 0) return InvalidArgument("float division or modulo by zero");
  const double q = std::floor(x / y);
  if (op == "//") return Value::number(q);
  return Value::number(x - q * y);
}

}  // namespace

Result<Array> iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return Array{};
    case Value::Kind::kArray: return v.arr();
    case Value::Kind::kObject: {
      Array keys;
      keys.reserve(v.obj().items.size());
      for (const auto& kv : v.obj().items) keys.push_back(Value::string(kv.first));
      return keys;
    }
    case Value::Kind::kString: {
      const std::vector<size_t> offs = text::char_offsets(v.str());
      Array chars;
      chars.reserve(offs.size());
      for (size_t i = 0; i + 1 < offs.size(); ++i) chars.push_back(Value::string(v.str().substr(offs[i], offs[i + 1] - offs[i])));
      return chars;
    }
    default: return InvalidArgument(std::string("a value of type ") + v.type_name() + " is not iterable");
  }
}

Result<Value> binary_op(Interpreter& in, std::string_view op, const Value& a, const Value& b) {
  if (op == "==") return Value::boolean(values_equal(a, b));
  if (op == "!=") return Value::boolean(!values_equal(a, b));
  if (op == "in" || op == "not in") {
    AG_ASSIGN_OR_RETURN(Value r, contains(a, b));
    return Value::boolean(r.as_bool() == (op == "in"));
  }
  if (op == "~") {
    const std::string l = a.to_str();
    const std::string r = b.to_str();
    AG_RETURN_IF_ERROR(in.check_string_size(static_cast<uint64_t>(l.size()) + r.size()));
    AG_RETURN_IF_ERROR(in.charge_bytes(l.size() + r.size()));
    return Value::string(l + r);
  }
  if (a.is_undefined()) return undefined_error(a);
  if (b.is_undefined()) return undefined_error(b);
  if (op == "<" || op == ">" || op == "<=" || op == ">=") {
    Result<bool> r = op == "<" || op == ">=" ? values_less(a, b) : values_less(b, a);
    if (!r.ok()) return r.status();
    return Value::boolean(op == "<" || op == ">" ? *r : !*r);
  }
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      AG_RETURN_IF_ERROR(in.check_string_size(static_cast<uint64_t>(a.str().size()) + b.str().size()));
      AG_RETURN_IF_ERROR(in.charge_bytes(a.str().size() + b.str().size()));
      return Value::string(a.str() + b.str());
    }
    if (a.is_array() && b.is_array()) {
      AG_RETURN_IF_ERROR(in.charge(a.arr().size() + b.arr().size()));
      Array out = a.arr();
      out.insert(out.end(), b.arr().begin(), b.arr().end());
      return Value::array(std::move(out));
    }
  }
  if (op == "*") {
    if ((a.is_string() || a.is_array()) && (b.is_int() || b.is_bool())) return repeat(in, a, b.as_int());
    if ((b.is_string() || b.is_array()) && (a.is_int() || a.is_bool())) return repeat(in, b, a.as_int());
  }
  if (op == "%" && a.is_string()) return InvalidArgument("printf-style '%' string formatting is not supported");
  return arithmetic(in, op, a, b);
}

Result<bool> apply_test(Interpreter& in, const std::string& name, const Value& v, CallArgs& args) {
  const Value* arg = args.get(0, "value");
  auto need_arg = [&]() -> Status {
    return arg ? Status::OK() : InvalidArgument("test '" + name + "' needs an argument");
  };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_double();
  if (name == "number") return v.is_number();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_object();
  if (name == "sequence") return v.is_array() || v.is_string() || v.is_object();
  if (name == "iterable") return v.is_array() || v.is_string() || v.is_object();
  if (name == "callable") return v.is_function();
  if (name == "lower") return v.is_string() && text::lower(v.str()) == v.str();
  if (name == "upper") return v.is_string() && text::upper(v.str()) == v.str();
  if (name == "odd" || name == "even") {
    if (!v.is_int() && !v.is_bool()) return InvalidArgument("test '" + name + "' needs an integer");
    const bool odd = (v.as_int() % 2) != 0;
    return name == "odd" ? odd : !odd;
  }
  if (name == "divisibleby") {
    AG_RETURN_IF_ERROR(need_arg());
    if (!both_ints(v, *arg)) return InvalidArgument("test 'divisibleby' needs integers");
    if (arg->as_int() == 0) return InvalidArgument("divisibleby 0");
    if (arg->as_int() == -1) return true;
    return v.as_int() % arg->as_int() == 0;
  }
  if (name == "eq" || name == "equalto" || name == "==" || name == "sameas") {
    AG_RETURN_IF_ERROR(need_arg());
    if (name == "sameas" && v.kind() != arg->kind()) return false;
    return values_equal(v, *arg);
  }
  if (name == "ne" || name == "!=") {
    AG_RETURN_IF_ERROR(need_arg());
    return !values_equal(v, *arg);
  }
  if (name == "lt" || name == "lessthan" || name == "gt" || name == "greaterthan" || name == "le" || name == "ge") {
    AG_RETURN_IF_ERROR(need_arg());
    const char* op = name == "lt" || name == "lessthan" ? "<" : name == "gt" || name == "greaterthan" ? ">"
                     : name == "le" ? "<=" : ">=";
    AG_ASSIGN_OR_RETURN(Value r, binary_op(in, op, v, *arg));
    return r.as_bool();
  }
  if (name == "in") {
    AG_RETURN_IF_ERROR(need_arg());
    AG_ASSIGN_OR_RETURN(Value r, contains(v, *arg));
    return r.as_bool();
  }
  if (name == "escaped") return false;
  return InvalidArgument("unknown test '" + name + "'");
}

namespace {

Result<Value> fn_range(Interpreter& in, CallArgs& args) {
  if (!args.kw.empty() || args.pos.empty() || args.pos.size() > 3) return InvalidArgument("range() takes 1 to 3 integers");
  for (const Value& v : args.pos) {
    if (!v.is_int() && !v.is_bool()) return InvalidArgument("range() arguments must be integers");
  }
  int64_t start = 0, stop, step = 1;
  if (args.pos.size() == 1) {
    stop = args.pos[0].as_int();
  } else {
    start = args.pos[0].as_int();
    stop = args.pos[1].as_int();
    if (args.pos.size() == 3) step = args.pos[2].as_int();
  }
  if (step == 0) return InvalidArgument("range() step must not be zero");
  // Count without overflow, then refuse ranges larger than the step budget.
  const long double span = step > 0 ? static_cast<long double>(stop) - start : static_cast<long double>(start) - stop;
  const long double count = span <= 0 ? 0 : std::ceil(span / std::fabs(static_cast<long double>(step)));
  if (count > static_cast<long double>(in.limits().max_steps)) {
    return OutOfRange("range() of " + std::to_string(static_cast<double>(count)) + " items exceeds the step limit");
  }
  const auto n = static_cast<uint64_t>(count);
  AG_RETURN_IF_ERROR(in.charge(n));
  Array out;
  out.reserve(n);
  int64_t v = start;
  for (uint64_t i = 0; i < n; ++i, v += (i < n ? step : 0)) out.push_back(Value::integer(v));
  return Value::array(std::move(out));
}

Result<Value> fn_namespace(Interpreter&, CallArgs& args) {
  Object o;
  o.is_namespace = true;
  for (const Value& p : args.pos) {
    if (!p.is_object()) return InvalidArgument("namespace() takes a dict or keyword arguments");
    for (const auto& [k, v] : p.obj().items) o.set(k, v);
  }
  for (const auto& [k, v] : args.kw) o.set(k, v);
  return Value::object(std::move(o));
}

Result<Value> fn_dict(Interpreter&, CallArgs& args) {
  Object o;
  for (const Value& p : args.pos) {
    if (!p.is_object()) return InvalidArgument("dict() takes a dict or keyword arguments");
    for (const auto& [k, v] : p.obj().items) o.set(k, v);
  }
  for (const auto& [k, v] : args.kw) o.set(k, v);
  return Value::object(std::move(o));
}

Result<Value> fn_raise(Interpreter&, CallArgs& args) {
  const Value* msg = args.get(0, "message");
  return InvalidArgument("template raised an exception: " + (msg ? msg->to_str() : std::string()));
}

Result<Value> fn_strftime_now(Interpreter&, CallArgs& args) {
  const Value* fmt = args.get(0, "format");
  if (!fmt || !fmt->is_string()) return InvalidArgument("strftime_now() takes a format string");
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[256];
  const size_t n = std::strftime(buf, sizeof(buf), fmt->str().c_str(), &tm);
  return Value::string(std::string(buf, n));
}

}  // namespace

void add_globals(std::unordered_map<std::string, Value>* globals) {
  (*globals)["range"] = Value::function(fn_range, "range");
  (*globals)["namespace"] = Value::function(fn_namespace, "namespace");
  (*globals)["dict"] = Value::function(fn_dict, "dict");
  (*globals)["raise_exception"] = Value::function(fn_raise, "raise_exception");
  (*globals)["strftime_now"] = Value::function(fn_strftime_now, "strftime_now");
}

}  // namespace autoglm::tmpl
