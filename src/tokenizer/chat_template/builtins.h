// Built-ins of the chat-template language: operators, filters, tests, methods of strings and
// dicts, and the global functions (range, namespace, dict, raise_exception, strftime_now).
// Each follows the Python/Jinja behaviour templates rely on; unknown names are errors.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include "autoglm/status.h"
#include "tokenizer/chat_template/interpreter.h"
#include "tokenizer/chat_template/value.h"

namespace autoglm::tmpl {

// + - * / // % ** ~ == != < > <= >= in "not in"
Result<Value> binary_op(Interpreter& in, std::string_view op, const Value& a, const Value& b);
Result<Value> apply_filter(Interpreter& in, const std::string& name, const Value& input, CallArgs& args);
Result<bool> apply_test(Interpreter& in, const std::string& name, const Value& v, CallArgs& args);
// obj.name(args) for string, dict and list methods; *found is false when there is no such method.
Result<Value> call_method(Interpreter& in, const Value& obj, const std::string& name, CallArgs& args, bool* found);
// Python-style iteration: list items, dict keys, string characters; undefined iterates as empty.
Result<Array> iterate(const Value& v);
void add_globals(std::unordered_map<std::string, Value>* globals);

}  // namespace autoglm::tmpl
