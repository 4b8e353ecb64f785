#include "core/tensor.h"

#include <cstdlib>
#include <cstring>

#include "core/check.h"
#include "core/large_buffer.h"

namespace autoglm {

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int i = 0; i < ndim_; ++i) n *= shape_[static_cast<size_t>(i)];
  return n;
}

Tensor Tensor::view_of(DType type, std::vector<int64_t> shape, void* data, std::shared_ptr<void> keepalive) {
  AG_CHECK(shape.size() <= static_cast<size_t>(kMaxDims));
  Tensor t;
  t.dtype_ = type;
  t.ndim_ = static_cast<int>(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) {
    AG_CHECK(shape[i] >= 0);
    t.shape_[i] = shape[i];
  }
  AG_CHECK(t.ndim_ == 0 || t.cols() % dtype_info(type).block_size == 0);
  t.data_ = data;
  t.owner_ = std::move(keepalive);
  return t;
}

Tensor Tensor::allocated(DType type, std::vector<int64_t> shape, std::shared_ptr<void> (*allocate)(size_t)) {
  Tensor t = view_of(type, std::move(shape), nullptr);
  t.owner_ = allocate(t.nbytes());
  AG_CHECK_MSG(t.owner_ != nullptr, "out of memory");
  t.data_ = t.owner_.get();
  return t;
}

Tensor Tensor::empty(DType type, std::vector<int64_t> shape) {
  return allocated(type, std::move(shape), &allocate_large_buffer);
}

Tensor Tensor::empty_weight(DType type, std::vector<int64_t> shape) {
  return allocated(type, std::move(shape), &allocate_weight_buffer);
}

Tensor Tensor::reshape(std::vector<int64_t> shape) const {
  Tensor t = view_of(dtype_, std::move(shape), data_, owner_);
  AG_CHECK(t.numel() == numel());
  return t;
}

Tensor Tensor::slice_rows(int64_t begin, int64_t end) const {
  AG_CHECK(ndim_ >= 1 && 0 <= begin && begin <= end && end <= shape_[0]);
  int64_t inner = ndim_ == 1 ? 1 : numel() / shape_[0];
  Tensor t = *this;
  t.shape_[0] = end - begin;
  size_t stride = ndim_ == 1 ? row_size(dtype_, 1) : row_size(dtype_, inner);
  if (ndim_ == 1) {
    // 1-d slices index elements; only valid for non-blocked types.
    AG_CHECK(dtype_info(dtype_).block_size == 1);
  }
  t.data_ = static_cast<uint8_t*>(data_) + static_cast<size_t>(begin) * stride;
  return t;
}

std::string Tensor::shape_string() const {
  std::string s = "[";
  for (int i = 0; i < ndim_; ++i) {
    if (i) s += ", ";
    s += std::to_string(shape_[static_cast<size_t>(i)]);
  }
  return s + "]";
}

}  // namespace autoglm
