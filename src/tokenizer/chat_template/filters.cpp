// Jinja filters used by chat templates. tojson follows transformers' override (json.dumps with
// ensure_ascii=False, keys in insertion order), not Jinja's HTML-safe sorted default.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "tokenizer/chat_template/builtins.h"
#include "tokenizer/chat_template/text.h"

namespace autoglm::tmpl {
namespace {

bool arg_bool(const CallArgs& args, size_t i, std::string_view name, bool dflt) {
  const Value* v = args.get(i, name);
  return v ? v->truthy() : dflt;
}

// obj.a.b for selectattr/map/sort/join: dotted names, integer parts index lists.
Value get_attribute_path(const Value& obj, const std::string& path) {
  Value cur = obj;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    if (dot == std::string::npos) dot = path.size();
    const std::string part = path.substr(start, dot - start);
    if (cur.is_object()) {
      const Value* v = cur.obj().find(part);
      cur = v ? *v : Value::undefined(part);
    } else if (cur.is_array() && !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit)) {
      const size_t i = std::strtoull(part.c_str(), nullptr, 10);
      cur = i < cur.arr().size() ? cur.arr()[i] : Value::undefined(part);
    } else {
      return Value::undefined(part);
    }
    start = dot + 1;
  }
  return cur;
}

Result<Value> filter_int(const Value& v, const CallArgs& args) {
  const Value* dflt = args.get(0, "default");
  const Value fallback = dflt ? *dflt : Value::integer(0);
  if (v.is_int() || v.is_bool()) return Value::integer(v.as_int());
  if (v.is_double()) {
    const double d = v.as_double();
    if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return fallback;
    return Value::integer(static_cast<int64_t>(d));
  }
  if (v.is_string()) {
    const std::string s = text::strip(v.str(), nullptr, true, true);
    if (s.empty()) return fallback;
    errno = 0;
    char* end = nullptr;
    const long long i = std::strtoll(s.c_str(), &end, 10);
    if (errno == 0 && end && *end == '\0') return Value::integer(i);
    errno = 0;
    const double d = std::strtod(s.c_str(), &end);
    if (errno == 0 && end && *end == '\0' && std::isfinite(d) && std::fabs(d) < 9.2e18) {
      return Value::integer(static_cast<int64_t>(d));
    }
  }
  return fallback;
}

Result<Value> filter_float(const Value& v, const CallArgs& args) {
  const Value* dflt = args.get(0, "default");
  const Value fallback = dflt ? *dflt : Value::number(0.0);
  if (v.is_number()) return Value::number(v.as_double());
  if (v.is_string()) {
    const std::string s = text::strip(v.str(), nullptr, true, true);
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == '\0') return Value::number(d);
  }
  return fallback;
}

Result<Value> filter_join(Interpreter& in, const Value& v, const CallArgs& args) {
  const Value* sep = args.get(0, "d");
  const Value* attr = args.get(1, "attribute");
  AG_ASSIGN_OR_RETURN(Array items, iterate(v));
  const std::string sep_s = sep ? sep->to_str() : std::string();
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep_s;
    out += (attr ? get_attribute_path(items[i], attr->to_str()) : items[i]).to_str();
    AG_RETURN_IF_ERROR(in.check_string_size(out.size()));
  }
  AG_RETURN_IF_ERROR(in.charge_bytes(out.size()));
  return Value::string(std::move(out));
}

