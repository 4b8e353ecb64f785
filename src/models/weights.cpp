#include "models/weights.h"

#include <cstring>

#include "backends/cpu/packed.h"
#include "formats/gguf.h"
#include "quant/quant.h"

namespace autoglm {
namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// Owned copy of t converted to `to` (f32 in between), row by row.
Tensor convert(const Tensor& t, DType to) {
  // Not empty_weight: a requantized matrix is usually packed next and freed, and a freed buffer
  // leaves its pages in a weight chunk that the packed weights keep alive.
  Tensor out = Tensor::empty(to, t.shape());
  std::vector<float> row(static_cast<size_t>(t.cols()));
  for (int64_t r = 0; r < t.rows(); ++r) {
    quant::dequantize_row(t.dtype(), t.row_ptr(r), row.data(), t.cols());
    if (to == DType::F32) {
      std::memcpy(out.row_ptr(r), row.data(), row.size() * sizeof(float));
    } else {
      quant::quantize_row(to, row.data(), out.row_ptr(r), t.cols());
    }
  }
  return out;
}

}  // namespace

WeightLoader::WeightLoader(std::shared_ptr<const gguf::File> file, ModelLoadOptions opts)
    : file_(std::move(file)), opts_(opts) {}

bool WeightLoader::has(const std::string& name) const { return file_->find_tensor(name) != nullptr; }

Result<Tensor> WeightLoader::fetch(const std::string& name, const std::vector<int64_t>& shape) {
  const gguf::TensorInfo* info = file_->find_tensor(name);
  if (info == nullptr) return CorruptFile("missing tensor '" + name + "'");
  if (info->shape() != shape) {
    return CorruptFile("tensor '" + name + "' has shape " + shape_str(info->shape()) + ", expected " + shape_str(shape));
  }
  const quant::TypeTraits* tr = quant::type_traits(info->type);
  if (tr == nullptr || tr->to_float == nullptr) {
    return Unsupported("tensor '" + name + "' has type " + dtype_name(info->type) + ", which this build cannot compute with");
  }
  if (counted_.insert(name).second) bytes_ += info->nbytes;
  return file_->tensor_view(*info);
}

Result<Tensor> WeightLoader::unpacked_matrix(const std::string& name, const std::vector<int64_t>& shape) {
  AG_ASSIGN_OR_RETURN(Tensor t, fetch(name, shape));
  const quant::TypeTraits* tr = quant::type_traits(t.dtype());
  if (tr->vec_dot == nullptr) return Unsupported("tensor '" + name + "' type " + dtype_name(t.dtype()) + " has no dot product");
  const int64_t act_block = dtype_info(tr->vec_dot_type).block_size;
  if (t.cols() % act_block != 0) {
    return CorruptFile("tensor '" + name + "' row length " + std::to_string(t.cols()) + " is not a multiple of " +
                       std::to_string(act_block));
  }
  const DType want = opts_.requantize;
  const bool is_float = t.dtype() == DType::F32 || t.dtype() == DType::F16 || t.dtype() == DType::BF16;
  if (want != DType::F32 && is_float && want != t.dtype() && t.cols() % dtype_info(want).block_size == 0) {
    const quant::TypeTraits* wt = quant::type_traits(want);
    if (wt == nullptr || wt->from_float == nullptr || wt->vec_dot == nullptr) {
      return Unsupported(std::string("cannot quantize weights to ") + dtype_name(want));
    }
    t = convert(t, want);
  }
  return t;
}

void WeightLoader::release_if_mapped(const std::string& name, const Tensor& t) {
  // The mapped original is not read again (a tied table is looked up in the packed copy).
  if (t.data() == file_->find_tensor(name)->data) file_->release_pages(*file_->find_tensor(name));
}

Tensor WeightLoader::packed_if_wanted(const std::string& name, const Tensor& t) {
  if (!opts_.pack_weights || !cpu::should_pack(t)) return t;
  Tensor packed = cpu::pack_matrix(t);
  release_if_mapped(name, t);
  return packed;
}

Result<Tensor> WeightLoader::matrix(const std::string& name, std::vector<int64_t> shape) {
  AG_ASSIGN_OR_RETURN(const Tensor t, unpacked_matrix(name, shape));
  return packed_if_wanted(name, t);
}

Result<WeightLoader::GateUp> WeightLoader::gate_up(const std::string& gate, const std::string& up,
                                                   std::vector<int64_t> shape) {
  AG_ASSIGN_OR_RETURN(const Tensor g, unpacked_matrix(gate, shape));
  AG_ASSIGN_OR_RETURN(const Tensor u, unpacked_matrix(up, shape));
  GateUp out;
  if (opts_.pack_weights && g.dtype() == u.dtype() && cpu::should_pack(g) && cpu::should_pack(u)) {
    // Packed group 2i is gate rows 16i.., group 2i + 1 the same rows of up.
    out.pair = cpu::pack_matrix(cpu::pair_row_groups(g, u));
    release_if_mapped(gate, g);
    release_if_mapped(up, u);
  } else {
    out.gate = packed_if_wanted(gate, g);
    out.up = packed_if_wanted(up, u);
  }
  return out;
}

Result<Tensor> WeightLoader::f32(const std::string& name, std::vector<int64_t> shape) {
  AG_ASSIGN_OR_RETURN(Tensor t, fetch(name, shape));
  if (t.dtype() == DType::F32) return t;
  return convert(t, DType::F32);
}

Result<Tensor> WeightLoader::table(const std::string& name, std::vector<int64_t> shape) {
  return fetch(name, shape);
}

}  // namespace autoglm
