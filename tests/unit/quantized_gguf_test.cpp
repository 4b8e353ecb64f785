// Real quantized tensors through the whole file path: quantize with the reference, write with
// our GGUF writer, read back through the mmap reader, dequantize: bit-identical to dequantizing
// the in-memory blocks, and within the format's error of the original floats.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <random>
#include <vector>

#include "formats/gguf.h"
#include "quant/quant.h"

namespace autoglm {
namespace {

TEST(QuantizedGguf, WriteReadDequantizeMatchesReference) {
  const int64_t rows = 12, cols = 512;
  std::mt19937 rng(42);
  std::normal_distribution<float> nd(0.0f, 0.7f);
  std::vector<float> src(static_cast<size_t>(rows * cols));
  for (float& x : src) x = nd(rng);

  struct Case { DType type; double max_rmse; };
  const std::vector<Case> cases = {{DType::Q8_0, 0.01}, {DType::Q4_0, 0.12}, {DType::Q4_K, 0.08},
                                   {DType::Q5_K, 0.04}, {DType::Q6_K, 0.02}};
  gguf::Writer w;
  w.add_string("general.architecture", "test");
  std::vector<std::vector<uint8_t>> blobs;
  for (const Case& c : cases) {
    std::vector<uint8_t> q(row_size(c.type, cols) * static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) {
      quant::quantize_row(c.type, src.data() + r * cols, q.data() + static_cast<size_t>(r) * row_size(c.type, cols), cols);
    }
    w.add_tensor(std::string("t.") + dtype_name(c.type), c.type, {rows, cols}, q.data(), q.size());
    blobs.push_back(std::move(q));
  }
  const std::string path = ::testing::TempDir() + "/quantized." + std::to_string(::getpid()) + ".gguf";
  ASSERT_TRUE(w.write(path).ok());
  auto f = gguf::File::open(path);
  ASSERT_TRUE(f.ok()) << f.status().to_string();

  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const gguf::TensorInfo* info = (*f)->find_tensor(std::string("t.") + dtype_name(c.type));
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->type, c.type);
    EXPECT_EQ(info->shape(), (std::vector<int64_t>{rows, cols}));
    ASSERT_EQ(info->nbytes, blobs[i].size());
    Tensor t = (*f)->tensor_view(*info);
    std::vector<float> from_file(static_cast<size_t>(cols)), from_memory(static_cast<size_t>(cols));
    double err = 0;
    for (int64_t r = 0; r < rows; ++r) {
      quant::dequantize_row(c.type, t.row_ptr(r), from_file.data(), cols);
      quant::dequantize_row(c.type, blobs[i].data() + static_cast<size_t>(r) * row_size(c.type, cols), from_memory.data(), cols);
      ASSERT_EQ(from_file, from_memory) << dtype_name(c.type);
      for (int64_t j = 0; j < cols; ++j) {
        const double d = from_file[static_cast<size_t>(j)] - src[static_cast<size_t>(r * cols + j)];
        err += d * d;
      }
    }
    EXPECT_LT(std::sqrt(err / double(rows * cols)), c.max_rmse) << dtype_name(c.type);
  }
}

}  // namespace
}  // namespace autoglm
