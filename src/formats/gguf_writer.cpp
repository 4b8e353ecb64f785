// GGUF v3 writer (little endian). Layout: header, metadata, tensor infos, padding to the
// alignment, then each tensor's data padded to the alignment.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "core/check.h"
#include "core/checked_math.h"
#include "formats/gguf.h"

namespace autoglm::gguf {
namespace {

constexpr uint32_t kMagic = 0x46554747;
constexpr uint32_t kVersion = 3;
constexpr uint64_t kDefaultAlignment = 32;
constexpr const char* kAlignmentKey = "general.alignment";

class Out {
 public:
  explicit Out(std::vector<uint8_t>* b) : b_(b) {}
  template <typename T>
  void put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    b_->insert(b_->end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    b_->insert(b_->end(), s.begin(), s.end());
  }
  void pad_to(uint64_t align) {
    while (b_->size() % align != 0) b_->push_back(0);
  }
  void put_value(const Value& v, ValueType type) {
    switch (type) {
      case ValueType::UINT8: put(static_cast<uint8_t>(v.u)); break;
      case ValueType::UINT16: put(static_cast<uint16_t>(v.u)); break;
      case ValueType::UINT32: put(static_cast<uint32_t>(v.u)); break;
      case ValueType::UINT64: put(v.u); break;
      case ValueType::INT8: put(static_cast<int8_t>(v.i)); break;
      case ValueType::INT16: put(static_cast<int16_t>(v.i)); break;
      case ValueType::INT32: put(static_cast<int32_t>(v.i)); break;
      case ValueType::INT64: put(v.i); break;
      case ValueType::FLOAT32: put(static_cast<float>(v.f)); break;
      case ValueType::FLOAT64: put(v.f); break;
      case ValueType::BOOL: put(static_cast<uint8_t>(v.u ? 1 : 0)); break;
      case ValueType::STRING: put_string(v.str); break;
      case ValueType::ARRAY:
        put(static_cast<uint32_t>(v.array_type));
        if (v.array_type == ValueType::STRING) {
          put<uint64_t>(v.arr_str.size());
          for (const std::string& s : v.arr_str) put_string(s);
        } else {
          put<uint64_t>(v.arr.size());
          for (const Value& e : v.arr) put_value(e, v.array_type);
        }
        break;
    }
  }

