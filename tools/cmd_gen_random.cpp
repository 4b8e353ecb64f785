// autoglm gen-random: a random-weight GGUF file with the tensor shapes of a real model, for
// benchmarks (speed depends on shapes, not on weight values). The file carries a synthetic
// SentencePiece vocabulary of the model's size so both our loader and llama.cpp read it.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "args.h"
#include "commands.h"
#include "formats/gguf.h"
#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/quant.h"

namespace autoglm::cli {
namespace {

struct Shape {
  const char* name;
  int64_t n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx;
  float rope_base, rms_eps;
  bool tied;  // the real model ties the output head to the token embedding
};

// Dimensions from each model's published config.json. Qwen2.5 and Llama 3.2 are written as
// arch "llama" (the engine's only architecture): same matrices, no Qwen q/k/v biases.
constexpr Shape kShapes[] = {
    {"smollm2-135m", 49152, 576, 30, 9, 3, 1536, 8192, 100000.0f, 1e-5f, true},
    {"qwen2.5-0.5b", 151936, 896, 24, 14, 2, 4864, 32768, 1000000.0f, 1e-6f, true},
    {"llama3.2-1b", 128256, 2048, 16, 32, 8, 8192, 131072, 500000.0f, 1e-5f, true},
    {"stories260k", 512, 64, 5, 8, 4, 172, 512, 10000.0f, 1e-5f, false},
};

constexpr const char* kUsage =
    "usage: autoglm gen-random --arch llama --shape smollm2-135m|qwen2.5-0.5b|llama3.2-1b|stories260k\n"
    "                          --type f32|f16|q8_0|q4_0|q4_k|iq1_s|iq1_m|iq2_xxs|iq2_xs|iq2_s|iq3_xxs|iq3_s\n"
    "                          --output F.gguf [--seed S]\n";

// GGUF general.file_type ids (llama.cpp's LLAMA_FTYPE_*), informational only.
uint32_t file_type_of(DType t) {
  switch (t) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q4_0: return 2;
    case DType::Q8_0: return 7;
    case DType::Q4_K: return 14;  // MOSTLY_Q4_K_S
    case DType::IQ2_XXS: return 19;
    case DType::IQ2_XS: return 20;
    case DType::IQ3_XXS: return 23;
    case DType::IQ1_S: return 24;
    case DType::IQ3_S: return 26;
    case DType::IQ2_S: return 28;
    case DType::IQ1_M: return 31;
    default: return 0;
  }
}

// The requested type where the row length allows it; otherwise the closest type that fits
// (K-quants need multiples of 256, legacy blocks multiples of 32), as llama.cpp's quantizer does.
DType type_for_row(DType want, int64_t cols) {
  if (cols % dtype_info(want).block_size == 0) return want;
  if (cols % 32 == 0) return DType::Q4_0;  // only reached from the 256-element types
  return DType::F16;
}

// Cheap deterministic noise: splitmix64 per (seed, tensor, row), roughly normal from the sum
// of four uniforms, scaled like an initialised layer (std ~0.02 * sqrt(4 / 3)).
inline uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void fill_row(uint64_t seed, float* row, int64_t n) {
  uint64_t s = seed;
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t r = splitmix(s);
    float u = 0.0f;
    for (int k = 0; k < 4; ++k) u += static_cast<float>((r >> (16 * k)) & 0xffff) * (1.0f / 65536.0f);
    row[i] = (u - 2.0f) * 0.04f;
  }
}

// The lattice types have no quantizer here: their blocks are random bits (every pattern is a
// valid block) with one f16 d per type that gives weights of about the same spread as fill_row's.
float random_lattice_d(DType t) {
  switch (t) {
    case DType::IQ3_XXS: return 2.7e-4f;  // |w| ~ d * (0.5 + s) / 2 * grid: ~112 d
    case DType::IQ3_S: return 2.3e-4f;    // d * (1 + 2 s) * grid: ~128 d
    case DType::IQ1_S:
    case DType::IQ1_M: return 5e-3f;      // d * (2 s + 1) * (grid +- 1/8): ~6 d
    default: return 7.5e-4f;              // IQ2: d * (0.5 + s) / 4 * grid: ~40 d
  }
}

