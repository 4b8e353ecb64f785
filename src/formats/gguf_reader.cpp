// GGUF parsing and validation (File::parse). The image is hostile: every read is bounds-checked,
// every count is checked against the bytes that remain before anything is allocated for it, and
// every tensor is checked for size overflow, alignment, overlap and bounds.
#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>

#include "core/checked_math.h"
#include "formats/gguf.h"

namespace autoglm::gguf {
namespace {

static_assert(std::endian::native == std::endian::little, "the GGUF reader assumes a little-endian host");

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian uint32
constexpr uint32_t kMinVersion = 2;
constexpr uint32_t kMaxVersion = 3;
constexpr int kMaxArrayDepth = 4;         // an array may nest at most this many levels
constexpr uint64_t kMaxKeyBytes = 65535;  // the spec bounds keys to 2^16-1 bytes
constexpr uint64_t kMaxTensorNameBytes = 63;  // GGML_MAX_NAME = 64 including the NUL
constexpr int kMaxDims = 4;
// Smallest encodings, used to reject counts the rest of the file could never hold.
constexpr uint64_t kMinKvBytes = 8 + 1 + 4 + 1;              // key length, 1-byte key, type, u8
constexpr uint64_t kMinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8;  // name, n_dims, 1 dim, type, offset
constexpr uint64_t kMinArrayHeaderBytes = 4 + 8;             // element type + count
// Non-string array elements each become a Value (~100 bytes); this bounds memory for files
// whose arrays are legal but absurd. Real vocabularies stay well below (a few 100k entries).
constexpr uint64_t kMaxArrayValues = uint64_t{1} << 24;

// A bounds-checked little-endian cursor over the image.
class Cursor {
 public:
  Cursor(const uint8_t* p, size_t n) : p_(p), n_(n) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return n_ - pos_; }