 private:
  std::vector<uint8_t>* b_;
};

Status check_value(const std::string& key, const Value& v, int depth) {
  if (!is_valid_value_type(static_cast<uint32_t>(v.type))) return InvalidArgument("metadata '" + key + "': bad type");
  if (v.type != ValueType::ARRAY) return Status::OK();
  if (!is_valid_value_type(static_cast<uint32_t>(v.array_type))) {
    return InvalidArgument("metadata '" + key + "': bad array element type");
  }
  if (depth >= 4) return InvalidArgument("metadata '" + key + "': arrays nested too deep");
  if (v.array_type != ValueType::STRING && !v.arr_str.empty()) {
    return InvalidArgument("metadata '" + key + "': strings in a non-string array");
  }
  for (const Value& e : v.arr) {
    if (e.type != v.array_type) return InvalidArgument("metadata '" + key + "': array element of the wrong type");
    AG_RETURN_IF_ERROR(check_value(key, e, depth + 1));
  }
  return Status::OK();
}

// ne innermost-first, as GGUF stores it.
std::vector<int64_t> to_ne(const std::vector<int64_t>& shape) { return {shape.rbegin(), shape.rend()}; }

}  // namespace

void Writer::add_string(std::string key, std::string v) { add_value(std::move(key), Value::of_string(std::move(v))); }
void Writer::add_uint32(std::string key, uint32_t v) { add_value(std::move(key), Value::of_uint(ValueType::UINT32, v)); }
void Writer::add_int32(std::string key, int32_t v) { add_value(std::move(key), Value::of_int(ValueType::INT32, v)); }
void Writer::add_uint64(std::string key, uint64_t v) { add_value(std::move(key), Value::of_uint(ValueType::UINT64, v)); }
void Writer::add_float32(std::string key, float v) { add_value(std::move(key), Value::of_float(ValueType::FLOAT32, v)); }
void Writer::add_bool(std::string key, bool v) { add_value(std::move(key), Value::of_bool(v)); }
void Writer::add_value(std::string key, Value v) { kv_.emplace_back(std::move(key), std::move(v)); }

void Writer::add_string_array(std::string key, std::vector<std::string> v) {
  add_value(std::move(key), Value::of_string_array(std::move(v)));
}

void Writer::add_float32_array(std::string key, std::vector<float> v) {
  std::vector<Value> items;
  items.reserve(v.size());
  for (float f : v) items.push_back(Value::of_float(ValueType::FLOAT32, f));
  add_value(std::move(key), Value::of_array(ValueType::FLOAT32, std::move(items)));
}

void Writer::add_int32_array(std::string key, std::vector<int32_t> v) {
  std::vector<Value> items;
  items.reserve(v.size());
  for (int32_t i : v) items.push_back(Value::of_int(ValueType::INT32, i));
  add_value(std::move(key), Value::of_array(ValueType::INT32, std::move(items)));
}

void Writer::add_tensor(std::string name, DType type, std::vector<int64_t> shape, const void* data, size_t nbytes) {
  PendingTensor t{std::move(name), type, std::move(shape), {}};
  const auto* p = static_cast<const uint8_t*>(data);
  if (nbytes > 0) t.bytes.assign(p, p + nbytes);
  tensors_.push_back(std::move(t));
}

Status Writer::check() const {
  if (!is_power_of_two(alignment_) || alignment_ > UINT32_MAX) {
    return InvalidArgument("alignment " + std::to_string(alignment_) + " is not a power of two that fits u32");
  }
  std::set<std::string, std::less<>> keys;
  for (const auto& [key, v] : kv_) {
    if (key.empty()) return InvalidArgument("empty metadata key");
    if (!keys.insert(key).second) return InvalidArgument("duplicate metadata key '" + key + "'");
    AG_RETURN_IF_ERROR(check_value(key, v, 0));
    if (key == kAlignmentKey && (v.type != ValueType::UINT32 || v.u != alignment_)) {
      return InvalidArgument("general.alignment must be a u32 equal to set_alignment()");
    }
  }
  std::set<std::string, std::less<>> names;
  for (const PendingTensor& t : tensors_) {
    const std::string ctx = "tensor '" + t.name + "'";
    if (t.name.empty() || t.name.size() > 63) return InvalidArgument(ctx + ": name must be 1..63 bytes");
    if (!names.insert(t.name).second) return InvalidArgument("duplicate tensor name '" + t.name + "'");
    if (t.shape.empty() || t.shape.size() > 4) return InvalidArgument(ctx + ": needs 1..4 dimensions");
    int64_t rows = 1;
    for (size_t d = 0; d < t.shape.size(); ++d) {
      if (t.shape[d] <= 0) return InvalidArgument(ctx + ": dimensions must be positive");
      if (d + 1 < t.shape.size()) {
        auto r = checked_mul(rows, t.shape[d]);
        if (!r) return InvalidArgument(ctx + ": element count overflows");
        rows = *r;
      }
    }
    const DTypeInfo& info = dtype_info(t.type);
    if (t.shape.back() % info.block_size != 0) {
      return InvalidArgument(ctx + ": row length is not a multiple of the block size");
    }
    auto want = checked_mul(static_cast<uint64_t>(row_size(t.type, t.shape.back())), static_cast<uint64_t>(rows));
    if (!want || *want != t.bytes.size()) {
      return InvalidArgument(ctx + ": " + std::to_string(t.bytes.size()) + " data bytes do not match the shape");
    }
  }
  return Status::OK();
}

std::vector<uint8_t> Writer::to_bytes() const {
  Status s = check();
  AG_CHECK_MSG(s.ok(), s.message().c_str());
  bool has_alignment_key = false;
  for (const auto& kv : kv_) has_alignment_key |= kv.first == kAlignmentKey;
  const bool add_alignment_key = alignment_ != kDefaultAlignment && !has_alignment_key;

  std::vector<uint8_t> bytes;
  Out out(&bytes);
  out.put(kMagic);
  out.put(kVersion);
  out.put<uint64_t>(tensors_.size());
  out.put<uint64_t>(kv_.size() + (add_alignment_key ? 1 : 0));
  if (add_alignment_key) {
    out.put_string(kAlignmentKey);
    out.put(static_cast<uint32_t>(ValueType::UINT32));
    out.put(static_cast<uint32_t>(alignment_));
  }
  for (const auto& [key, v] : kv_) {
    out.put_string(key);
    out.put(static_cast<uint32_t>(v.type));
    out.put_value(v, v.type);
  }
  uint64_t offset = 0;
  for (const PendingTensor& t : tensors_) {
    out.put_string(t.name);
    out.put(static_cast<uint32_t>(t.shape.size()));
    for (int64_t d : to_ne(t.shape)) out.put(static_cast<uint64_t>(d));
    out.put(static_cast<uint32_t>(t.type));
    out.put(offset);
    offset = *checked_align_up(offset + t.bytes.size(), alignment_);
  }
  out.pad_to(alignment_);  // even without tensors, as gguf-py does
  for (const PendingTensor& t : tensors_) {
    bytes.insert(bytes.end(), t.bytes.begin(), t.bytes.end());
    out.pad_to(alignment_);
  }
  return bytes;
}

Status Writer::write(const std::string& path) const {
  AG_RETURN_IF_ERROR(check());
  const std::vector<uint8_t> bytes = to_bytes();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return IOError(path + ": cannot open for writing: " + std::strerror(errno));
  size_t n = bytes.empty() ? 0 : std::fwrite(bytes.data(), 1, bytes.size(), f);
  bool ok = n == bytes.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) return IOError(path + ": write failed");
  return Status::OK();
}

}  // namespace autoglm::gguf
