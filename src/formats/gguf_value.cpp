// GGUF metadata values: type facts, conversions, and the one-line rendering `autoglm inspect` prints.
#include <charconv>
#include <cstdio>
#include <limits>

#include "formats/gguf.h"

namespace autoglm::gguf {

const char* value_type_name(ValueType t) {
  switch (t) {
    case ValueType::UINT8: return "u8";
    case ValueType::INT8: return "i8";
    case ValueType::UINT16: return "u16";
    case ValueType::INT16: return "i16";
    case ValueType::UINT32: return "u32";
    case ValueType::INT32: return "i32";
    case ValueType::FLOAT32: return "f32";
    case ValueType::BOOL: return "bool";
    case ValueType::STRING: return "str";
    case ValueType::ARRAY: return "arr";
    case ValueType::UINT64: return "u64";
    case ValueType::INT64: return "i64";
    case ValueType::FLOAT64: return "f64";
  }
  return "unknown";
}

size_t value_type_size(ValueType t) {
  switch (t) {
    case ValueType::UINT8:
    case ValueType::INT8:
    case ValueType::BOOL: return 1;
    case ValueType::UINT16:
    case ValueType::INT16: return 2;
    case ValueType::UINT32:
    case ValueType::INT32:
    case ValueType::FLOAT32: return 4;
    case ValueType::UINT64:
    case ValueType::INT64:
    case ValueType::FLOAT64: return 8;
    case ValueType::STRING:
    case ValueType::ARRAY: return 0;
  }
  return 0;
}

bool is_valid_value_type(uint32_t id) { return id <= static_cast<uint32_t>(ValueType::FLOAT64); }

namespace {

bool is_unsigned(ValueType t) {
  return t == ValueType::UINT8 || t == ValueType::UINT16 || t == ValueType::UINT32 || t == ValueType::UINT64;
}
bool is_signed(ValueType t) {
  return t == ValueType::INT8 || t == ValueType::INT16 || t == ValueType::INT32 || t == ValueType::INT64;
}

void append_escaped(std::string* out, const std::string& s) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          *out += buf;
        } else {
          out->push_back(static_cast<char>(c));  // UTF-8 passes through
        }
    }
  }
  out->push_back('"');
}

// Shortest text that reads back to the same value at the stored precision.
std::string format_float(double v, bool single) {
  char buf[64];
  std::to_chars_result r = single ? std::to_chars(buf, buf + sizeof(buf), static_cast<float>(v))
                                  : std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

void append_display(std::string* out, const Value& v, size_t max_items);

template <typename Items, typename Fn>
void append_items(std::string* out, const Items& items, size_t max_items, Fn&& fn) {
  out->push_back('[');
  size_t shown = items.size() <= max_items ? items.size() : max_items;
  for (size_t k = 0; k < shown; ++k) {
    if (k) *out += ", ";
    fn(items[k]);
  }
  if (shown < items.size()) {
    if (shown) *out += ", ";
    *out += "... (" + std::to_string(items.size()) + " items)";
  }
  out->push_back(']');
}

void append_display(std::string* out, const Value& v, size_t max_items) {
  switch (v.type) {
    case ValueType::UINT8:
    case ValueType::UINT16:
    case ValueType::UINT32:
    case ValueType::UINT64: *out += std::to_string(v.u); break;
    case ValueType::INT8:
    case ValueType::INT16:
    case ValueType::INT32:
    case ValueType::INT64: *out += std::to_string(v.i); break;
    case ValueType::FLOAT32: *out += format_float(v.f, true); break;
    case ValueType::FLOAT64: *out += format_float(v.f, false); break;
    case ValueType::BOOL: *out += v.u ? "true" : "false"; break;
    case ValueType::STRING: append_escaped(out, v.str); break;
    case ValueType::ARRAY:
      if (v.array_type == ValueType::STRING) {
        append_items(out, v.arr_str, max_items, [&](const std::string& s) { append_escaped(out, s); });
      } else {
        append_items(out, v.arr, max_items, [&](const Value& e) { append_display(out, e, max_items); });
      }
      break;
  }
}

}  // namespace

Value Value::of_uint(ValueType t, uint64_t v) {
  Value r;
  r.type = t;
  r.u = v;
  return r;
}

Value Value::of_int(ValueType t, int64_t v) {
  Value r;
  r.type = t;
  r.i = v;
  return r;
}

Value Value::of_float(ValueType t, double v) {
  Value r;
  r.type = t;
  r.f = v;
  return r;
}

Value Value::of_bool(bool v) {
  Value r;
  r.type = ValueType::BOOL;
  r.u = v ? 1 : 0;
  return r;
}

Value Value::of_string(std::string v) {
  Value r;
  r.type = ValueType::STRING;
  r.str = std::move(v);
  return r;
}

Value Value::of_array(ValueType elem, std::vector<Value> items) {
  Value r;
  r.type = ValueType::ARRAY;
  r.array_type = elem;
  r.arr = std::move(items);
  return r;
}

Value Value::of_string_array(std::vector<std::string> items) {
  Value r;
  r.type = ValueType::ARRAY;
  r.array_type = ValueType::STRING;
  r.arr_str = std::move(items);
  return r;
}

bool Value::is_integer() const { return is_unsigned(type) || is_signed(type); }

std::optional<int64_t> Value::as_int() const {
  if (is_signed(type)) return i;
  if (is_unsigned(type) || type == ValueType::BOOL) {
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  return std::nullopt;
}

std::optional<double> Value::as_float() const {
  if (type == ValueType::FLOAT32 || type == ValueType::FLOAT64) return f;
  if (is_signed(type)) return static_cast<double>(i);
  if (is_unsigned(type)) return static_cast<double>(u);
  return std::nullopt;
}

std::string Value::to_display_string(size_t max_items) const {
  std::string out;
  append_display(&out, *this, max_items);
  return out;
}

}  // namespace autoglm::gguf