// select / reject / selectattr / rejectattr
Result<Value> filter_select(Interpreter& in, const std::string& name, const Value& v, CallArgs& args) {
  const bool by_attr = name == "selectattr" || name == "rejectattr";
  const bool keep_if = name == "select" || name == "selectattr";
  size_t next = 0;
  std::string attr;
  if (by_attr) {
    if (args.pos.empty()) return InvalidArgument(name + " needs an attribute name");
    attr = args.pos[0].to_str();
    next = 1;
  }
  std::string test;
  CallArgs test_args;
  if (next < args.pos.size()) {
    test = args.pos[next].to_str();
    test_args.pos.assign(args.pos.begin() + static_cast<std::ptrdiff_t>(next) + 1, args.pos.end());
  }
  AG_ASSIGN_OR_RETURN(Array items, iterate(v));
  AG_RETURN_IF_ERROR(in.charge(items.size()));
  Array out;
  for (const Value& item : items) {
    const Value subject = by_attr ? get_attribute_path(item, attr) : item;
    bool pass;
    if (test.empty()) {
      pass = subject.truthy();
    } else {
      AG_ASSIGN_OR_RETURN(pass, apply_test(in, test, subject, test_args));
    }
    if (pass == keep_if) out.push_back(item);
  }
  return Value::array(std::move(out));
}

Result<Value> filter_map(Interpreter& in, const Value& v, CallArgs& args) {
  AG_ASSIGN_OR_RETURN(Array items, iterate(v));
  AG_RETURN_IF_ERROR(in.charge(items.size()));
  Array out;
  out.reserve(items.size());
  for (const auto& [k, a] : args.kw) {
    if (k != "attribute") continue;
    const Value* dflt = nullptr;
    for (const auto& [k2, d] : args.kw) {
      if (k2 == "default") dflt = &d;
    }
    for (const Value& item : items) {
      Value r = get_attribute_path(item, a.to_str());
      out.push_back(r.is_undefined() && dflt ? *dflt : r);
    }
    return Value::array(std::move(out));
  }
  if (args.pos.empty()) return InvalidArgument("map needs a filter name or attribute=");
  const std::string filter = args.pos[0].to_str();
  CallArgs rest;
  rest.pos.assign(args.pos.begin() + 1, args.pos.end());
  for (const Value& item : items) {
    AG_ASSIGN_OR_RETURN(Value r, apply_filter(in, filter, item, rest));
    out.push_back(std::move(r));
  }
  return Value::array(std::move(out));
}

Result<Value> filter_sort(Interpreter& in, const Value& v, const CallArgs& args) {
  const bool reverse = arg_bool(args, 0, "reverse", false);
  const bool case_sensitive = arg_bool(args, 1, "case_sensitive", false);
  const Value* attr = args.get(2, "attribute");
  AG_ASSIGN_OR_RETURN(Array items, iterate(v));
  AG_RETURN_IF_ERROR(in.charge(items.size() * 8));
  std::vector<std::pair<Value, Value>> keyed;
  for (const Value& item : items) {
    Value key = attr ? get_attribute_path(item, attr->to_str()) : item;
    if (key.is_string() && !case_sensitive) key = Value::string(text::lower(key.str()));
    keyed.emplace_back(std::move(key), item);
  }
  Status err;
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    Result<bool> lt = reverse ? values_less(b.first, a.first) : values_less(a.first, b.first);
    if (!lt.ok()) {
      if (err.ok()) err = lt.status();
      return false;
    }
    return *lt;
  });
  AG_RETURN_IF_ERROR(err);
  Array out;
  for (auto& kv : keyed) out.push_back(std::move(kv.second));
  return Value::array(std::move(out));
}

Result<Value> filter_minmax(const Value& v, bool want_max) {
  AG_ASSIGN_OR_RETURN(Array items, iterate(v));
  if (items.empty()) return Value::undefined("min/max of an empty sequence");
  Value best = items[0];
  for (size_t i = 1; i < items.size(); ++i) {
    AG_ASSIGN_OR_RETURN(bool lt, want_max ? values_less(best, items[i]) : values_less(items[i], best));
    if (lt) best = items[i];
  }
  return best;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

Result<Value> filter_indent(Interpreter& in, const Value& v, const CallArgs& args) {
  const Value* w = args.get(0, "width");
  std::string pad(4, ' ');
  if (w && w->is_string()) pad = w->str();
  else if (w) pad = std::string(static_cast<size_t>(std::clamp<int64_t>(w->as_int(), 0, 256)), ' ');
  const bool first = arg_bool(args, 1, "first", false);
  const bool blank = arg_bool(args, 2, "blank", false);
  const std::string s = v.to_str();
  std::string out;
  size_t start = 0;
  bool is_first = true;
  while (true) {
    const size_t nl = s.find('\n', start);
    const std::string line = s.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if ((is_first ? first : true) && (blank || !line.empty())) out += pad;
    out += line;
    AG_RETURN_IF_ERROR(in.check_string_size(out.size()));
    if (nl == std::string::npos) break;
    out += '\n';
    start = nl + 1;
    is_first = false;
  }
  return Value::string(std::move(out));
}

}  // namespace

