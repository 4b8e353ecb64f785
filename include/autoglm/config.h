// Configuration types of the public C++ API.
#pragma once

#include <cstdint>
#include <string>

namespace autoglm {

// How a model is optimized when it is loaded.
class OptimizationConfig {
 public:
  // Quantize float weight matrices at load: 8 -> Q8_0, 4 -> Q4_0; 0 keeps the file's types.
  OptimizationConfig& enable_quantization(int bits) { quant_bits = bits; return *this; }
  OptimizationConfig& enable_graph_optimization(bool on = true) { graph_optimization = on; return *this; }
  OptimizationConfig& set_threads(int n) { n_threads = n; return *this; }
  OptimizationConfig& set_context_size(int n) { n_ctx = n; return *this; }
  // "f32", "f16" or "int8" (int8 values with an f16 scale per token and head).
  OptimizationConfig& set_kv_cache_type(std::string t) { kv_cache_type = std::move(t); return *this; }
  // Re-lay Q8_0/Q4_0 weight matrices for the CPU's SIMD kernels at load (on by default).
  OptimizationConfig& enable_weight_packing(bool on = true) { weight_packing = on; return *this; }

  int quant_bits = 0;
  bool graph_optimization = true;
  bool weight_packing = true;
  int n_threads = 0;   // 0: all cores
  int n_ctx = 0;       // 0: the model's, capped at 4096
  std::string kv_cache_type = "f16";  // as llama.cpp: half the memory and traffic of f32
};

// Sampling and stopping for generate(). Defaults follow llama.cpp's.
struct GenerationConfig {
  int max_new_tokens = 128;   // -1: until end of text or the context is full
  float temperature = 0.8f;   // 0: greedy
  int top_k = 40;             // 0: off
  float top_p = 0.95f;        // 1: off
  float min_p = 0.05f;        // 0: off
  float repetition_penalty = 1.0f;
  int repeat_last_n = 64;
  uint64_t seed = 0;          // same seed, same text
  bool add_special_tokens = true;
};

enum class DeviceType { kCPU, kCUDA };

struct Device {
  DeviceType type = DeviceType::kCPU;
  int index = 0;
  static Device CPU() { return {}; }
};

}  // namespace autoglm
