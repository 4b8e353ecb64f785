// autoglm run: one prompt in, generated text out on stdout (and nothing else on stdout).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>

#include "args.h"
#include "autoglm/model.h"
#include "commands.h"

namespace autoglm::cli {
namespace {

constexpr const char* kHelp =
    "usage: autoglm run --model PATH [options]\n"
    "\n"
    "  --model PATH          GGUF model file\n"
    "  --prompt TEXT         prompt (default: empty, i.e. only BOS)\n"
    "  --n-predict N         tokens to generate (default 128; -1 = until end of text)\n"
    "  --temp T              temperature (default 0.8; 0 = greedy)\n"
    "  --top-k K             top-k (default 40; 0 = off)\n"
    "  --top-p P             top-p (default 0.95; 1 = off)\n"
    "  --min-p P             min-p (default 0.05; 0 = off)\n"
    "  --repeat-penalty R    repetition penalty (default 1.0 = off)\n"
    "  --repeat-last-n N     tokens the penalty looks back over (default 64)\n"
    "  --seed S              random seed (default: random; the same seed gives the same text)\n"
    "  --threads N           threads (default: all cores)\n"
    "  --ctx-size N          context size in tokens (default: the model's, at most 4096)\n"
    "  --kv-type T           KV cache type: f16 (default), f32 or int8\n"
    "  --quantize BITS       quantize float weights at load: 8 (Q8_0) or 4 (Q4_0)\n"
    "  --no-optimize         skip graph optimization passes\n"
    "  --no-pack             keep the weights in the file's layout (no 16-row SIMD re-layout)\n"
    "  --dump-graph          print the step graph before and after the passes to stderr\n"
    "  --verbose             timings and load details on stderr\n";

}  // namespace

int cmd_run(int argc, char** argv) {
  Args args;
  if (!args.parse(argc, argv,
                  {"--model", "--prompt", "--n-predict", "--temp", "--top-k", "--top-p", "--min-p", "--repeat-penalty",
                   "--repeat-last-n", "--seed", "--threads", "--ctx-size", "--kv-type", "--quantize"},
                  {"--no-optimize", "--no-pack", "--dump-graph", "--verbose", "--help", "-h"})) {
    std::fprintf(stderr, "autoglm run: %s\n", args.error().c_str());
    return 2;
  }
  if (args.has("--help") || args.has("-h")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (!args.get("--model") || !args.positional().empty()) {
    std::fprintf(stderr, "autoglm run: %s\n%s", args.get("--model") ? "unexpected argument" : "--model is required", kHelp);
    return 2;
  }
  OptimizationConfig oc;
  GenerationConfig gc;
  if (auto v = args.get_int("--threads", 0, 1024)) oc.set_threads(static_cast<int>(*v));
  if (auto v = args.get_int("--ctx-size", 0, 1 << 30)) oc.set_context_size(static_cast<int>(*v));
  if (auto v = args.get_int("--quantize", 0, 8)) oc.enable_quantization(static_cast<int>(*v));
  if (auto v = args.get("--kv-type")) oc.set_kv_cache_type(*v);
  oc.enable_graph_optimization(!args.has("--no-optimize"));
  oc.enable_weight_packing(!args.has("--no-pack"));
  if (auto v = args.get_int("--n-predict", -1, 1 << 30)) gc.max_new_tokens = static_cast<int>(*v);
  if (auto v = args.get_float("--temp")) gc.temperature = static_cast<float>(*v);
  if (auto v = args.get_int("--top-k", 0, 1 << 30)) gc.top_k = static_cast<int>(*v);
  if (auto v = args.get_float("--top-p")) gc.top_p = static_cast<float>(*v);
  if (auto v = args.get_float("--min-p")) gc.min_p = static_cast<float>(*v);
  if (auto v = args.get_float("--repeat-penalty")) gc.repetition_penalty = static_cast<float>(*v);
  if (auto v = args.get_int("--repeat-last-n", -1, 1 << 30)) gc.repeat_last_n = static_cast<int>(*v);
  if (auto v = args.get_int("--seed")) {
    gc.seed = static_cast<uint64_t>(*v);
  } else {
    gc.seed = std::random_device{}() | (static_cast<uint64_t>(std::random_device{}()) << 32);
  }
  if (!args.ok()) {
    std::fprintf(stderr, "autoglm run: %s\n", args.error().c_str());
    return 2;
  }
  const bool verbose = args.has("--verbose");

  auto model = AutoModel::from_pretrained(*args.get("--model"), oc);
  if (!model.ok()) {
    std::fprintf(stderr, "autoglm run: %s\n", model.status().to_string().c_str());
    return 1;
  }
  if (args.has("--dump-graph")) {
    std::fprintf(stderr, "== step graph (1 token) before passes ==\n%s== after passes ==\n%s",
                 model->dump_graph(1, false).c_str(), model->dump_graph(1, true).c_str());
  }
  auto out = model->generate(args.get("--prompt").value_or(""), gc, [](std::string_view piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  if (!out.ok()) {
    std::fprintf(stderr, "autoglm run: %s\n", out.status().to_string().c_str());
    return 1;
  }
  if (isatty(STDOUT_FILENO)) std::fputc('\n', stdout);
  if (verbose) {
    const ModelInfo mi = model->info();
    const double n = static_cast<double>(out->tokens.size());
    std::fprintf(stderr,
                 "seed %llu | prompt %zu tokens in %.1f ms (%.1f tok/s) | generated %zu tokens in %.1f ms "
                 "(%.1f tok/s) | stop: %s | %d threads\n",
                 static_cast<unsigned long long>(gc.seed), out->prompt_tokens.size(), out->prompt_ms,
                 out->prompt_ms > 0 ? 1000.0 * static_cast<double>(out->prompt_tokens.size()) / out->prompt_ms : 0.0,
                 out->tokens.size(), out->generate_ms, out->generate_ms > 0 ? 1000.0 * n / out->generate_ms : 0.0,
                 out->stop_reason.c_str(), mi.n_threads);
  }
  return 0;
}

}  // namespace autoglm::cli