Result<Value> apply_filter(Interpreter& in, const std::string& name, const Value& v, CallArgs& args) {
  AG_RETURN_IF_ERROR(in.charge(1));
  if (name == "safe" || name == "string") {
    if (name == "safe") return v;
    const std::string s = v.to_str();
    AG_RETURN_IF_ERROR(in.charge_bytes(s.size()));
    return Value::string(s);
  }
  if (name == "default" || name == "d") {
    const Value* dflt = args.get(0, "default_value");
    const bool boolean = arg_bool(args, 1, "boolean", false);
    if (v.is_undefined() || (boolean && !v.truthy())) return dflt ? *dflt : Value::string("");
    return v;
  }
  if (name == "length" || name == "count") {
    if (v.is_string()) return Value::integer(static_cast<int64_t>(text::char_count(v.str())));
    if (v.is_array()) return Value::integer(static_cast<int64_t>(v.arr().size()));
    if (v.is_object()) return Value::integer(static_cast<int64_t>(v.obj().items.size()));
    if (v.is_undefined()) return Value::integer(0);
    return InvalidArgument(std::string("object of type ") + v.type_name() + " has no length");
  }
  if (name == "tojson") {
    const Value* indent = args.get(0, "indent");
    int ind = -1;
    if (indent && !indent->is_none()) {
      if (!indent->is_int()) return InvalidArgument("tojson indent must be an integer");
      ind = static_cast<int>(std::clamp<int64_t>(indent->as_int(), 0, 64));
    }
    AG_ASSIGN_OR_RETURN(std::string s, to_json(v, ind));
    AG_RETURN_IF_ERROR(in.charge_bytes(s.size()));
    return Value::string(std::move(s));
  }
  if (name == "items") {
    if (v.is_undefined()) return Value::array();
    if (!v.is_object()) return InvalidArgument(std::string("items filter needs a dict, got ") + v.type_name());
    Array out;
    for (const auto& [k, x] : v.obj().items) out.push_back(Value::tuple({Value::string(k), x}));
    return Value::array(std::move(out));
  }
  if (name == "join") return filter_join(in, v, args);
  if (name == "first" || name == "last") {
    AG_ASSIGN_OR_RETURN(Array items, iterate(v));
    if (items.empty()) return Value::undefined(name);
    return name == "first" ? items.front() : items.back();
  }
  if (name == "list") {
    AG_ASSIGN_OR_RETURN(Array items, iterate(v));
    return Value::array(std::move(items));
  }
  if (name == "reverse") {
    if (v.is_string()) {
      const std::vector<size_t> offs = text::char_offsets(v.str());
      std::string out;
      for (size_t i = offs.size() - 1; i > 0; --i) out.append(v.str(), offs[i - 1], offs[i] - offs[i - 1]);
      return Value::string(std::move(out));
    }
    AG_ASSIGN_OR_RETURN(Array items, iterate(v));
    std::reverse(items.begin(), items.end());
    return Value::array(std::move(items));
  }
  if (name == "int") return filter_int(v, args);
  if (name == "float") return filter_float(v, args);
  if (name == "abs") {
    if (v.is_double()) return Value::number(std::fabs(v.as_double()));
    if (v.is_int() || v.is_bool()) {
      if (v.as_int() == INT64_MIN) return OutOfRange("integer overflow in abs");
      return Value::integer(v.as_int() < 0 ? -v.as_int() : v.as_int());
    }
    return InvalidArgument(std::string("bad operand type for abs(): ") + v.type_name());
  }
  if (name == "round") {
    if (!v.is_number()) return InvalidArgument("round needs a number");
    const Value* prec = args.get(0, "precision");
    const Value* method = args.get(1, "method");
    const double scale = std::pow(10.0, prec ? static_cast<double>(std::clamp<int64_t>(prec->as_int(), -20, 20)) : 0.0);
    const std::string m = method ? method->to_str() : "common";
    const double x = v.as_double() * scale;
    const double r = m == "ceil" ? std::ceil(x) : m == "floor" ? std::floor(x) : std::nearbyint(x);  // half-even
    return Value::number(r / scale);
  }
  if (name == "sum") {
    AG_ASSIGN_OR_RETURN(Array items, iterate(v));
    const Value* attr = args.get(0, "attribute");
    const Value* start = args.get(1, "start");
    Value acc = start ? *start : Value::integer(0);
    for (const Value& item : items) {
      AG_ASSIGN_OR_RETURN(acc, binary_op(in, "+", acc, attr ? get_attribute_path(item, attr->to_str()) : item));
    }
    return acc;
  }
  if (name == "min" || name == "max") return filter_minmax(v, name == "max");
  if (name == "unique") {
    AG_ASSIGN_OR_RETURN(Array items, iterate(v));
    AG_RETURN_IF_ERROR(in.charge(items.size() * items.size() / 16 + items.size()));
    Array out;
    for (const Value& item : items) {
      bool seen = false;
      for (const Value& o : out) seen = seen || values_equal(o, item);
      if (!seen) out.push_back(item);
    }
    return Value::array(std::move(out));
  }
  if (name == "sort") return filter_sort(in, v, args);
  if (name == "dictsort") {
    if (!v.is_object()) return InvalidArgument("dictsort needs a dict");
    Array pairs;
    for (const auto& [k, x] : v.obj().items) pairs.push_back(Value::tuple({Value::string(k), x}));
    CallArgs sort_args;
    sort_args.kw.emplace_back("attribute", Value::string("0"));
    if (const Value* rev = args.get(2, "reverse")) sort_args.kw.emplace_back("reverse", *rev);
    if (const Value* cs = args.get(0, "case_sensitive")) sort_args.kw.emplace_back("case_sensitive", *cs);
    return filter_sort(in, Value::array(std::move(pairs)), sort_args);
  }
  if (name == "map") return filter_map(in, v, args);
  if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
    return filter_select(in, name, v, args);
  }
  if (name == "attr") {
    const Value* a = args.get(0, "name");
    if (!a) return InvalidArgument("attr needs a name");
    if (v.is_object()) {
      if (const Value* x = v.obj().find(a->to_str())) return *x;
    }
    return Value::undefined(a->to_str());
  }
  if (name == "indent") return filter_indent(in, v, args);
  if (name == "wordcount") return Value::integer(static_cast<int64_t>(text::split(v.to_str(), nullptr, -1).size()));
  // The remaining filters work on text.
  if (name == "trim" || name == "upper" || name == "lower" || name == "title" || name == "capitalize" ||
      name == "replace" || name == "escape" || name == "e") {
    const std::string s = v.to_str();
    AG_RETURN_IF_ERROR(in.charge_bytes(s.size()));
    if (name == "trim") {
      const Value* chars = args.get(0, "chars");
      const std::string cs = chars && chars->is_string() ? chars->str() : std::string();
      return Value::string(text::strip(s, chars && chars->is_string() ? &cs : nullptr, true, true));
    }
    if (name == "upper") return Value::string(text::upper(s));
    if (name == "lower") return Value::string(text::lower(s));
    if (name == "title") return Value::string(text::title(s));
    if (name == "capitalize") return Value::string(text::capitalize(s));
    if (name == "escape" || name == "e") return Value::string(html_escape(s));
    if (name == "replace") {
      bool found = false;
      return call_method(in, Value::string(s), "replace", args, &found);
    }
  }
  return InvalidArgument("unknown filter '" + name + "'");
}

}  // namespace autoglm::tmpl
