// Fetching model weights from a GGUF file with the shape and type checks every architecture
// needs: a missing tensor or a wrong shape is a CorruptFile naming the tensor.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "autoglm/status.h"
#include "core/tensor.h"
#include "models/model.h"

namespace autoglm {

class WeightLoader {
 public:
  WeightLoader(std::shared_ptr<const gguf::File> file, ModelLoadOptions opts);

  bool has(const std::string& name) const;
  // A matrix used by matmul (any type with a dot product); requantized if the options ask.
  Result<Tensor> matrix(const std::string& name, std::vector<int64_t> shape);
  // An MLP's gate and up matrices ([m, k] each): `pair`, one packed matrix [2m, k] whose rows
  // alternate graph::kSwiGLUPairCols of gate and as many of up (for matmul_swiglu with one
  // weight: decode then streams one run of memory instead of two); where the pair would not
  // be packed (types differ, no packed kernel, packing off), `gate` and `up` as matrix() gives
  // them, and `pair` undefined.
  struct GateUp {
    Tensor pair, gate, up;
  };
  Result<GateUp> gate_up(const std::string& gate, const std::string& up, std::vector<int64_t> shape);
  // A vector/table read as f32 (norm weights): converted to an owned f32 copy if stored
  // otherwise.
  Result<Tensor> f32(const std::string& name, std::vector<int64_t> shape);
  // An embedding table (any type with a dequantizer).
  Result<Tensor> table(const std::string& name, std::vector<int64_t> shape);

  // File bytes of the distinct tensors fetched: a tensor fetched twice (a tied embedding as
  // table and output head) counts once.
  size_t bytes() const { return bytes_; }

 private:
  Result<Tensor> fetch(const std::string& name, const std::vector<int64_t>& shape);
  // matrix() before packing: checked, requantized if the options ask.
  Result<Tensor> unpacked_matrix(const std::string& name, const std::vector<int64_t>& shape);
  // matrix()'s last step: t packed where the options and the CPU allow (the file's pages of
  // `name` then let go), else t itself.
  Tensor packed_if_wanted(const std::string& name, const Tensor& t);
  // Lets the file's pages of `name` go once a packed copy replaces them.
  void release_if_mapped(const std::string& name, const Tensor& t);

  std::shared_ptr<const gguf::File> file_;
  ModelLoadOptions opts_;
  size_t bytes_ = 0;
  std::set<std::string> counted_;
};

}  // namespace autoglm