  // `what` names the field in the error; messages are only built on failure (this runs per token).
  template <typename T>
  Status read(T* out, const std::string& what, const char* suffix = "") {
    if (remaining() < sizeof(T)) {
      return CorruptFile("truncated file: " + what + suffix + " needs " + std::to_string(sizeof(T)) +
                         " bytes at offset " + std::to_string(pos_) + " but only " + std::to_string(remaining()) +
                         " remain");
    }
    std::memcpy(out, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::OK();
  }

  Status read_string(std::string* out, const std::string& what, uint64_t max_len = UINT64_MAX) {
    uint64_t len = 0;
    size_t at = pos_;
    AG_RETURN_IF_ERROR(read(&len, what, " length"));
    if (len > remaining()) {
      return CorruptFile(what + ": string length " + std::to_string(len) + " at offset " + std::to_string(at) +
                         " runs past the end of the file (" + std::to_string(remaining()) + " bytes left)");
    }
    if (len > max_len) {
      return CorruptFile(what + " is " + std::to_string(len) + " bytes long; at most " + std::to_string(max_len) +
                         " are allowed");
    }
    out->assign(reinterpret_cast<const char*>(p_ + pos_), static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return Status::OK();
  }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
};

class ValueParser {
 public:
  explicit ValueParser(Cursor* c) : c_(c) {}

  Status parse(ValueType type, int depth, const std::string& ctx, Value* out) {
    out->type = type;
    switch (type) {
      case ValueType::UINT8: return read_uint<uint8_t>(ctx, out);
      case ValueType::UINT16: return read_uint<uint16_t>(ctx, out);
      case ValueType::UINT32: return read_uint<uint32_t>(ctx, out);
      case ValueType::UINT64: return read_uint<uint64_t>(ctx, out);
      case ValueType::INT8: return read_int<int8_t>(ctx, out);
      case ValueType::INT16: return read_int<int16_t>(ctx, out);
      case ValueType::INT32: return read_int<int32_t>(ctx, out);
      case ValueType::INT64: return read_int<int64_t>(ctx, out);
      case ValueType::FLOAT32: {
        float f = 0;
        AG_RETURN_IF_ERROR(c_->read(&f, ctx));
        out->f = f;
        return Status::OK();
      }
      case ValueType::FLOAT64: return c_->read(&out->f, ctx);
      case ValueType::BOOL: {
        size_t at = c_->pos();
        uint8_t b = 0;
        AG_RETURN_IF_ERROR(c_->read(&b, ctx));
        if (b > 1) {
          return CorruptFile(ctx + ": bool byte at offset " + std::to_string(at) + " is " + std::to_string(b) +
                             ", not 0 or 1");
        }
        out->u = b;
        return Status::OK();
      }
      case ValueType::STRING: return c_->read_string(&out->str, ctx);
      case ValueType::ARRAY: return parse_array(depth, ctx, out);
    }
    return CorruptFile(ctx + ": unknown value type " + std::to_string(static_cast<uint32_t>(type)));
  }

 private:
  template <typename T>
  Status read_uint(const std::string& ctx, Value* out) {
    T v{};
    AG_RETURN_IF_ERROR(c_->read(&v, ctx));
    out->u = v;
    return Status::OK();
  }
  template <typename T>
  Status read_int(const std::string& ctx, Value* out) {
    T v{};
    AG_RETURN_IF_ERROR(c_->read(&v, ctx));
    out->i = v;
    return Status::OK();
  }

  Status parse_array(int depth, const std::string& ctx, Value* out) {
    size_t at = c_->pos();
    uint32_t elem_id = 0;
    uint64_t count = 0;
    AG_RETURN_IF_ERROR(c_->read(&elem_id, ctx, " array element type"));
    if (!is_valid_value_type(elem_id)) {
      return CorruptFile(ctx + ": unknown array element type " + std::to_string(elem_id) + " at offset " +
                         std::to_string(at));
    }
    const auto elem = static_cast<ValueType>(elem_id);
    if (elem == ValueType::ARRAY && depth + 1 >= kMaxArrayDepth) {
      return CorruptFile(ctx + ": arrays nested deeper than " + std::to_string(kMaxArrayDepth) + " levels");
    }
    AG_RETURN_IF_ERROR(c_->read(&count, ctx, " array length"));
    uint64_t min_elem = elem == ValueType::STRING  ? 8
                        : elem == ValueType::ARRAY ? kMinArrayHeaderBytes
                                                   : value_type_size(elem);
    if (count > c_->remaining() / min_elem) {
      return CorruptFile(ctx + ": array of " + std::to_string(count) + " " + value_type_name(elem) +
                         " elements at offset " + std::to_string(at) + " cannot fit in the " +
                         std::to_string(c_->remaining()) + " bytes left in the file");
    }
    out->array_type = elem;
    const std::string elem_ctx = ctx + " element";
    if (elem == ValueType::STRING) {
      out->arr_str.resize(static_cast<size_t>(count));  // bounded: count <= remaining / 8
      for (uint64_t k = 0; k < count; ++k) {
        Status s = c_->read_string(&out->arr_str[k], elem_ctx);
        if (!s.ok()) return annotate(s, k);
      }
      return Status::OK();
    }
    if (count > kMaxArrayValues - array_values_) {
      return Unsupported(ctx + ": metadata arrays hold more than " + std::to_string(kMaxArrayValues) +
                         " values in total; refusing to load them");
    }
    array_values_ += count;
    out->arr.resize(static_cast<size_t>(count));
    for (uint64_t k = 0; k < count; ++k) {
      Status s = parse(elem, depth + 1, elem_ctx, &out->arr[k]);
      if (!s.ok()) return annotate(s, k);
    }
    return Status::OK();
  }

  static Status annotate(const Status& s, uint64_t index) {
    return Status(s.code(), s.message() + " (array index " + std::to_string(index) + ")");
  }

  Cursor* c_;
  uint64_t array_values_ = 0;
};

std::string tensor_ctx(uint64_t i, const std::string& name) {
  return name.empty() ? "tensor #" + std::to_string(i) : "tensor '" + name + "'";
}

// GGUF ids that name real ggml types this engine does not implement (the ternary formats and
// MXFP4).
bool is_known_unsupported_type(uint32_t id) {
  return id == 34 || id == 35 || id == 39;
}

// Element count and byte size of a tensor, with every product checked.
Status tensor_sizes(const TensorInfo& t, const DTypeInfo& info, const std::string& ctx, uint64_t* nbytes) {
  const int64_t bs = info.block_size;
  if (t.ne[0] % bs != 0) {
    return CorruptFile(ctx + ": row length " + std::to_string(t.ne[0]) + " is not a multiple of the " +
                       info.name + " block size " + std::to_string(bs));
  }
  int64_t rows = 1;
  for (int d = 1; d < t.n_dims; ++d) {
    auto r = checked_mul(rows, t.ne[static_cast<size_t>(d)]);
    if (!r) return CorruptFile(ctx + ": element count overflows int64");
    rows = *r;
  }
  if (!checked_mul(rows, t.ne[0])) return CorruptFile(ctx + ": element count overflows int64");
  auto row_bytes = checked_mul(static_cast<uint64_t>(t.ne[0] / bs), static_cast<uint64_t>(info.type_size));
  auto total = row_bytes ? checked_mul(*row_bytes, static_cast<uint64_t>(rows)) : std::nullopt;
  if (!total || *total > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return CorruptFile(ctx + ": byte size overflows int64");
  }
  *nbytes = *total;
  return Status::OK();
}

Status parse_tensor_info(Cursor* c, uint64_t i, TensorInfo* t) {
  std::string ctx = tensor_ctx(i, "");
  AG_RETURN_IF_ERROR(c->read_string(&t->name, ctx + " name"));
  if (t->name.empty()) return CorruptFile(ctx + " has an empty name");
  if (t->name.size() > kMaxTensorNameBytes) {
    return CorruptFile(ctx + " name is " + std::to_string(t->name.size()) + " bytes long; GGUF allows at most " +
                       std::to_string(kMaxTensorNameBytes));
  }
  ctx = tensor_ctx(i, t->name);
  uint32_t n_dims = 0;
  AG_RETURN_IF_ERROR(c->read(&n_dims, ctx + " n_dims"));
  if (n_dims == 0 || n_dims > kMaxDims) {
    return CorruptFile(ctx + ": n_dims is " + std::to_string(n_dims) + "; it must be 1.." + std::to_string(kMaxDims));
  }
  t->n_dims = static_cast<int>(n_dims);
  t->ne.resize(n_dims);
  for (uint32_t d = 0; d < n_dims; ++d) {
    uint64_t raw = 0;
    AG_RETURN_IF_ERROR(c->read(&raw, ctx + " dimension"));
    const auto v = static_cast<int64_t>(raw);
    if (v <= 0) {
      return CorruptFile(ctx + ": dimension " + std::to_string(d) + " is " + std::to_string(v) + "; must be positive");
    }
    t->ne[d] = v;
  }
  uint32_t type_id = 0;
  AG_RETURN_IF_ERROR(c->read(&type_id, ctx + " type"));
  auto info = dtype_info_from_id(type_id);
  if (!info) {
    if (is_known_unsupported_type(type_id)) {
      return Unsupported(ctx + ": ggml type id " + std::to_string(type_id) + " is not supported by this engine");
    }
    return CorruptFile(ctx + ": unknown tensor type id " + std::to_string(type_id));
  }
  t->type = info->type;
  AG_RETURN_IF_ERROR(c->read(&t->offset, ctx + " offset"));
  return tensor_sizes(*t, *info, ctx, &t->nbytes);
}

}  // namespace

Status File::parse() {
  if (size_ < 4) return CorruptFile("file is " + std::to_string(size_) + " bytes: too small to be GGUF");
  Cursor c(base_, size_);
  uint32_t magic = 0;
  AG_RETURN_IF_ERROR(c.read(&magic, "magic"));
  if (magic != kMagic) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%02x %02x %02x %02x", base_[0], base_[1], base_[2], base_[3]);
    return CorruptFile(std::string("bad magic: expected 'GGUF' (47 47 55 46), found ") + buf);
  }
  AG_RETURN_IF_ERROR(c.read(&version_, "version"));
  if (version_ == 1) {
    return Unsupported("GGUF version 1 is not supported (it used 32-bit counts); re-convert the model to GGUF v3");
  }
  if (version_ < kMinVersion || version_ > kMaxVersion) {
    uint32_t swapped = __builtin_bswap32(version_);
    if (swapped >= kMinVersion && swapped <= kMaxVersion) {
      return Unsupported("GGUF file is big-endian (version " + std::to_string(swapped) + "); only little-endian is supported");
    }
    if (version_ == 0) return CorruptFile("GGUF version 0 does not exist");
    return Unsupported("GGUF version " + std::to_string(version_) + " is not supported (supported: 2 and 3)");
  }
  uint64_t n_tensors = 0, n_kv = 0;
  AG_RETURN_IF_ERROR(c.read(&n_tensors, "tensor count"));
  AG_RETURN_IF_ERROR(c.read(&n_kv, "metadata count"));
  if (n_kv > c.remaining() / kMinKvBytes || n_tensors > c.remaining() / kMinTensorInfoBytes ||
      n_kv * kMinKvBytes + n_tensors * kMinTensorInfoBytes > c.remaining()) {
    return CorruptFile("header claims " + std::to_string(n_tensors) + " tensors and " + std::to_string(n_kv) +
                       " metadata entries, but only " + std::to_string(c.remaining()) + " bytes follow");
  }

