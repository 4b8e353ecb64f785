// The value type of the chat-template renderer: Python/Jinja semantics over a small variant
// (undefined, none, bool, int, double, string, array, object, callable). Arrays and objects are
// shared by reference, as Python lists and dicts are, so `namespace()` attributes can be set.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "autoglm/status.h"

namespace autoglm::tmpl {

class Value;
using Array = std::vector<Value>;

// Insertion-ordered string-keyed map (Python dict order decides tojson and items() order).
struct Object {
  std::vector<std::pair<std::string, Value>> items;
  bool is_namespace = false;  // namespace(): the only object a template may assign attributes on

  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  void set(std::string key, Value v);
};

class Interpreter;
struct CallArgs;
// A built-in or macro: receives evaluated arguments; may recurse into the interpreter.
using Function = std::function<Result<Value>(Interpreter&, CallArgs&)>;

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kDouble, kString, kArray, kObject, kFunction };

  Value() = default;  // undefined
  static Value undefined(std::string name = {});
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value number(double d);
  static Value string(std::string s);
  static Value array(Array a = {});
  static Value tuple(Array a);  // a list that prints as a Python tuple: (1, 2)
  static Value object(Object o = {});
  static Value function(Function f, std::string name);
  static Value from_json(const nlohmann::json& j);
  static Value from_json(const nlohmann::ordered_json& j);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_double() const { return kind_ == Kind::kDouble; }
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kDouble || kind_ == Kind::kBool; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }
  bool is_function() const { return kind_ == Kind::kFunction; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return kind_ == Kind::kBool ? (b_ ? 1 : 0) : i_; }
  double as_double() const;
  const std::string& str() const { return *s_; }
  const Array& arr() const { return *a_; }
  Array& arr_mut() { return *a_; }
  const Object& obj() const { return *o_; }
  Object& obj_mut() { return *o_; }
  const Function& fn() const { return *f_; }
  const std::string& name() const { return name_; }  // undefined variable / function name

  bool truthy() const;
  // Python str(): what {{ value }} prints (undefined prints nothing).
  std::string to_str() const;
  // Python repr() (used inside printed lists and dicts).
  std::string repr() const;
  const char* type_name() const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool b_ = false;
  int64_t i_ = 0;
  double d_ = 0;
  std::shared_ptr<const std::string> s_;
  std::shared_ptr<Array> a_;
  std::shared_ptr<Object> o_;
  std::shared_ptr<const Function> f_;
  std::string name_;
  bool tuple_ = false;
};

// Python ==, with 1 == 1.0 == True.
bool values_equal(const Value& a, const Value& b);
// Python <: numbers, strings (code point order = UTF-8 byte order), arrays lexicographically.
Result<bool> values_less(const Value& a, const Value& b);

// Python's repr of a double (shortest round trip; 1.0, 1e-05, 1e+16, inf, nan).
std::string format_double(double d);
// json.dumps(v, ensure_ascii=False, indent=indent) as transformers' tojson filter does; indent < 0
// means none. Fails on undefined or functions.
Result<std::string> to_json(const Value& v, int indent);

}  // namespace autoglm::tmpl