void random_lattice_row(DType type, uint64_t seed, uint8_t* row, int64_t cols) {
  const size_t bytes = row_size(type, cols);
  uint64_t s = seed;
  for (size_t i = 0; i < bytes; i += 8) {
    const uint64_t r = splitmix(s);
    std::memcpy(row + i, &r, std::min<size_t>(8, bytes - i));
  }
  const size_t block = dtype_info(type).type_size;
  const uint16_t d = quant::fp32_to_fp16(random_lattice_d(type));
  for (size_t off = 0; off < bytes; off += block) quant::set_lattice_d(type, row + off, d);
}

// A rows x cols matrix of random values, quantized to `type`, rows split over threads.
std::vector<uint8_t> random_matrix(DType type, int64_t rows, int64_t cols, uint64_t seed) {
  const size_t rb = row_size(type, cols);
  std::vector<uint8_t> out(rb * static_cast<size_t>(rows));
  const int nt = std::max(1u, std::min(16u, std::thread::hardware_concurrency()));
  std::vector<std::thread> th;
  for (int t = 0; t < nt; ++t) {
    th.emplace_back([&, t] {
      std::vector<float> buf(static_cast<size_t>(cols));
      for (int64_t r = t; r < rows; r += nt) {
        const uint64_t row_seed = seed * 0x100000001b3ull + static_cast<uint64_t>(r);
        if (quant::is_lattice_type(type)) {
          random_lattice_row(type, row_seed, out.data() + rb * static_cast<size_t>(r), cols);
          continue;
        }
        fill_row(row_seed, buf.data(), cols);
        quant::quantize_row(type, buf.data(), out.data() + rb * static_cast<size_t>(r), cols);
      }
    });
  }
  for (auto& x : th) x.join();
  return out;
}

void add_vocab(gguf::Writer& w, int64_t n_vocab) {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  tokens.reserve(static_cast<size_t>(n_vocab));
  const char* specials[] = {"<unk>", "<s>", "</s>"};
  const int32_t special_types[] = {2, 3, 3};  // UNKNOWN, CONTROL, CONTROL
  for (int i = 0; i < 3; ++i) {
    tokens.emplace_back(specials[i]);
    scores.push_back(0.0f);
    types.push_back(special_types[i]);
  }
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    tokens.emplace_back(buf);
    scores.push_back(0.0f);
    types.push_back(6);  // BYTE
  }
  for (int64_t i = static_cast<int64_t>(tokens.size()); i < n_vocab; ++i) {
    tokens.push_back("tok" + std::to_string(i));
    scores.push_back(-static_cast<float>(i));
    types.push_back(1);  // NORMAL
  }
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_string_array("tokenizer.ggml.tokens", std::move(tokens));
  w.add_float32_array("tokenizer.ggml.scores", std::move(scores));
  w.add_int32_array("tokenizer.ggml.token_type", std::move(types));
  w.add_uint32("tokenizer.ggml.unknown_token_id", 0);
  w.add_uint32("tokenizer.ggml.bos_token_id", 1);
  w.add_uint32("tokenizer.ggml.eos_token_id", 2);
  w.add_bool("tokenizer.ggml.add_bos_token", true);
  w.add_bool("tokenizer.ggml.add_eos_token", false);
}

}  // namespace

