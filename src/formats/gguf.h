// GGUF v2/v3 reader and writer. The reader treats the file as hostile: every count, length,
// offset and product is checked against the file size before use, and any violation is a
// CorruptFile Status naming the problem (tensors must tile the data section: aligned, no
// overlaps, no gaps, inside the file). Tensor data are used in place from the mmap.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "autoglm/status.h"
#include "core/dtype.h"
#include "core/tensor.h"

namespace autoglm::gguf {

// GGUF metadata value types (gguf_type), numbered as in the spec.
enum class ValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
const char* value_type_name(ValueType t);
// Bytes of one scalar of type t in the file; 0 for STRING/ARRAY or an unknown type.
size_t value_type_size(ValueType t);
bool is_valid_value_type(uint32_t id);

// One metadata value. Scalars are widened: integers to int64/uint64, floats to double.
struct Value {
  ValueType type = ValueType::UINT8;
  ValueType array_type = ValueType::UINT8;  // element type when type == ARRAY
  uint64_t u = 0;                           // unsigned integers, and bool (0/1)
  int64_t i = 0;                            // signed integers
  double f = 0;                             // FLOAT32/FLOAT64
  std::string str;                          // STRING
  std::vector<Value> arr;                   // ARRAY of non-string elements
  std::vector<std::string> arr_str;         // ARRAY of STRING (kept apart: vocabularies are large)

  // Builders (writer users, tests). The type picks how the value is stored and written.
  static Value of_uint(ValueType t, uint64_t v);   // UINT8/16/32/64
  static Value of_int(ValueType t, int64_t v);     // INT8/16/32/64
  static Value of_float(ValueType t, double v);    // FLOAT32/FLOAT64
  static Value of_bool(bool v);
  static Value of_string(std::string v);
  static Value of_array(ValueType elem, std::vector<Value> items);  // non-string elements
  static Value of_string_array(std::vector<std::string> items);

  bool operator==(const Value& o) const = default;
  bool is_integer() const;
  std::optional<int64_t> as_int() const;   // any integer type (or bool) that fits int64
  std::optional<double> as_float() const;  // float or integer
  size_t array_size() const { return array_type == ValueType::STRING ? arr_str.size() : arr.size(); }
  std::string to_display_string(size_t max_items = 8) const;  // for `autoglm inspect`
};

struct TensorInfo {
  std::string name;
  DType type = DType::F32;
  int n_dims = 0;
  std::vector<int64_t> ne;   // GGUF order: ne[0] is the innermost (contiguous) dimension
  uint64_t offset = 0;       // relative to the start of the data section
  uint64_t nbytes = 0;       // validated size of the data
  const uint8_t* data = nullptr;  // into the mapped file
  // Shape outermost-first (reversed ne), as Tensor uses.
  std::vector<int64_t> shape() const { return {ne.rbegin(), ne.rend()}; }
};

class File {
 public:
  // Maps and validates a file. Fails with NotFound/IOError/CorruptFile/Unsupported.
  static Result<std::unique_ptr<File>> open(const std::string& path);
  // Validates a copy of an in-memory image (tests, fuzzing).
  static Result<std::unique_ptr<File>> from_bytes(const uint8_t* data, size_t size);
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // start of tensor data in the file
  size_t file_size() const { return size_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, Value>>& metadata() const { return kv_; }
  const Value* find(std::string_view key) const;
  std::optional<std::string> get_string(std::string_view key) const;
  std::optional<int64_t> get_int(std::string_view key) const;
  std::optional<double> get_float(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;
  const std::vector<std::string>* get_string_array(std::string_view key) const;
  std::optional<std::vector<double>> get_float_array(std::string_view key) const;
  std::optional<std::vector<int64_t>> get_int_array(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;
  // A read-only view over the tensor's bytes (shape outermost-first); keeps this File alive
  // only as long as the caller keeps the File.
  Tensor tensor_view(const TensorInfo& info) const;
  // Tells the kernel this process no longer needs the mapped pages wholly inside the tensor's
  // bytes (after the engine made its own re-laid copy), so they stop counting in its resident
  // memory; reading them again later re-reads the file. No-op for in-memory images.
  void release_pages(const TensorInfo& info) const;

 private:
  File() = default;
  Status parse();

  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  void* map_ = nullptr;             // mmap'd region, or nullptr
  std::vector<uint8_t> owned_;      // from_bytes copy
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> kv_;
  std::map<std::string, size_t, std::less<>> kv_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

// Writes GGUF v3 files (tests, converters, random-weight benchmark models). Tensor data are
// padded to the alignment, each tensor starting on an aligned offset; `general.alignment` is
// written when the alignment is not the default 32. Inconsistent input (duplicate keys or
// names, a shape that does not match the data size) is reported by check() and write();
// to_bytes() treats it as a bug in the caller.
class Writer {
 public:
  Status check() const;
  void set_alignment(uint64_t a) { alignment_ = a; }
  void add_string(std::string key, std::string v);
  void add_uint32(std::string key, uint32_t v);
  void add_int32(std::string key, int32_t v);
  void add_uint64(std::string key, uint64_t v);
  void add_float32(std::string key, float v);
  void add_bool(std::string key, bool v);
  void add_value(std::string key, Value v);  // any type, arrays included
  void add_string_array(std::string key, std::vector<std::string> v);
  void add_float32_array(std::string key, std::vector<float> v);
  void add_int32_array(std::string key, std::vector<int32_t> v);
  // shape outermost-first (as Tensor); data must hold row_size(type, shape.back()) * rows bytes.
  void add_tensor(std::string name, DType type, std::vector<int64_t> shape, const void* data, size_t nbytes);

  std::vector<uint8_t> to_bytes() const;
  Status write(const std::string& path) const;

 private:
  struct PendingTensor { std::string name; DType type; std::vector<int64_t> shape; std::vector<uint8_t> bytes; };
  uint64_t alignment_ = 32;
  std::vector<std::pair<std::string, Value>> kv_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace autoglm::gguf
