// autoglm bench: prompt processing (pp) and generation (tg) speed of one model, through the
// public API only, in llama-bench's terms: pp = a P-token prompt evaluated in one batch,
// tg = N single-token decode steps; each repeated R times after a warm-up, median reported.
// Also peak RSS and the share of the memory-bandwidth roofline decode reaches: all weight
// bytes are read once per decoded token, against a streaming-read bandwidth measured here.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "args.h"
#include "autoglm/model.h"
#include "commands.h"

namespace autoglm::cli {
namespace {

constexpr const char* kUsage =
    "usage: autoglm bench --model PATH [-p 512] [-n 128] [--threads N] [--reps R] [--json]\n"
    "       (-m, -p, -n, -t, -r as in llama-bench; --n-prompt, --n-gen also accepted)\n";

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  double mean = 0, s = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  for (double x : v) s += (x - mean) * (x - mean);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

// Read bandwidth in GB/s: `threads` threads each sum their slice of a 512 MiB buffer; best of
// five passes (the first touches the pages).
double measure_bandwidth(int threads) {
  const size_t n = (size_t{512} << 20) / sizeof(uint64_t);
  std::vector<uint64_t> buf(n);
  for (size_t i = 0; i < n; ++i) buf[i] = i;
  double best = 0;
  for (int pass = 0; pass < 6; ++pass) {
    std::vector<uint64_t> sums(static_cast<size_t>(threads));
    const auto t0 = Clock::now();
    std::vector<std::thread> th;
    for (int t = 0; t < threads; ++t) {
      th.emplace_back([&, t] {
        const size_t b = n * static_cast<size_t>(t) / static_cast<size_t>(threads);
        const size_t e = n * static_cast<size_t>(t + 1) / static_cast<size_t>(threads);
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        size_t i = b;
        for (; i + 4 <= e; i += 4) {
          s0 += buf[i];
          s1 += buf[i + 1];
          s2 += buf[i + 2];
          s3 += buf[i + 3];
        }
        for (; i < e; ++i) s0 += buf[i];
        sums[static_cast<size_t>(t)] = s0 + s1 + s2 + s3;
      });
    }
    for (auto& x : th) x.join();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    uint64_t check = 0;
    for (uint64_t x : sums) check += x;
    if (check == 1) std::fputs("", stderr);  // keeps the sums live
    if (pass > 0) best = std::max(best, static_cast<double>(n * sizeof(uint64_t)) / s / 1e9);
  }
  return best;
}

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// A prompt of exactly `want` tokens where the vocabulary allows: single bytes tokenize to one
// token each in byte-fallback vocabularies; otherwise the closest length found.
std::string make_prompt(const AutoModel& m, int64_t want, int64_t* got) {
  // No spaces: in a byte-fallback vocabulary every letter is then exactly one token.
  const char* letters = "thequickbrownfoxjumpsoveralazydog";
  std::string text;
  int64_t len = want;
  for (int iter = 0; iter < 8; ++iter) {
    text.clear();
    for (int64_t i = 0; static_cast<int64_t>(text.size()) < len; ++i) text += letters[i % 33];
    *got = static_cast<int64_t>(m.tokenize(text).size());
    if (*got == want) break;
    len = std::max<int64_t>(1, len + (want - *got));
  }
  return text;
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  // llama-bench's short options, spelled as the long ones Args understands.
  std::vector<std::string> spelled;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    spelled.push_back(a == "-p" ? "--n-prompt" : a == "-n" ? "--n-gen" : a == "-t" ? "--threads" :
                      a == "-r" ? "--reps" : a == "-m" ? "--model" : a);
  }
  std::vector<char*> av;
  for (auto& a : spelled) av.push_back(a.data());
  Args args;
  if (!args.parse(argc, av.data(), {"--model", "--n-prompt", "--n-gen", "--threads", "--reps"},
                  {"--json", "--help", "-h"})) {
    std::fprintf(stderr, "autoglm bench: %s\n%s", args.error().c_str(), kUsage);
    return 2;
  }
  if (!args.positional().empty()) {
    std::fprintf(stderr, "autoglm bench: unexpected argument '%s'\n%s", args.positional()[0].c_str(), kUsage);
    return 2;
  }
  if (args.has("--help") || args.has("-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const auto model_path = args.get("--model");
  const auto p = args.get_int("--n-prompt");
  const auto n = args.get_int("--n-gen");
  const auto threads = args.get_int("--threads");
  const auto reps = args.get_int("--reps");
  if (!args.ok()) {
    std::fprintf(stderr, "autoglm bench: %s\n", args.error().c_str());
    return 2;
  }
  auto in = [](const std::optional<int64_t>& v, int64_t lo, int64_t hi) { return !v || (*v >= lo && *v <= hi); };
  if (!in(p, 0, 1 << 20) || !in(n, 0, 1 << 20) || !in(threads, 0, 1024) || !in(reps, 1, 1000)) {
    std::fprintf(stderr, "autoglm bench: -p/-n must be in [0, 1048576], --threads in [0, 1024], --reps in [1, 1000]\n");
    return 2;
  }
  if (!model_path) {
    std::fprintf(stderr, "autoglm bench: --model is required\n%s", kUsage);
    return 2;
  }
  const int64_t n_prompt = p.value_or(512), n_gen = n.value_or(128);
  const int n_reps = static_cast<int>(reps.value_or(5));
  OptimizationConfig oc;
  oc.set_threads(static_cast<int>(threads.value_or(0)));
  oc.set_context_size(static_cast<int>(std::max<int64_t>(n_prompt, n_gen + 2) + 16));
  const auto t_load = Clock::now();
  auto model = AutoModel::from_pretrained(*model_path, oc);
  if (!model.ok()) {
    std::fprintf(stderr, "autoglm bench: %s\n", model.status().to_string().c_str());
    return 1;
  }
  const double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - t_load).count();
  const ModelInfo info = model->info();

  GenerationConfig gc;
  gc.temperature = 0.0f;  // greedy: sampling cost stays negligible
  gc.repetition_penalty = 1.0f;

  // pp: the prompt in one batch (and one sampled token, as the engine always samples).
  std::vector<double> pp;
  int64_t pp_tokens = 0;
  if (n_prompt > 0) {
    const std::string prompt = make_prompt(*model, n_prompt, &pp_tokens);
    gc.max_new_tokens = 1;
    for (int r = 0; r <= n_reps; ++r) {
      auto out = model->generate(prompt, gc);
      if (!out.ok()) {
        std::fprintf(stderr, "autoglm bench: %s\n", out.status().to_string().c_str());
        return 1;
      }
      if (r > 0) pp.push_back(static_cast<double>(out->prompt_tokens.size()) / (out->prompt_ms / 1000.0));
    }
  }
  // tg: N decode steps after a one-token prompt (BOS); generate_ms covers N - 1 steps plus
  // sampling, so ask for N + 1 tokens and count the steps actually taken.
  std::vector<double> tg, ms_tok;
  if (n_gen > 0) {
    gc.max_new_tokens = static_cast<int>(n_gen + 1);
    for (int r = 0; r <= n_reps; ++r) {
      auto out = model->generate("", gc);
      if (!out.ok()) {
        std::fprintf(stderr, "autoglm bench: %s\n", out.status().to_string().c_str());
        return 1;
      }
      const double steps = std::max<double>(1.0, static_cast<double>(out->tokens.size()) - 1.0);
      if (r > 0) {
        tg.push_back(steps / (out->generate_ms / 1000.0));
        ms_tok.push_back(out->generate_ms / steps);
      }
    }
  }
  const double rss = peak_rss_mib();  // before the bandwidth probe's buffer
  const double bw = measure_bandwidth(info.n_threads > 0 ? info.n_threads : 1);
  const double tg_med = median(tg), pp_med = median(pp);
  const double decode_gbs = static_cast<double>(info.weight_bytes) * tg_med / 1e9;
  const double roofline = bw > 0 ? decode_gbs / bw : 0.0;

  if (args.has("--json")) {
    std::printf(
        "{\"model\": \"%s\", \"threads\": %d, \"reps\": %d, \"weight_bytes\": %lld, \"load_ms\": %.1f, "
        "\"pp_tokens\": %lld, \"pp_tps\": %.2f, \"pp_tps_sd\": %.2f, \"tg_tokens\": %lld, \"tg_tps\": %.2f, "
        "\"tg_tps_sd\": %.2f, \"ms_per_token\": %.3f, \"peak_rss_mib\": %.1f, \"bandwidth_gbs\": %.2f, "
        "\"decode_gbs\": %.2f, \"roofline_share\": %.3f}\n",
        model_path->c_str(), info.n_threads, n_reps, static_cast<long long>(info.weight_bytes), load_ms,
        static_cast<long long>(pp_tokens), pp_med, stddev(pp), static_cast<long long>(n_gen), tg_med, stddev(tg),
        median(ms_tok), rss, bw, decode_gbs, roofline);
    return 0;
  }
  std::printf("model: %s (%s, %lld layers, %.1f MiB of weights), threads %d, reps %d\n", model_path->c_str(),
              info.architecture.c_str(), static_cast<long long>(info.n_layer),
              static_cast<double>(info.weight_bytes) / (1 << 20), info.n_threads, n_reps);
  std::printf("| test   |        t/s |      +- |  ms/token |\n|--------|-----------:|--------:|----------:|\n");
  if (!pp.empty()) {
    std::printf("| pp%-4lld | %10.2f | %7.2f | %9.3f |\n", static_cast<long long>(pp_tokens), pp_med, stddev(pp),
                1000.0 / pp_med);
  }
  if (!tg.empty()) {
    std::printf("| tg%-4lld | %10.2f | %7.2f | %9.3f |\n", static_cast<long long>(n_gen), tg_med, stddev(tg),
                median(ms_tok));
  }
  std::printf("peak RSS %.1f MiB; load %.0f ms\n", rss, load_ms);
  std::printf("decode reads %.2f GB/s of weights; measured read bandwidth %.2f GB/s; roofline share %.1f%%\n",
              decode_gbs, bw, 100.0 * roofline);
  return 0;
}

}  // namespace autoglm::cli