  ValueParser values(&c);
  kv_.reserve(static_cast<size_t>(n_kv));  // bounded by the check above
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string ctx = "metadata key #" + std::to_string(i);
    std::string key;
    AG_RETURN_IF_ERROR(c.read_string(&key, ctx, kMaxKeyBytes));
    if (key.empty()) return CorruptFile(ctx + " is empty");
    if (kv_index_.count(key)) return CorruptFile("duplicate metadata key '" + key + "'");
    ctx = "metadata '" + key + "'";
    size_t at = c.pos();
    uint32_t type_id = 0;
    AG_RETURN_IF_ERROR(c.read(&type_id, ctx + " type"));
    if (!is_valid_value_type(type_id)) {
      return CorruptFile(ctx + ": unknown value type " + std::to_string(type_id) + " at offset " + std::to_string(at));
    }
    Value v;
    AG_RETURN_IF_ERROR(values.parse(static_cast<ValueType>(type_id), 0, ctx, &v));
    kv_index_.emplace(key, kv_.size());
    kv_.emplace_back(std::move(key), std::move(v));
  }

  if (const Value* a = find("general.alignment")) {
    if (a->type != ValueType::UINT32) {
      return CorruptFile(std::string("general.alignment must be u32, found ") + value_type_name(a->type));
    }
    if (!is_power_of_two(a->u)) {
      return CorruptFile("general.alignment is " + std::to_string(a->u) + "; it must be a non-zero power of two");
    }
    alignment_ = a->u;
  }

