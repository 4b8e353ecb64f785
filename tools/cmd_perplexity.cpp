// autoglm perplexity: how well a model predicts a text file (lower is better).
#include <cstdio>
#include <fstream>
#include <sstream>

#include "args.h"
#include "autoglm/model.h"
#include "commands.h"

namespace autoglm::cli {

int cmd_perplexity(int argc, char** argv) {
  Args args;
  if (!args.parse(argc, argv, {"--model", "--file", "--window", "--threads", "--kv-type", "--quantize"},
                  {"--no-pack", "--help", "-h"})) {
    std::fprintf(stderr, "autoglm perplexity: %s\n", args.error().c_str());
    return 2;
  }
  const char* usage =
      "usage: autoglm perplexity --model PATH --file TEXT_FILE [--window N] [--threads N] [--kv-type f32|f16|int8]\n"
      "                          [--quantize 8|4] [--no-pack]\n"
      "Scores every token after the first of each window of N tokens (default: the context size).\n"
      "--no-pack keeps the weights in the file's layout (the packed kernels sum in another order: the\n"
      "scores agree to ~1e-4 nats).\n";
  if (args.has("--help") || args.has("-h")) {
    std::fputs(usage, stdout);
    return 0;
  }
  if (!args.get("--model") || !args.get("--file") || !args.positional().empty()) {
    std::fputs(usage, stderr);
    return 2;
  }
  OptimizationConfig oc;
  const auto window = args.get_int("--window", 0, 1 << 20);
  if (auto v = args.get_int("--threads", 0, 1024)) oc.set_threads(static_cast<int>(*v));
  if (auto v = args.get_int("--quantize", 0, 8)) oc.enable_quantization(static_cast<int>(*v));
  if (auto v = args.get("--kv-type")) oc.set_kv_cache_type(*v);
  oc.enable_weight_packing(!args.has("--no-pack"));
  if (window) oc.set_context_size(static_cast<int>(*window));
  if (!args.ok()) {
    std::fprintf(stderr, "autoglm perplexity: %s\n", args.error().c_str());
    return 2;
  }
  std::ifstream in(*args.get("--file"), std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "autoglm perplexity: cannot read %s\n", args.get("--file")->c_str());
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto model = AutoModel::from_pretrained(*args.get("--model"), oc);
  if (!model.ok()) {
    std::fprintf(stderr, "autoglm perplexity: %s\n", model.status().to_string().c_str());
    return 1;
  }
  auto r = model->perplexity(text.str(), window ? static_cast<int32_t>(*window) : 0);
  if (!r.ok()) {
    std::fprintf(stderr, "autoglm perplexity: %s\n", r.status().to_string().c_str());
    return 1;
  }
  std::printf("perplexity %.4f  (nll %.5f nats/token over %lld tokens, %d windows)\n", r->perplexity, r->nll,
              static_cast<long long>(r->tokens_scored), r->windows);
  return 0;
}

}  // namespace autoglm::cli
