// Methods templates call on strings and dicts (Python semantics). Lists are immutable, as in
// transformers' ImmutableSandboxedEnvironment.
#include <algorithm>
#include <cctype>

#include "core/checked_math.h"
#include "tokenizer/chat_template/builtins.h"
#include "tokenizer/chat_template/text.h"

namespace autoglm::tmpl {
namespace {

Result<const std::string*> opt_string(const CallArgs& args, size_t i, std::string_view name) {
  const Value* v = args.get(i, name);
  if (!v || v->is_none()) return static_cast<const std::string*>(nullptr);
  if (!v->is_string()) return InvalidArgument("argument '" + std::string(name) + "' must be a string");
  return &v->str();
}

Result<long long> opt_int(const CallArgs& args, size_t i, std::string_view name, long long dflt) {
  const Value* v = args.get(i, name);
  if (!v || v->is_none()) return dflt;
  if (!v->is_int() && !v->is_bool()) return InvalidArgument("argument '" + std::string(name) + "' must be an integer");
  return static_cast<long long>(v->as_int());
}

Result<Value> prefix_test(const std::string& s, const Value* arg, bool ends) {
  if (!arg) return InvalidArgument(std::string(ends ? "endswith" : "startswith") + "() takes a string");
  auto match = [&](const Value& p) -> Result<bool> {
    if (!p.is_string()) return InvalidArgument("startswith/endswith take strings");
    const std::string& x = p.str();
    if (x.size() > s.size()) return false;
    return ends ? s.compare(s.size() - x.size(), x.size(), x) == 0 : s.compare(0, x.size(), x) == 0;
  };
  if (arg->is_array()) {
    for (const Value& p : arg->arr()) {
      AG_ASSIGN_OR_RETURN(bool m, match(p));
      if (m) return Value::boolean(true);
    }
    return Value::boolean(false);
  }
  AG_ASSIGN_OR_RETURN(bool m, match(*arg));
  return Value::boolean(m);
}

template <typename Pred>
Value all_chars(const std::string& s, Pred pred) {
  if (s.empty()) return Value::boolean(false);
  return Value::boolean(std::all_of(s.begin(), s.end(), [&](char c) { return pred(static_cast<unsigned char>(c)); }));
}

Result<Value> string_method(Interpreter& in, const std::string& s, const std::string& name, CallArgs& args,
                            bool* found) {
  *found = true;
  AG_RETURN_IF_ERROR(in.charge_bytes(s.size()));
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    AG_ASSIGN_OR_RETURN(const std::string* chars, opt_string(args, 0, "chars"));
    return Value::string(text::strip(s, chars, name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") {
    AG_ASSIGN_OR_RETURN(const std::string* sep, opt_string(args, 0, "sep"));
    AG_ASSIGN_OR_RETURN(long long maxsplit, opt_int(args, 1, "maxsplit", -1));
    if (sep && sep->empty()) return InvalidArgument("empty separator");
    if (name == "rsplit" && maxsplit >= 0) return InvalidArgument("rsplit() with maxsplit is not supported");
    Array out;
    for (std::string& part : text::split(s, sep, maxsplit)) out.push_back(Value::string(std::move(part)));
    return Value::array(std::move(out));
  }
  if (name == "splitlines") {
    Array out;
    size_t start = 0;
    while (start < s.size()) {
      size_t nl = s.find('\n', start);
      if (nl == std::string::npos) nl = s.size();
      std::string line = s.substr(start, nl - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      out.push_back(Value::string(std::move(line)));
      start = nl + 1;
    }
    return Value::array(std::move(out));
  }
  if (name == "startswith" || name == "endswith") return prefix_test(s, args.get(0, "prefix"), name == "endswith");
  if (name == "upper") return Value::string(text::upper(s));
  if (name == "lower") return Value::string(text::lower(s));
  if (name == "title") return Value::string(text::title(s));
  if (name == "capitalize") return Value::string(text::capitalize(s));
  if (name == "replace") {
    AG_ASSIGN_OR_RETURN(const std::string* from, opt_string(args, 0, "old"));
    AG_ASSIGN_OR_RETURN(const std::string* to, opt_string(args, 1, "new"));
    AG_ASSIGN_OR_RETURN(long long count, opt_int(args, 2, "count", -1));
    if (!from || !to) return InvalidArgument("replace() takes two strings");
    // Bound the result before building it: every match may grow by to->size() bytes.
    const uint64_t matches = from->empty() ? s.size() + 1 : s.size() / from->size();
    const auto grow = checked_mul(matches, static_cast<uint64_t>(to->size()));
    if (!grow || !checked_add(*grow, s.size())) return OutOfRange("replace() result too large");
    if (*grow + s.size() > in.limits().max_output_bytes) {
      std::string r = text::replace(s, *from, "", count);  // cheap exact count of matches
      const uint64_t n = from->empty() ? text::char_count(s) + 1 : (s.size() - r.size()) / from->size();
      AG_RETURN_IF_ERROR(in.check_string_size(r.size() + n * to->size()));
    }
    return Value::string(text::replace(s, *from, *to, count));
  }
  if (name == "find" || name == "count" || name == "rfind") {
    AG_ASSIGN_OR_RETURN(const std::string* sub, opt_string(args, 0, "sub"));
    if (!sub) return InvalidArgument(name + "() takes a string");
    if (name == "count") {
      if (sub->empty()) return Value::integer(static_cast<int64_t>(text::char_count(s) + 1));
      int64_t n = 0;
      for (size_t p = s.find(*sub); p != std::string::npos; p = s.find(*sub, p + sub->size())) ++n;
      return Value::integer(n);
    }
    const size_t p = name == "find" ? s.find(*sub) : s.rfind(*sub);
    if (p == std::string::npos) return Value::integer(-1);
    return Value::integer(static_cast<int64_t>(text::char_count(std::string_view(s).substr(0, p))));
  }
  if (name == "join") {
    const Value* items = args.get(0, "iterable");
    if (!items) return InvalidArgument("join() takes an iterable");
    AG_ASSIGN_OR_RETURN(Array parts, iterate(*items));
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (!parts[i].is_string()) return InvalidArgument("join() items must be strings");
      if (i) out += s;
      out += parts[i].str();
      AG_RETURN_IF_ERROR(in.check_string_size(out.size()));
    }
    return Value::string(std::move(out));
  }
  if (name == "isdigit") return all_chars(s, [](unsigned char c) { return c >= '0' && c <= '9'; });
  if (name == "isspace") return Value::boolean(!s.empty() && text::strip(s, nullptr, true, true).empty());
  if (name == "isalpha") return all_chars(s, [](unsigned char c) { return std::isalpha(c) != 0 || c >= 0x80; });
  if (name == "isalnum") return all_chars(s, [](unsigned char c) { return std::isalnum(c) != 0 || c >= 0x80; });
  if (name == "islower") return Value::boolean(text::lower(s) == s && text::upper(s) != s);
  if (name == "isupper") return Value::boolean(text::upper(s) == s && text::lower(s) != s);
  *found = false;
  return Value::none();
}

Result<Value> dict_method(const Value& obj, const std::string& name, CallArgs& args, bool* found) {
  *found = true;
  const Object& o = obj.obj();
  if (name == "get") {
    const Value* key = args.get(0, "key");
    if (!key) return InvalidArgument("get() takes a key");
    if (key->is_string()) {
      if (const Value* v = o.find(key->str())) return *v;
    }
    const Value* dflt = args.get(1, "default");
    return dflt ? *dflt : Value::none();
  }
  if (name == "items" || name == "keys" || name == "values") {
    Array out;
    out.reserve(o.items.size());
    for (const auto& [k, v] : o.items) {
      if (name == "items") out.push_back(Value::tuple({Value::string(k), v}));
      else if (name == "keys") out.push_back(Value::string(k));
      else out.push_back(v);
    }
    return Value::array(std::move(out));
  }
  *found = false;
  return Value::none();
}

}  // namespace

Result<Value> call_method(Interpreter& in, const Value& obj, const std::string& name, CallArgs& args, bool* found) {
  *found = false;
  if (obj.is_string()) return string_method(in, obj.str(), name, args, found);
  if (obj.is_object() && !obj.obj().is_namespace) {
    AG_RETURN_IF_ERROR(in.charge(obj.obj().items.size()));
    return dict_method(obj, name, args, found);
  }
  if (obj.is_array() && (name == "append" || name == "pop" || name == "extend" || name == "insert" ||
                         name == "remove" || name == "clear" || name == "sort" || name == "reverse")) {
    *found = true;
    return InvalidArgument("lists are immutable in templates (list." + name + " is not allowed)");
  }
  if (obj.is_object() && (name == "update" || name == "pop" || name == "setdefault" || name == "clear")) {
    *found = true;
    return InvalidArgument("dicts are immutable in templates (dict." + name + " is not allowed)");
  }
  return Value::none();
}

}  // namespace autoglm::tmpl