  if (n_tensors > c.remaining() / kMinTensorInfoBytes) {
    return CorruptFile("header claims " + std::to_string(n_tensors) + " tensors, but only " +
                       std::to_string(c.remaining()) + " bytes follow the metadata");
  }
  tensors_.resize(static_cast<size_t>(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    TensorInfo& t = tensors_[i];
    AG_RETURN_IF_ERROR(parse_tensor_info(&c, i, &t));
    if (!tensor_index_.emplace(t.name, static_cast<size_t>(i)).second) {
      return CorruptFile("duplicate tensor name '" + t.name + "'");
    }
  }

  auto data_offset = checked_align_up(c.pos(), alignment_);
  if (!data_offset) return CorruptFile("data section offset overflows");
  data_offset_ = *data_offset;
  if (tensors_.empty()) return Status::OK();  // files without tensors (vocabularies) may end unpadded
  if (data_offset_ > size_) {
    return CorruptFile("truncated file: tensor data should start at offset " + std::to_string(data_offset_) +
                       " but the file is " + std::to_string(size_) + " bytes");
  }
  const uint64_t data_size = size_ - data_offset_;
  for (TensorInfo& t : tensors_) {
    const std::string ctx = "tensor '" + t.name + "'";
    if (t.offset % alignment_ != 0) {
      return CorruptFile(ctx + ": offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                         std::to_string(alignment_));
    }
    auto end = checked_add(t.offset, t.nbytes);
    if (!end || *end > data_size) {
      return CorruptFile(ctx + ": data [" + std::to_string(t.offset) + ", +" + std::to_string(t.nbytes) +
                         ") runs past the end of the file (data section is " + std::to_string(data_size) + " bytes)");
    }
    t.data = base_ + data_offset_ + t.offset;
  }
  std::vector<size_t> order(tensors_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tensors_[a].offset < tensors_[b].offset; });
  // In offset order the tensors must tile the data section: each starts where the previous one
  // ends, rounded up to the alignment (as every writer lays them out). No overlaps, no gaps.
  uint64_t expected = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    const TensorInfo& cur = tensors_[order[k]];
    if (cur.offset < expected) {
      return CorruptFile("tensors '" + tensors_[order[k - 1]].name + "' and '" + cur.name + "' overlap");
    }
    if (cur.offset > expected) {
      return CorruptFile("tensor '" + cur.name + "' starts at data offset " + std::to_string(cur.offset) +
                         ", leaving a gap after " + std::to_string(expected));
    }
    expected = *checked_align_up(cur.offset + cur.nbytes, alignment_);  // ends within the file: no overflow
  }
  return Status::OK();
}

}  // namespace autoglm::gguf
