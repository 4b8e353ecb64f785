// GGUF File: mapping the file read-only, and typed access to its metadata and tensors.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "formats/gguf.h"

namespace autoglm::gguf {

Result<std::unique_ptr<File>> File::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string msg = path + ": " + std::strerror(err);
    return err == ENOENT ? NotFound(msg) : IOError(msg);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return IOError(path + ": stat failed: " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return IOError(path + ": not a regular file");
  }
  std::unique_ptr<File> f(new File());
  f->size_ = static_cast<size_t>(st.st_size);
  if (f->size_ > 0) {
    // Read-only private mapping: tensors are used in place; writes through a view would fault.
    void* m = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return IOError(path + ": mmap failed: " + std::strerror(err));
    }
    f->map_ = m;
    f->base_ = static_cast<const uint8_t*>(m);
  }
  ::close(fd);  // the mapping stays valid without the descriptor
  Status s = f->parse();
  if (!s.ok()) return Status(s.code(), path + ": " + s.message());
  return f;
}

Result<std::unique_ptr<File>> File::from_bytes(const uint8_t* data, size_t size) {
  std::unique_ptr<File> f(new File());
  if (size > 0) f->owned_.assign(data, data + size);
  f->base_ = f->owned_.data();
  f->size_ = size;
  AG_RETURN_IF_ERROR(f->parse());
  return f;
}

File::~File() {
  if (map_ != nullptr) ::munmap(map_, size_);
}

const Value* File::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

std::optional<std::string> File::get_string(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr || v->type != ValueType::STRING) return std::nullopt;
  return v->str;
}

std::optional<int64_t> File::get_int(std::string_view key) const {
  const Value* v = find(key);
  return v == nullptr ? std::nullopt : v->as_int();
}

std::optional<double> File::get_float(std::string_view key) const {
  const Value* v = find(key);
  return v == nullptr ? std::nullopt : v->as_float();
}

std::optional<bool> File::get_bool(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr || v->type != ValueType::BOOL) return std::nullopt;
  return v->u != 0;
}

const std::vector<std::string>* File::get_string_array(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr || v->type != ValueType::ARRAY || v->array_type != ValueType::STRING) return nullptr;
  return &v->arr_str;
}

std::optional<std::vector<double>> File::get_float_array(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr || v->type != ValueType::ARRAY) return std::nullopt;
  const ValueType et = v->array_type;
  if (et == ValueType::STRING || et == ValueType::ARRAY || et == ValueType::BOOL) return std::nullopt;
  std::vector<double> out;
  out.reserve(v->arr.size());
  for (const Value& e : v->arr) {
    auto f = e.as_float();
    if (!f) return std::nullopt;  // elements disagree with array_type (hand-built Value)
    out.push_back(*f);
  }
  return out;
}

std::optional<std::vector<int64_t>> File::get_int_array(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr || v->type != ValueType::ARRAY) return std::nullopt;
  if (!Value::of_uint(v->array_type, 0).is_integer()) return std::nullopt;
  std::vector<int64_t> out;
  out.reserve(v->arr.size());
  for (const Value& e : v->arr) {
    auto i = e.as_int();
    if (!i || !e.is_integer()) return std::nullopt;  // a u64 above INT64_MAX
    out.push_back(*i);
  }
  return out;
}

const TensorInfo* File::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Tensor File::tensor_view(const TensorInfo& info) const {
  // The mapping is read-only; Tensor has no const view, so callers must not write through it.
  return Tensor::view_of(info.type, info.shape(), const_cast<uint8_t*>(info.data));
}

void File::release_pages(const TensorInfo& info) const {
  if (map_ == nullptr || info.nbytes == 0) return;
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>(info.data), end = begin + info.nbytes;
  const uintptr_t first = (begin + page - 1) / page * page, last = end / page * page;
  // A private read-only file mapping: dropped pages come back from the file if touched again.
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

}  // namespace autoglm::gguf