int cmd_gen_random(int argc, char** argv) {
  Args args;
  if (!args.parse(argc, argv, {"--arch", "--shape", "--type", "--output", "--seed"}, {"--help", "-h"})) {
    std::fprintf(stderr, "autoglm gen-random: %s\n%s", args.error().c_str(), kUsage);
    return 2;
  }
  if (args.has("--help") || args.has("-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const std::string arch = args.get("--arch").value_or("llama");
  const auto shape_name = args.get("--shape");
  const auto type_name = args.get("--type");
  const auto output = args.get("--output");
  const auto seed = args.get_int("--seed");
  if (!args.ok()) {
    std::fprintf(stderr, "autoglm gen-random: %s\n", args.error().c_str());
    return 2;
  }
  if (!shape_name || !type_name || !output) {
    std::fprintf(stderr, "autoglm gen-random: --shape, --type and --output are required\n%s", kUsage);
    return 2;
  }
  if (arch != "llama") {
    std::fprintf(stderr, "autoglm gen-random: unsupported --arch '%s' (only llama)\n", arch.c_str());
    return 2;
  }
  const Shape* shape = nullptr;
  for (const Shape& s : kShapes) {
    if (*shape_name == s.name) shape = &s;
  }
  if (shape == nullptr) {
    std::fprintf(stderr, "autoglm gen-random: unknown --shape '%s'\n%s", shape_name->c_str(), kUsage);
    return 2;
  }
  const auto type = dtype_from_name(*type_name);
  if (!type || (*type != DType::F32 && *type != DType::F16 && *type != DType::Q8_0 && *type != DType::Q4_0 &&
                *type != DType::Q4_K && !quant::is_lattice_type(*type))) {
    std::fprintf(stderr, "autoglm gen-random: unsupported --type '%s'\n%s", type_name->c_str(), kUsage);
    return 2;
  }
  const Shape& s = *shape;
  const uint64_t base_seed = static_cast<uint64_t>(seed.value_or(1));
  const int64_t head_dim = s.n_embd / s.n_head, kv = head_dim * s.n_head_kv;

  gguf::Writer w;
  w.add_string("general.architecture", "llama");
  w.add_string("general.name", std::string("random ") + s.name);
  w.add_uint32("general.file_type", file_type_of(*type));
  w.add_uint32("llama.context_length", static_cast<uint32_t>(s.n_ctx));
  w.add_uint32("llama.embedding_length", static_cast<uint32_t>(s.n_embd));
  w.add_uint32("llama.block_count", static_cast<uint32_t>(s.n_layer));
  w.add_uint32("llama.feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.add_uint32("llama.attention.head_count", static_cast<uint32_t>(s.n_head));
  w.add_uint32("llama.attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
  w.add_uint32("llama.rope.dimension_count", static_cast<uint32_t>(head_dim));
  w.add_float32("llama.rope.freq_base", s.rope_base);
  w.add_float32("llama.attention.layer_norm_rms_epsilon", s.rms_eps);
  w.add_uint32("llama.vocab_size", static_cast<uint32_t>(s.n_vocab));
  add_vocab(w, s.n_vocab);

  uint64_t tensor_seed = base_seed * 1000003ull;
  auto matrix = [&](const std::string& name, int64_t rows, int64_t cols) {
    const DType t = type_for_row(*type, cols);
    std::vector<uint8_t> data = random_matrix(t, rows, cols, ++tensor_seed);
    w.add_tensor(name, t, {rows, cols}, data.data(), data.size());
  };
  auto ones = [&](const std::string& name, int64_t n) {
    std::vector<float> v(static_cast<size_t>(n), 1.0f);
    w.add_tensor(name, DType::F32, {n}, v.data(), v.size() * sizeof(float));
  };
  matrix("token_embd.weight", s.n_vocab, s.n_embd);
  ones("output_norm.weight", s.n_embd);
  if (!s.tied) matrix("output.weight", s.n_vocab, s.n_embd);
  for (int64_t i = 0; i < s.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    ones(p + "attn_norm.weight", s.n_embd);
    matrix(p + "attn_q.weight", s.n_embd, s.n_embd);
    matrix(p + "attn_k.weight", kv, s.n_embd);
    matrix(p + "attn_v.weight", kv, s.n_embd);
    matrix(p + "attn_output.weight", s.n_embd, s.n_embd);
    ones(p + "ffn_norm.weight", s.n_embd);
    matrix(p + "ffn_gate.weight", s.n_ff, s.n_embd);
    matrix(p + "ffn_up.weight", s.n_ff, s.n_embd);
    matrix(p + "ffn_down.weight", s.n_embd, s.n_ff);
  }
  if (Status st = w.write(*output); !st.ok()) {
    std::fprintf(stderr, "autoglm gen-random: %s\n", st.to_string().c_str());
    return 1;
  }
  std::fprintf(stderr, "wrote %s: %s, %s\n", output->c_str(), s.name, dtype_name(*type));
  return 0;
}

}  // namespace autoglm::cli
