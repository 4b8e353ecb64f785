// Tensor: a typed n-d view (up to 4 dims) over memory it may or may not own.
// Shape is outermost-first, like PyTorch: a weight matrix of `rows` rows of `cols` elements
// has shape {rows, cols}. (GGUF lists dims innermost-first; the GGUF reader reverses them.)
// Rows are contiguous; for block-quantized types a row is a whole number of blocks.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace autoglm {

class Tensor {
 public:
  static constexpr int kMaxDims = 4;

  Tensor() = default;
  // Allocates zeroed, 64-byte aligned memory owned by the tensor.
  static Tensor empty(DType type, std::vector<int64_t> shape);
  // The same for a tensor that lives as long as its model (a packed weight): carved
  // from shared huge-page chunks (core/large_buffer.h).
  static Tensor empty_weight(DType type, std::vector<int64_t> shape);
  // A view over memory owned elsewhere (an mmap, an arena); `keepalive` may hold its owner.
  static Tensor view_of(DType type, std::vector<int64_t> shape, void* data,
                        std::shared_ptr<void> keepalive = nullptr);

  DType dtype() const { return dtype_; }
  int ndim() const { return ndim_; }
  int64_t dim(int i) const { return shape_[static_cast<size_t>(i < 0 ? i + ndim_ : i)]; }
  std::vector<int64_t> shape() const { return {shape_.begin(), shape_.begin() + ndim_}; }
  int64_t numel() const;
  int64_t rows() const { return ndim_ == 0 ? 1 : numel() / dim(-1); }  // product of outer dims
  int64_t cols() const { return ndim_ == 0 ? 1 : dim(-1); }
  size_t row_bytes() const { return row_size(dtype_, cols()); }
  size_t nbytes() const { return static_cast<size_t>(rows()) * row_bytes(); }
  bool defined() const { return data_ != nullptr; }

  void* data() { return data_; }
  const void* data() const { return data_; }
  template <typename T> T* data_as() { return static_cast<T*>(data_); }
  template <typename T> const T* data_as() const { return static_cast<const T*>(data_); }
  uint8_t* row_ptr(int64_t r) { return static_cast<uint8_t*>(data_) + static_cast<size_t>(r) * row_bytes(); }
  const uint8_t* row_ptr(int64_t r) const { return static_cast<const uint8_t*>(data_) + static_cast<size_t>(r) * row_bytes(); }

  // Same memory, new shape with the same element count (and same innermost block alignment).
  Tensor reshape(std::vector<int64_t> shape) const;
  // Rows [begin, end) of the outermost dimension.
  Tensor slice_rows(int64_t begin, int64_t end) const;

  std::string shape_string() const;  // "[64, 512]"

 private:
  // A tensor owning memory from `allocate` (core/large_buffer.h); empty and empty_weight.
  static Tensor allocated(DType type, std::vector<int64_t> shape, std::shared_ptr<void> (*allocate)(size_t));

  DType dtype_ = DType::F32;
  int ndim_ = 0;
  std::array<int64_t, kMaxDims> shape_{};
  void* data_ = nullptr;
  std::shared_ptr<void> owner_;
};

}  // namespace autoglm
